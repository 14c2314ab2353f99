package dev.vmsim.core.cpu;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Access;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchFault;
import dev.vmsim.core.arch.FaultHandler;
import dev.vmsim.core.arch.Mmu;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.testing.TestPageTableFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * A test architecture with a real (software) TLB per CPU, so flushes are observable: translations
 * are cached by page until flushed, and a miss is filled the way hardware fills it (the walker reads
 * the leaf PTE, and the translation is inserted afterwards, still inside the access). Faults are
 * never resolved (SEGV_MAPERR for a missing entry, SEGV_ACCERR for a permission fault). Hooks let a
 * test pause an access between its walk and its TLB fill ({@link #afterWalk}: a shootdown can then
 * run while a walk that read the old PTE has not yet filled the TLB) or between its translation and
 * its memory operation ({@link #afterTranslate}), and observe flushes.
 */
public final class TlbArch implements Arch {
    static final TestPageTableFormat FORMAT = new TestPageTableFormat();

    /** Called by the walker after it read a valid leaf PTE and before it fills the TLB, with the VA. */
    public volatile LongConsumer afterWalk = va -> {};
    /** Called by translate after it resolved a PA (inside the access bracket), with the VA. */
    public volatile LongConsumer afterTranslate = va -> {};
    /** Called by every flushRange with the start. */
    public volatile LongConsumer onFlushRange = va -> {};
    /** Called by every flush of any CPU's TLB (on the flushing thread), after it invalidated. */
    public volatile Runnable onFlush = () -> {};
    /** Runs on each flush of a CPU's TLB, before the entries go. */
    public volatile Runnable beforeFlush = () -> {};

    public static Machine machine(final TlbArch arch, final long frames) {
        return new Machine(arch, frames, 4);
    }

    @Override
    public String name() {
        return "test-tlb";
    }

    @Override
    public PageTableFormat pageTableFormat() {
        return FORMAT;
    }

    @Override
    public Mmu newMmu(final Machine machine, final Cpu cpu) {
        return new TlbMmu(cpu);
    }

    @Override
    public FaultHandler faultHandler() {
        return (cpu, fault, regs) -> ((Fault) fault).present ? SigInfo.SEGV_ACCERR_SIG : SigInfo.SEGV_MAPERR_SIG;
    }

    static final class Fault implements ArchFault {
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
            return "tlb-test fault at 0x" + Long.toHexString(address);
        }
    }

    final class TlbMmu implements Mmu {
        private final Cpu cpu;
        /** va page -> leaf PTE, for this CPU's current mm. Filled by the owner thread; invalidated by any flusher. */
        final ConcurrentHashMap<Long, Long> tlb = new ConcurrentHashMap<>();

        private final Fault fault = new Fault();
        private long hits;
        private long misses;

        TlbMmu(final Cpu cpu) {
            this.cpu = cpu;
        }

        @Override
        public long translate(final long va, final Access kind, final boolean user) {
            final long page = va & ~0xfffL;
            Long pte = tlb.get(page);
            if (pte == null) {
                misses++;
                final PageTables pt = cpu.mm().pageTables();
                final long ptePa = pt.ptePa(va, false);
                final long e = ptePa < 0 ? 0 : pt.readPte(ptePa);
                if ((e & TestPageTableFormat.P) == 0) { // the hardware P bit (a PROT_NONE entry faults)
                    fault.address = va;
                    fault.present = false;
                    return FAULT;
                }
                afterWalk.accept(va);
                tlb.put(page, e); // the fill, after the walk: it may carry a PTE cleared meanwhile
                pte = e;
            } else {
                hits++;
            }
            if (kind == Access.WRITE && !FORMAT.pteWrite(pte)) {
                fault.address = va;
                fault.present = true;
                return FAULT;
            }
            afterTranslate.accept(va);
            return (FORMAT.pfn(pte) << 12) | (va & 0xfff);
        }

        @Override
        public ArchFault lastFault() {
            return fault;
        }

        @Override
        public void switchMm(final MmStruct mm) {
            tlb.clear(); // no ASIDs in this test TLB
        }

        @Override
        public void flushPage(final MmStruct mm, final long va) {
            beforeFlush.run();
            tlb.remove(va & ~0xfffL);
            onFlush.run();
        }

        @Override
        public void flushRange(final MmStruct mm, final long start, final long end) {
            beforeFlush.run();
            tlb.keySet().removeIf(p -> p >= start && p < end);
            onFlushRange.accept(start);
            onFlush.run();
        }

        @Override
        public void flushMm(final MmStruct mm) {
            beforeFlush.run();
            tlb.clear();
            onFlush.run();
        }

        @Override
        public void flushAll() {
            beforeFlush.run();
            tlb.clear();
            onFlush.run();
        }

        @Override
        public long tlbHits() {
            return hits;
        }

        @Override
        public long tlbMisses() {
            return misses;
        }
    }

    /** Whether {@code cpu}'s TLB caches a writable translation of {@code va}. */
    public static boolean cachedWritable(final Cpu cpu, final long va) {
        final Long pte = ((TlbMmu) cpu.mmu()).tlb.get(va & ~0xfffL);
        return pte != null && FORMAT.pteWrite(pte);
    }

    /** Whether {@code cpu}'s TLB caches {@code va}. */
    public static boolean cached(final Cpu cpu, final long va) {
        return ((TlbMmu) cpu.mmu()).tlb.containsKey(va & ~0xfffL);
    }
}
