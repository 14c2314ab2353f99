package dev.vmsim.arch.x86;

import static dev.vmsim.core.fault.VmFault.VM_FAULT_COMPLETED;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_HWPOISON;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_MAJOR;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_OOM;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_RETRY;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_SIGBUS;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_SIGSEGV;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.fault.FaultFlags;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.stat.VmEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** do_user_addr_fault, one test per branch, against a scripted mm core that records every call. */
class X86FaultHandlerTest {
    static final long ADDR = 0x7f00_0000_1000L;
    static final int P = X86PfError.PROT;
    static final int W = X86PfError.WRITE;
    static final int U = X86PfError.USER;

    /** What the core returns, in order, and the calls the handler made. */
    static final class ScriptedOps implements FaultOps {
        final Deque<Vma> perVma = new ArrayDeque<>();
        final Deque<Vma> mmap = new ArrayDeque<>();
        final Deque<Integer> faults = new ArrayDeque<>();
        final List<String> calls = new ArrayList<>();
        final List<Integer> flags = new ArrayList<>();
        boolean signal;
        boolean nonFatalSignal;

        @Override
        public Vma lockVmaUnderRcu(final MmStruct mm, final long address) {
            calls.add("lock_vma_under_rcu");
            return perVma.poll();
        }

        @Override
        public int handleMmFault(final Vma vma, final long address, final int f, final PtRegs regs) {
            calls.add("handle_mm_fault");
            flags.add(f);
            return faults.remove();
        }

        @Override
        public void vmaEndRead(final Vma vma) {
            calls.add("vma_end_read");
        }

        @Override
        public Vma lockMmAndFindVma(final MmStruct mm, final long address, final PtRegs regs) {
            calls.add("lock_mm_and_find_vma");
            return mmap.poll();
        }

        @Override
        public void mmapReadUnlock(final MmStruct mm) {
            calls.add("mmap_read_unlock");
        }

        @Override
        public void count(final MmStruct mm, final VmEvent event) {
            calls.add(event.name());
        }

        @Override
        public boolean fatalSignalPending() {
            return signal;
        }

        @Override
        public boolean signalPending() {
            return signal || nonFatalSignal;
        }
    }

    final ScriptedOps ops = new ScriptedOps();
    final Machine machine = new Machine(new X86Arch(), 256, 2);
    final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);

    static Vma vma(final long flags) {
        final Vma v = new Vma();
        v.vmStart = ADDR & ~0xFFFFFL;
        v.vmEnd = v.vmStart + (1 << 20);
        v.vmFlags = flags;
        return v;
    }

    static final Vma RW_VMA = vma(VmFlags.VM_READ | VmFlags.VM_WRITE);
    static final Vma RO_VMA = vma(VmFlags.VM_READ);

    int fault(final int code, final PtRegs regs) {
        return fault(new X86FaultHandler(ops, X86PageTableFormat.FOUR_LEVEL, false, false), code, regs);
    }

    int fault(final X86FaultHandler h, final int code, final PtRegs regs) {
        return h.handle(mm, X86PageFault.pageFault(ADDR, code), regs);
    }

    @Test
    void perVmaSuccessNeverTakesTheMmapPath() {
        ops.perVma.add(RW_VMA);
        ops.faults.add(0);
        assertEquals(SigInfo.OK, fault(W | U, PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "handle_mm_fault", "vma_end_read", "VMA_LOCK_SUCCESS"), ops.calls);
        assertEquals(
                FaultFlags.FAULT_FLAG_DEFAULT
                        | FaultFlags.FAULT_FLAG_WRITE
                        | FaultFlags.FAULT_FLAG_USER
                        | FaultFlags.FAULT_FLAG_VMA_LOCK,
                ops.flags.get(0));
    }

    @Test
    void accessErrorUnderVmaLockIsAccerrAndCountsSuccess() {
        ops.perVma.add(RO_VMA);
        assertEquals(SigInfo.SEGV_ACCERR_SIG, fault(P | W | U, PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "vma_end_read", "VMA_LOCK_SUCCESS"), ops.calls);
    }

    @Test
    void retryUnderVmaLockFallsBackWithoutTriedUnlessMajor() {
        ops.perVma.add(RW_VMA);
        ops.mmap.add(RW_VMA);
        ops.faults.add(VM_FAULT_RETRY);
        ops.faults.add(0);
        assertEquals(SigInfo.OK, fault(W | U, PtRegs.USER));
        assertEquals(
                List.of(
                        "lock_vma_under_rcu",
                        "handle_mm_fault",
                        "VMA_LOCK_RETRY",
                        "lock_mm_and_find_vma",
                        "handle_mm_fault",
                        "mmap_read_unlock"),
                ops.calls);
        assertEquals(0, ops.flags.get(1) & FaultFlags.FAULT_FLAG_TRIED);
        assertEquals(0, ops.flags.get(1) & FaultFlags.FAULT_FLAG_VMA_LOCK);
    }

    @Test
    void majorRetryUnderVmaLockFallsBackWithTried() {
        ops.perVma.add(RW_VMA);
        ops.mmap.add(RW_VMA);
        ops.faults.add(VM_FAULT_RETRY | VM_FAULT_MAJOR);
        ops.faults.add(VM_FAULT_MAJOR);
        assertEquals(SigInfo.OK, fault(W | U, PtRegs.USER));
        assertEquals(FaultFlags.FAULT_FLAG_TRIED, ops.flags.get(1) & FaultFlags.FAULT_FLAG_TRIED);
    }

    @Test
    void noVmaFromLockMmAndFindVmaIsMaperr() {
        final List<X86FaultRecord> recs = new ArrayList<>();
        final X86FaultHandler h = new X86FaultHandler(ops, X86PageTableFormat.FOUR_LEVEL, false, false);
        h.setTrace(recs::add);
        assertEquals(SigInfo.SEGV_MAPERR_SIG, fault(h, U, PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "lock_mm_and_find_vma"), ops.calls);
        assertEquals(1, recs.size());
        assertTrue(
                recs.get(0).describe().startsWith("#PF err=0x4 [U] cr2=0x7f0000001000 user:"),
                recs.get(0).describe());
        assertTrue(recs.get(0).describe().endsWith("=> SEGV_MAPERR"));
    }

    @Test
    void accessErrorChecksPkFirst() {
        assertTrue(X86FaultHandler.accessError(U | X86PfError.PK, RW_VMA));
        ops.mmap.add(RW_VMA);
        assertEquals(SigInfo.SEGV_PKUERR_SIG, fault(P | U | X86PfError.PK, PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "lock_mm_and_find_vma", "mmap_read_unlock"), ops.calls);
    }

    @Test
    void accessErrorOrder() {
        assertTrue(X86FaultHandler.accessError(W | U, RO_VMA), "write to non-writable");
        assertTrue(!X86FaultHandler.accessError(W | U, RW_VMA));
        assertTrue(X86FaultHandler.accessError(P | U, RW_VMA), "PROT read of a present page");
        assertTrue(X86FaultHandler.accessError(U, vma(VmFlags.VM_NONE)), "not-present read of PROT_NONE");
        assertTrue(
                !X86FaultHandler.accessError(U | X86PfError.INSTR, RO_VMA), "fetch from readable no-exec: mapped NX");
        assertTrue(X86FaultHandler.accessError(
                W | U, vma(VmFlags.VM_READ | VmFlags.VM_WRITE | X86FaultHandler.VM_SHADOW_STACK)));
        assertTrue(X86FaultHandler.accessError(U | X86PfError.SHSTK, RW_VMA), "shadow-stack access to a normal VMA");
    }

    @Test
    void completedReturnsWithoutUnlocking() {
        ops.mmap.add(RW_VMA);
        ops.faults.add(VM_FAULT_COMPLETED);
        assertEquals(SigInfo.OK, fault(U, PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "lock_mm_and_find_vma", "handle_mm_fault"), ops.calls);
    }

    @Test
    void retryLoopAddsTried() {
        ops.mmap.add(RW_VMA);
        ops.mmap.add(RW_VMA);
        ops.faults.add(VM_FAULT_RETRY);
        ops.faults.add(0);
        assertEquals(SigInfo.OK, fault(U, PtRegs.USER));
        assertEquals(0, ops.flags.get(0) & FaultFlags.FAULT_FLAG_TRIED);
        assertEquals(FaultFlags.FAULT_FLAG_TRIED, ops.flags.get(1) & FaultFlags.FAULT_FLAG_TRIED);
        assertEquals(
                2, ops.calls.stream().filter("lock_mm_and_find_vma"::equals).count());
    }

    /** SIG-06: a fault retried under the mmap lock with a fatal signal pending returns, killed, without another retry. */
    @Test
    void signalPendingWithRetryReturns() {
        ops.signal = true;
        ops.mmap.add(RW_VMA);
        ops.faults.add(VM_FAULT_RETRY);
        assertEquals(X86FaultHandler.KILLED, fault(U, PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "lock_mm_and_find_vma", "handle_mm_fault"), ops.calls);
    }

    @Test
    void signalPendingWithRetryUnderVmaLockReturnsBeforeMmapPath() {
        ops.signal = true;
        ops.perVma.add(RW_VMA);
        ops.faults.add(VM_FAULT_RETRY);
        final X86FaultHandler mmTree = new X86FaultHandler(ops, X86PageTableFormat.FOUR_LEVEL, true, false);
        assertEquals(SigInfo.BUS_ADRERR_SIG, fault(mmTree, 0, PtRegs.KERNEL_UACCESS));
        assertEquals(List.of("lock_vma_under_rcu", "handle_mm_fault", "VMA_LOCK_RETRY"), ops.calls);
    }

    /** SIG-07: a non-fatal signal ends a retried user fault before the mmap path; the access is taken again. */
    @Test
    void nonFatalSignalEndsARetriedUserFaultEarly() {
        ops.nonFatalSignal = true;
        ops.perVma.add(RW_VMA);
        ops.faults.add(VM_FAULT_RETRY);
        assertEquals(SigInfo.OK, fault(U, PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "handle_mm_fault", "VMA_LOCK_RETRY"), ops.calls);
    }

    /** SIG-07: for a kernel-mode fault only a fatal signal counts; the retry goes on under the mmap lock. */
    @Test
    void nonFatalSignalDoesNotEndAKernelModeFault() {
        ops.nonFatalSignal = true;
        ops.perVma.add(RW_VMA);
        ops.faults.add(VM_FAULT_RETRY);
        ops.mmap.add(RW_VMA);
        ops.faults.add(0);
        final X86FaultHandler mmTree = new X86FaultHandler(ops, X86PageTableFormat.FOUR_LEVEL, true, false);
        assertEquals(SigInfo.OK, fault(mmTree, 0, PtRegs.KERNEL_UACCESS));
        assertTrue(ops.calls.contains("lock_mm_and_find_vma"), ops.calls.toString());
    }

    /** pagefault_out_of_memory kills nobody: the user fault returns for a retry, counted; no signal. */
    @Test
    void oomGoesToPagefaultOutOfMemoryAndRetries() {
        ops.perVma.add(RW_VMA);
        ops.faults.add(VM_FAULT_OOM);
        assertEquals(SigInfo.PAGEFAULT_OOM, fault(U, PtRegs.USER));
        assertEquals(
                List.of("lock_vma_under_rcu", "handle_mm_fault", "vma_end_read", "VMA_LOCK_SUCCESS", "PAGEFAULT_OOM"),
                ops.calls);
    }

    @Test
    void sigbusAndHwpoison() {
        ops.perVma.add(RW_VMA);
        ops.faults.add(VM_FAULT_SIGBUS);
        assertEquals(SigInfo.BUS_ADRERR_SIG, fault(U, PtRegs.USER));
        ops.perVma.add(RW_VMA);
        ops.faults.add(VM_FAULT_HWPOISON);
        assertEquals(SigInfo.make(SigInfo.SIGBUS, SigInfo.BUS_MCEERR_AR), fault(U, PtRegs.USER));
        ops.perVma.add(RW_VMA);
        ops.faults.add(VM_FAULT_SIGSEGV);
        assertEquals(SigInfo.SEGV_MAPERR_SIG, fault(U, PtRegs.USER));
    }

    @Test
    void kernelFaultWithoutExtableOopsesWithoutTakingAnyLockUnderSmap() {
        final X86FaultHandler h = new X86FaultHandler(ops, X86PageTableFormat.FOUR_LEVEL, false, true);
        assertEquals(SigInfo.OOPS, fault(h, W, PtRegs.KERNEL_BUG));
        assertEquals(List.of(), ops.calls);
    }

    @Test
    void mainlineGateSkipsPerVmaForKernelFaults() {
        // oracle 13: lock_mm_and_find_vma's trylock fails for a kernel fault without extable → NULL → oops
        assertEquals(SigInfo.OOPS, fault(W, PtRegs.KERNEL_BUG));
        assertEquals(List.of("lock_mm_and_find_vma"), ops.calls);
        ops.calls.clear();
        assertEquals(SigInfo.SEGV_MAPERR_SIG, fault(W, PtRegs.KERNEL_UACCESS), "fixup: -EFAULT");
        assertEquals(List.of("lock_mm_and_find_vma"), ops.calls);
    }

    @Test
    void mmTreeSwitchTriesPerVmaForKernelFaults() {
        final X86FaultHandler h = new X86FaultHandler(ops, X86PageTableFormat.FOUR_LEVEL, true, false);
        ops.perVma.add(RW_VMA);
        ops.faults.add(0);
        assertEquals(SigInfo.OK, fault(h, W, PtRegs.KERNEL_UACCESS));
        assertEquals(List.of("lock_vma_under_rcu", "handle_mm_fault", "vma_end_read", "VMA_LOCK_SUCCESS"), ops.calls);
        assertEquals(0, ops.flags.get(0) & FaultFlags.FAULT_FLAG_USER);
    }

    @Test
    void rsvdAndKernelFetchOops() {
        assertEquals(SigInfo.OOPS, fault(P | U | X86PfError.RSVD, PtRegs.USER));
        assertEquals(SigInfo.OOPS, fault(X86PfError.INSTR, PtRegs.KERNEL_UACCESS));
        assertEquals(List.of(), ops.calls);
    }

    @Test
    void kernelAddressFromUserModeIsMaperrWithProtReported() {
        final List<X86FaultRecord> recs = new ArrayList<>();
        final X86FaultHandler h = new X86FaultHandler(ops, X86PageTableFormat.FOUR_LEVEL, false, false);
        h.setTrace(recs::add);
        assertTrue(h.faultInKernelSpace(0x7fff_ffff_f000L));
        assertEquals(
                SigInfo.SEGV_MAPERR_SIG, h.handle(mm, X86PageFault.pageFault(0xffff_8880_0000_0000L, U), PtRegs.USER));
        assertEquals(List.of(), ops.calls);
        assertEquals(U | P, recs.get(0).reportedErrorCode());
        assertEquals(SigInfo.OOPS, h.handle(mm, X86PageFault.pageFault(0xffff_8880_0000_0000L, 0), PtRegs.KERNEL_BUG));
    }

    @Test
    void nonCanonicalIsMaperr() {
        final X86FaultHandler h = new X86FaultHandler(ops, X86PageTableFormat.FOUR_LEVEL, false, false);
        assertEquals(SigInfo.SEGV_MAPERR_SIG, h.handle(mm, X86PageFault.nonCanonical(1L << 50), PtRegs.USER));
        assertEquals(SigInfo.OOPS, h.handle(mm, X86PageFault.nonCanonical(1L << 50), PtRegs.KERNEL_BUG));
    }

    @Test
    void noMmIsBadAreaNosemaphore() {
        final X86FaultHandler h = new X86FaultHandler(ops, X86PageTableFormat.FOUR_LEVEL, false, false);
        assertEquals(SigInfo.SEGV_MAPERR_SIG, h.handle((MmStruct) null, X86PageFault.pageFault(ADDR, U), PtRegs.USER));
        assertEquals(List.of(), ops.calls);
    }

    @Test
    void foundByServiceLoader() {
        assertTrue(ArchRegistry.find("x86_64") instanceof X86Arch);
        assertEquals(4, ArchRegistry.find("x86_64").pageTableFormat().levels());
        assertEquals(5, X86Arch.la57().pageTableFormat().levels());
    }
}
