package dev.vmsim.core.testing;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Access;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchFault;
import dev.vmsim.core.arch.FaultHandler;
import dev.vmsim.core.arch.Mmu;
import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.fault.FaultFlags;
import dev.vmsim.core.fault.Memory;
import dev.vmsim.core.fault.VmFault;
import dev.vmsim.core.lock.LockVma;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.phys.PhysicalMemory;
import dev.vmsim.core.stat.VmEvent;

/**
 * A minimal architecture for core's own tests: {@link TestPageTableFormat}, a TLB-less software
 * walker that sets A/D with compare-and-set, and a fault handler that follows the generic order of
 * do_page_fault (per-VMA attempt, access check, lock_mm_and_find_vma fallback, retry loop). The
 * real front ends live in vmsim-arch-x86 and vmsim-arch-arm64.
 */
public final class TestArch implements Arch {
    private static final TestPageTableFormat FORMAT = new TestPageTableFormat();

    /** Runs on every page or range flush of a CPU's TLB (tests observe what is held then). */
    public volatile Runnable onFlush = () -> {};

    /** A machine on this architecture with {@code frames} frames. */
    public static Machine machine(final long frames) {
        return new Machine(new TestArch(), frames, 16);
    }

    @Override
    public String name() {
        return "test";
    }

    @Override
    public PageTableFormat pageTableFormat() {
        return FORMAT;
    }

    @Override
    public Mmu newMmu(final Machine machine, final Cpu cpu) {
        return new WalkOnlyMmu(machine.memory(), this);
    }

    @Override
    public FaultHandler faultHandler() {
        return TestArch::handle;
    }

    /** The fault record: address, access kind, and whether the leaf was present. */
    public static final class TestFault implements ArchFault {
        long address;
        Access kind;
        boolean present;

        @Override
        public long address() {
            return address;
        }

        @Override
        public long syndrome() {
            return (present ? 1 : 0) | (kind == Access.WRITE ? 2 : 0) | (kind == Access.EXEC ? 16 : 0);
        }

        public Access kind() {
            return kind;
        }

        @Override
        public String describe() {
            return "test fault " + kind + (present ? " prot" : " not-present") + " at 0x" + Long.toHexString(address);
        }
    }

    static final class WalkOnlyMmu implements Mmu {
        private final PhysicalMemory mem;
        private final TestFault fault = new TestFault();
        private long root = -1;
        private long walks;
        private final TestArch arch;

        WalkOnlyMmu(final PhysicalMemory mem, final TestArch arch) {
            this.mem = mem;
            this.arch = arch;
        }

        @Override
        public long translate(final long va, final Access kind, final boolean user) {
            walks++;
            long table = root;
            if (table < 0 || Long.compareUnsigned(va, FORMAT.taskSize()) >= 0) {
                return fault(va, kind, false);
            }
            for (int level = FORMAT.levels() - 1; level >= 0; level--) {
                final long slot = (table << 12) + 8L * FORMAT.index(va, level);
                long e = mem.getLongAcquire(slot);
                if ((e & TestPageTableFormat.P) == 0) {
                    return fault(va, kind, false);
                }
                if (level == 0) {
                    if ((user && (e & TestPageTableFormat.US) == 0)
                            || (kind == Access.WRITE && (e & TestPageTableFormat.RW) == 0)
                            || (kind == Access.EXEC && (e & TestPageTableFormat.NX) != 0)) {
                        return fault(va, kind, true);
                    }
                    final long want = e | TestPageTableFormat.A | (kind == Access.WRITE ? TestPageTableFormat.D : 0);
                    while (e != want && !mem.compareAndSetLong(slot, e, want)) {
                        e = mem.getLongAcquire(slot);
                        if ((e & TestPageTableFormat.P) == 0) {
                            return fault(va, kind, false);
                        }
                    }
                    return (FORMAT.pfn(e) << 12) | (va & 0xfff);
                }
                table = FORMAT.pfn(e);
            }
            throw new AssertionError("unreachable");
        }

        private long fault(final long va, final Access kind, final boolean present) {
            fault.address = va;
            fault.kind = kind;
            fault.present = present;
            return FAULT;
        }

        @Override
        public ArchFault lastFault() {
            return fault;
        }

        @Override
        public void switchMm(final MmStruct mm) {
            root = mm.pageTables().rootPfn();
        }

        @Override
        public void flushPage(final MmStruct mm, final long va) {
            arch.onFlush.run();
        }

        @Override
        public void flushRange(final MmStruct mm, final long start, final long end) {
            arch.onFlush.run();
        }

        @Override
        public void flushMm(final MmStruct mm) {}

        @Override
        public void flushAll() {}

        @Override
        public long tlbHits() {
            return 0;
        }

        @Override
        public long tlbMisses() {
            return walks;
        }
    }

    private static boolean accessError(final TestFault f, final Vma vma) {
        final long need = f.kind == Access.WRITE
                ? VmFlags.VM_WRITE
                : f.kind == Access.EXEC ? VmFlags.VM_EXEC : (VmFlags.VM_READ | VmFlags.VM_WRITE);
        return (vma.vmFlags & need) == 0;
    }

    /** The generic fault order of §11.3 (do_page_fault), without architecture specifics. */
    static int handle(final Cpu cpu, final ArchFault archFault, final PtRegs regs) {
        final TestFault f = (TestFault) archFault;
        final MmStruct mm = cpu.mm();
        final long addr = f.address;
        int flags = FaultFlags.FAULT_FLAG_DEFAULT;
        if (regs.userMode()) {
            flags |= FaultFlags.FAULT_FLAG_USER;
        }
        if (f.kind == Access.WRITE) {
            flags |= FaultFlags.FAULT_FLAG_WRITE;
        } else if (f.kind == Access.EXEC) {
            flags |= FaultFlags.FAULT_FLAG_INSTRUCTION;
        }
        int fault;
        final Vma locked = regs.userMode() ? LockVma.underRcu(mm, addr) : null;
        if (locked != null) {
            if (accessError(f, locked)) {
                VmaLock.endRead(locked);
                mm.machine().vmstat().count(VmEvent.VMA_LOCK_SUCCESS);
                return SigInfo.SEGV_ACCERR_SIG;
            }
            fault = Memory.handleMmFault(locked, addr, flags | FaultFlags.FAULT_FLAG_VMA_LOCK, regs);
            if ((fault & (VmFault.VM_FAULT_RETRY | VmFault.VM_FAULT_COMPLETED)) == 0) {
                VmaLock.endRead(locked);
            }
            if ((fault & VmFault.VM_FAULT_RETRY) == 0) {
                mm.machine().vmstat().count(VmEvent.VMA_LOCK_SUCCESS);
                return result(fault);
            }
            mm.machine().vmstat().count(VmEvent.VMA_LOCK_RETRY);
            if ((fault & VmFault.VM_FAULT_MAJOR) != 0) {
                flags |= FaultFlags.FAULT_FLAG_TRIED;
            }
        }
        for (; ; ) {
            final Vma vma = LockVma.lockMmAndFindVma(mm, addr, regs);
            if (vma == null) {
                return SigInfo.SEGV_MAPERR_SIG;
            }
            if (accessError(f, vma)) {
                mm.mmapLock().readUnlock();
                return SigInfo.SEGV_ACCERR_SIG;
            }
            fault = Memory.handleMmFault(vma, addr, flags, regs);
            if ((fault & VmFault.VM_FAULT_COMPLETED) != 0) {
                return SigInfo.OK;
            }
            if ((fault & VmFault.VM_FAULT_RETRY) != 0) {
                flags |= FaultFlags.FAULT_FLAG_TRIED;
                continue;
            }
            mm.mmapLock().readUnlock();
            return result(fault);
        }
    }

    private static int result(final int fault) {
        if ((fault & VmFault.VM_FAULT_ERROR) == 0) {
            return SigInfo.OK;
        }
        if ((fault & VmFault.VM_FAULT_OOM) != 0) {
            return SigInfo.make(SigInfo.SIGKILL, SigInfo.SI_KERNEL);
        }
        if ((fault & (VmFault.VM_FAULT_SIGBUS | VmFault.VM_FAULT_HWPOISON | VmFault.VM_FAULT_HWPOISON_LARGE)) != 0) {
            return SigInfo.BUS_ADRERR_SIG;
        }
        return SigInfo.SEGV_MAPERR_SIG;
    }
}
