package dev.vmsim.core.race;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Access;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchFault;
import dev.vmsim.core.arch.FaultHandler;
import dev.vmsim.core.arch.Mmu;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.testing.TestPageTableFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * A test architecture whose per-CPU software TLB is filled the way hardware fills it: the walker
 * reads the leaf PTE, and the translation is inserted afterwards, still inside the access. The
 * {@link #afterWalk} hook runs between the two, so a test can let a shootdown run while a walk
 * that read the old PTE has not yet filled the TLB. Faults are never resolved (SEGV_MAPERR for a
 * missing entry, SEGV_ACCERR for a permission fault).
 */
final class WalkThenFillArch implements Arch {
    private static final TestPageTableFormat FORMAT = new TestPageTableFormat();

    /** Called by the walker after it read a valid leaf PTE and before it fills the TLB, with the VA. */
    volatile LongConsumer afterWalk = va -> {};
    /** Called by every flush of any CPU's TLB (on the flushing thread), after it invalidated. */
    volatile Runnable onFlush = () -> {};

    static Machine machine(final WalkThenFillArch arch, final long frames) {
        return new Machine(arch, frames, 4);
    }

    @Override
    public String name() {
        return "test-walk-then-fill";
    }

    @Override
    public PageTableFormat pageTableFormat() {
        return FORMAT;
    }

    @Override
    public Mmu newMmu(final Machine machine, final Cpu cpu) {
        return new FillMmu(cpu);
    }

    @Override
    public FaultHandler faultHandler() {
        return (cpu, fault, regs) -> ((Fault) fault).present ? SigInfo.SEGV_ACCERR_SIG : SigInfo.SEGV_MAPERR_SIG;
    }

    /** Whether {@code cpu}'s TLB holds a translation for {@code va}. */
    static boolean cached(final Cpu cpu, final long va) {
        return ((FillMmu) cpu.mmu()).tlb.containsKey(va & ~0xfffL);
    }

    private static final class Fault implements ArchFault {
        long address;
        boolean present;

        @Override
        public long address() {
            return address;
        }

        @Override
        public long syndrome() {
            return present ? 1 : 0;
        }

        @Override
        public String describe() {
            return "walk-then-fill fault at 0x" + Long.toHexString(address);
        }
    }

    private final class FillMmu implements Mmu {
        private final Cpu cpu;
        /** VA page → leaf PTE. Filled by the owner thread; invalidated by any flusher. */
        final ConcurrentHashMap<Long, Long> tlb = new ConcurrentHashMap<>();
        private final Fault fault = new Fault();

        FillMmu(final Cpu cpu) {
            this.cpu = cpu;
        }

        @Override
        public long translate(final long va, final Access kind, final boolean user) {
            final long page = va & ~0xfffL;
            Long pte = tlb.get(page);
            if (pte == null) {
                final PageTables pt = cpu.mm().pageTables();
                final long ptePa = pt.ptePa(va, false);
                final long e = ptePa < 0 ? 0 : pt.readPte(ptePa);
                if ((e & TestPageTableFormat.P) == 0) {
                    return fault(va, false);
                }
                afterWalk.accept(va);
                tlb.put(page, e); // the fill, after the walk: it may carry a PTE cleared meanwhile
                pte = e;
            }
            if (kind == Access.WRITE && !FORMAT.pteWrite(pte)) {
                return fault(va, true);
            }
            return (FORMAT.pfn(pte) << 12) | (va & 0xfff);
        }

        private long fault(final long va, final boolean present) {
            fault.address = va;
            fault.present = present;
            return FAULT;
        }

        @Override
        public ArchFault lastFault() {
            return fault;
        }

        @Override
        public void switchMm(final MmStruct mm) {
            tlb.clear();
        }

        @Override
        public void flushPage(final MmStruct mm, final long va) {
            tlb.remove(va & ~0xfffL);
            onFlush.run();
        }

        @Override
        public void flushRange(final MmStruct mm, final long start, final long end) {
            tlb.keySet().removeIf(p -> p >= start && p < end);
            onFlush.run();
        }

        @Override
        public void flushMm(final MmStruct mm) {
            tlb.clear();
            onFlush.run();
        }

        @Override
        public void flushAll() {
            tlb.clear();
            onFlush.run();
        }

        @Override
        public long tlbHits() {
            return 0;
        }

        @Override
        public long tlbMisses() {
            return 0;
        }
    }
}
