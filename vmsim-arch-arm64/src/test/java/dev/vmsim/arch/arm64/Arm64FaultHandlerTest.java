package dev.vmsim.arch.arm64;

import static dev.vmsim.core.fault.FaultFlags.*;
import static dev.vmsim.core.fault.VmFault.*;
import static dev.vmsim.core.mm.VmFlags.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** One test per branch of do_page_fault (kernel-semantics §11.3) and per fault_info row. */
class Arm64FaultHandlerTest {
    private static final long ADDR = 0x1000_0123L;
    private static final long KERNEL_ADDR = 0xffff_8000_1000_0000L;

    private final ScriptedFaultOps ops = new ScriptedFaultOps();
    private final Arm64FaultHandler handler = new Arm64FaultHandler(ops, 1L << 48, false);
    private final Machine machine = new Machine(new Arm64Arch(Arm64Config.DEFAULT, FaultOps.KERNEL), 64, 2);
    private final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);

    private static Arm64Fault dabt(final int fsc, final boolean write, final boolean el0, final long far) {
        return new Arm64Fault(Esr.make(el0 ? Esr.EC_DABT_LOW : Esr.EC_DABT_CUR, fsc | (write ? Esr.WNR : 0)), far);
    }

    private static Arm64Fault iabt(final int fsc, final boolean el0) {
        return new Arm64Fault(Esr.make(el0 ? Esr.EC_IABT_LOW : Esr.EC_IABT_CUR, fsc), ADDR);
    }

    private int run(final Arm64Fault f, final PtRegs regs) {
        return handler.doMemAbort(mm, f, regs);
    }

    @Test
    void noMmGoesToNoContext() {
        assertEquals(
                Arm64FaultHandler.EFAULT_FIXUP,
                handler.doMemAbort(null, dabt(0x07, false, false, ADDR), PtRegs.KERNEL_UACCESS));
        assertEquals(SigInfo.OOPS, handler.doMemAbort(null, dabt(0x07, false, false, ADDR), PtRegs.KERNEL_BUG));
        assertTrue(ops.calls.isEmpty());
    }

    @Test
    void el0FetchFromNonExecVmaIsAccerrOnThePerVmaPath() { // oracle 14
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ | VM_WRITE);
        assertEquals(SigInfo.SEGV_ACCERR_SIG, run(iabt(0x0f, true), PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "vma_end_read"), ops.calls);
        assertEquals(1, ops.count(VmEvent.VMA_LOCK_SUCCESS));
    }

    @Test
    void el0FetchFromExecVmaPassesInstructionFlag() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ | VM_EXEC);
        assertEquals(SigInfo.OK, run(iabt(0x07, true), PtRegs.USER));
        final int flags = ops.faultFlags.get(0);
        assertTrue((flags & FAULT_FLAG_INSTRUCTION) != 0);
        assertTrue((flags & FAULT_FLAG_VMA_LOCK) != 0);
        assertTrue((flags & FAULT_FLAG_USER) != 0);
        assertEquals(0, flags & FAULT_FLAG_WRITE);
    }

    @Test
    void writeAbortNeedsVmWrite() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ);
        assertEquals(SigInfo.SEGV_ACCERR_SIG, run(dabt(0x0f, true, true, ADDR), PtRegs.USER));
        ops.perVmaResult = ScriptedFaultOps.vma(VM_WRITE);
        assertEquals(SigInfo.OK, run(dabt(0x07, true, true, ADDR), PtRegs.USER));
        assertTrue((ops.faultFlags.get(0) & FAULT_FLAG_WRITE) != 0);
    }

    @Test
    void cacheMaintenanceWithWnrIsARead() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ);
        final Arm64Fault f = new Arm64Fault(Esr.make(Esr.EC_DABT_LOW, 0x07 | Esr.WNR | Esr.CM), ADDR);
        assertEquals(SigInfo.OK, run(f, PtRegs.USER));
        assertEquals(0, ops.faultFlags.get(0) & FAULT_FLAG_WRITE);
    }

    @Test
    void readNeedsReadOrWriteAndExecOnlyWithoutEpan() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_WRITE);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER), "write implies read");
        ops.perVmaResult = ScriptedFaultOps.vma(VM_EXEC);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER), "exec implies read without EPAN");
        final Arm64FaultHandler epan = new Arm64FaultHandler(ops, 1L << 48, true);
        assertEquals(SigInfo.SEGV_ACCERR_SIG, epan.doMemAbort(mm, dabt(0x07, false, true, ADDR), PtRegs.USER));
        ops.perVmaResult = ScriptedFaultOps.vma(VM_NONE);
        assertEquals(SigInfo.SEGV_ACCERR_SIG, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
    }

    @Test
    void perVmaSuccessReleasesTheVmaLockAndCountsSuccess() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ | VM_WRITE);
        assertEquals(SigInfo.OK, run(dabt(0x07, true, true, ADDR), PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "handle_mm_fault", "vma_end_read"), ops.calls);
        assertEquals(1, ops.count(VmEvent.VMA_LOCK_SUCCESS));
        assertEquals(0, ops.count(VmEvent.VMA_LOCK_RETRY));
    }

    @Test
    void perVmaCompletedLeavesTheLockAlone() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ);
        ops.faults.add(VM_FAULT_COMPLETED);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "handle_mm_fault"), ops.calls);
        assertEquals(1, ops.count(VmEvent.VMA_LOCK_SUCCESS));
    }

    @Test
    void perVmaErrorIsDeliveredAfterSuccessCount() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ);
        ops.faults.add(VM_FAULT_SIGBUS);
        assertEquals(SigInfo.BUS_ADRERR_SIG, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        assertEquals(1, ops.count(VmEvent.VMA_LOCK_SUCCESS));
    }

    @Test
    void perVmaRetryFallsBackToTheMmapLockWithTriedOnlyIfMajor() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ);
        ops.mmapResult = ops.perVmaResult;
        ops.faults.add(VM_FAULT_RETRY);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        assertEquals(
                List.of(
                        "lock_vma_under_rcu",
                        "handle_mm_fault",
                        "lock_mm_and_find_vma",
                        "handle_mm_fault",
                        "mmap_read_unlock"),
                ops.calls);
        assertEquals(1, ops.count(VmEvent.VMA_LOCK_RETRY));
        assertEquals(0, ops.count(VmEvent.VMA_LOCK_SUCCESS));
        assertEquals(0, ops.faultFlags.get(1) & (FAULT_FLAG_TRIED | FAULT_FLAG_VMA_LOCK));
        ops.calls.clear();
        ops.faultFlags.clear();
        ops.faults.add(VM_FAULT_RETRY | VM_FAULT_MAJOR);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        assertTrue((ops.faultFlags.get(1) & FAULT_FLAG_TRIED) != 0);
    }

    @Test
    void perVmaRetryWithSignalPendingReturnsToUser() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ);
        ops.faults.add(VM_FAULT_RETRY);
        ops.signalPending = true;
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "handle_mm_fault"), ops.calls);
    }

    /** SIG-07: a non-fatal signal ends a retried user fault before the mmap path. */
    @Test
    void perVmaRetryWithANonFatalSignalReturnsToUser() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ);
        ops.faults.add(VM_FAULT_RETRY);
        ops.nonFatalSignal = true;
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "handle_mm_fault"), ops.calls);
    }

    /** SIG-07: a kernel-mode fault ignores a non-fatal signal and retries under the mmap lock. */
    @Test
    void kernelModeRetryIgnoresANonFatalSignal() {
        ops.mmapResult = ScriptedFaultOps.vma(VM_READ);
        ops.nonFatalSignal = true;
        ops.faults.add(VM_FAULT_RETRY);
        ops.faults.add(0);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, false, ADDR), PtRegs.KERNEL_UACCESS));
        assertEquals(2, ops.calls.stream().filter("handle_mm_fault"::equals).count(), ops.calls.toString());
    }

    @Test
    void noVmaUnderRcuFallsBackToTheMmapLock() {
        ops.mmapResult = ScriptedFaultOps.vma(VM_READ);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        assertEquals(
                List.of("lock_vma_under_rcu", "lock_mm_and_find_vma", "handle_mm_fault", "mmap_read_unlock"),
                ops.calls);
        assertEquals(0, ops.faultFlags.get(0) & FAULT_FLAG_VMA_LOCK);
    }

    @Test
    void kernelModeSkipsThePerVmaAttempt() {
        ops.mmapResult = ScriptedFaultOps.vma(VM_READ);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, false, ADDR), PtRegs.KERNEL_UACCESS));
        assertEquals(List.of("lock_mm_and_find_vma", "handle_mm_fault", "mmap_read_unlock"), ops.calls);
        assertEquals(0, ops.faultFlags.get(0) & FAULT_FLAG_USER);
    }

    @Test
    void noVmaIsMaperr() {
        assertEquals(SigInfo.SEGV_MAPERR_SIG, run(dabt(0x06, false, true, ADDR), PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "lock_mm_and_find_vma"), ops.calls);
    }

    @Test
    void mmapPathAccessErrorUnlocksAndIsAccerrWithoutCounting() {
        ops.mmapResult = ScriptedFaultOps.vma(VM_READ);
        assertEquals(SigInfo.SEGV_ACCERR_SIG, run(dabt(0x0f, true, true, ADDR), PtRegs.USER));
        assertEquals(List.of("lock_vma_under_rcu", "lock_mm_and_find_vma", "mmap_read_unlock"), ops.calls);
        assertEquals(0, ops.count(VmEvent.VMA_LOCK_SUCCESS));
    }

    @Test
    void mmapPathRetryLoopsWithTried() {
        ops.mmapResult = ScriptedFaultOps.vma(VM_READ);
        ops.faults.add(VM_FAULT_RETRY);
        ops.faults.add(VM_FAULT_RETRY);
        ops.faults.add(0);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, false, ADDR), PtRegs.KERNEL_UACCESS));
        assertEquals(3, ops.faultFlags.size());
        assertEquals(0, ops.faultFlags.get(0) & FAULT_FLAG_TRIED);
        assertTrue((ops.faultFlags.get(1) & FAULT_FLAG_TRIED) != 0);
        assertTrue((ops.faultFlags.get(2) & FAULT_FLAG_TRIED) != 0);
        assertEquals(1, ops.calls.stream().filter("mmap_read_unlock"::equals).count());
    }

    @Test
    void mmapPathCompletedDoesNotUnlock() {
        ops.mmapResult = ScriptedFaultOps.vma(VM_READ);
        ops.faults.add(VM_FAULT_COMPLETED);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        assertFalse(ops.calls.contains("mmap_read_unlock"));
    }

    /** SIG-06: RETRY under the mmap lock with a fatal signal pending returns at once (user, fixup or oops). */
    @Test
    void mmapPathSignalPending() {
        ops.mmapResult = ScriptedFaultOps.vma(VM_READ);
        ops.signalPending = true;
        ops.faults.add(VM_FAULT_RETRY);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        ops.faults.add(VM_FAULT_RETRY);
        assertEquals(Arm64FaultHandler.EFAULT_FIXUP, run(dabt(0x07, false, false, ADDR), PtRegs.KERNEL_UACCESS));
        ops.faults.add(VM_FAULT_RETRY);
        assertEquals(SigInfo.OOPS, run(dabt(0x07, false, false, ADDR), PtRegs.KERNEL_BUG));
        // A signal without RETRY is not "fault_signal_pending".
        ops.faults.add(0);
        assertEquals(SigInfo.OK, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
    }

    @Test
    void errorResultsBecomeSignals() {
        ops.mmapResult = ScriptedFaultOps.vma(VM_READ);
        ops.faults.add(VM_FAULT_SIGBUS);
        assertEquals(SigInfo.BUS_ADRERR_SIG, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        ops.faults.add(VM_FAULT_HWPOISON);
        assertEquals(
                SigInfo.make(SigInfo.SIGBUS, SigInfo.BUS_MCEERR_AR), run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        ops.faults.add(VM_FAULT_SIGSEGV);
        assertEquals(SigInfo.SEGV_MAPERR_SIG, run(dabt(0x07, false, true, ADDR), PtRegs.USER));
        ops.faults.add(VM_FAULT_OOM);
        assertEquals(SigInfo.PAGEFAULT_OOM, run(dabt(0x07, false, true, ADDR), PtRegs.USER), "retried, nobody killed");
        assertEquals(1, ops.count(VmEvent.PAGEFAULT_OOM));
        ops.faults.add(VM_FAULT_SIGBUS);
        assertEquals(Arm64FaultHandler.EFAULT_FIXUP, run(dabt(0x07, false, false, ADDR), PtRegs.KERNEL_UACCESS));
        ops.faults.add(VM_FAULT_SIGBUS);
        assertEquals(SigInfo.OOPS, run(dabt(0x07, false, false, ADDR), PtRegs.KERNEL_BUG));
    }

    @Test
    void el1PermissionFaultOnUserMemory() {
        ops.mmapResult = ScriptedFaultOps.vma(VM_READ);
        assertEquals(SigInfo.OOPS, run(dabt(0x0f, false, false, ADDR), PtRegs.KERNEL_BUG), "outside uaccess routines");
        assertTrue(ops.calls.isEmpty());
        assertEquals(SigInfo.OOPS, run(iabt(0x0f, false), PtRegs.KERNEL_UACCESS), "execution of user memory");
        assertTrue(ops.calls.isEmpty());
        assertEquals(SigInfo.OK, run(dabt(0x0f, false, false, ADDR), PtRegs.KERNEL_UACCESS));
    }

    @Test
    void translationFaultOnKernelHalfFromEl0IsBadAreaWithSanitizedEsr() { // oracle 16
        final Arm64Fault f = dabt(0x06, true, true, KERNEL_ADDR);
        assertEquals(SigInfo.SEGV_MAPERR_SIG, run(f, PtRegs.USER));
        assertTrue(ops.calls.isEmpty());
        assertEquals(Esr.make(Esr.EC_DABT_LOW, Esr.WNR | 0x04), f.signalEsr(), "level 0 translation, EC/IL/WnR only");
        assertEquals(SigInfo.OOPS, run(dabt(0x06, false, false, KERNEL_ADDR), PtRegs.KERNEL_BUG));
        assertEquals(Arm64FaultHandler.EFAULT_FIXUP, run(dabt(0x06, false, false, KERNEL_ADDR), PtRegs.KERNEL_UACCESS));
    }

    static IntStream allFsc() {
        return IntStream.range(0, 64);
    }

    /** Every fault_info row from EL0 on a user address with no VMA, and from EL1 with no fixup. */
    @ParameterizedTest
    @MethodSource("allFsc")
    void everyFaultInfoRow(final int fsc) {
        final FaultInfo inf = FaultInfo.forFsc(fsc);
        assertEquals(fsc, inf.fsc());
        final Arm64Fault f = dabt(fsc, false, true, ADDR);
        final int r = run(f, PtRegs.USER);
        switch (inf.handler()) {
            case DO_PAGE_FAULT:
            case DO_TRANSLATION_FAULT:
                assertEquals(SigInfo.SEGV_MAPERR_SIG, r, inf.name());
                assertTrue(ops.calls.contains("lock_mm_and_find_vma"), inf.name());
                break;
            default:
                assertEquals(inf.sigInfo(), r, inf.name());
                assertTrue(ops.calls.isEmpty(), inf.name());
                assertEquals(f.esr(), f.signalEsr());
        }
        ops.calls.clear();
        final int k = run(dabt(fsc, false, false, ADDR), PtRegs.KERNEL_BUG);
        assertEquals(SigInfo.OOPS, k, inf.name());
    }

    @Test
    void fault_infoRowsByName() {
        assertEquals("level 0 translation fault", FaultInfo.forFsc(0x04).name());
        assertEquals("level -1 translation fault", FaultInfo.forFsc(0x2b).name());
        assertEquals("level 3 access flag fault", FaultInfo.forFsc(0x0b).name());
        assertEquals("level 1 permission fault", FaultInfo.forFsc(0x0d).name());
        assertEquals("ttbr address size fault", FaultInfo.forFsc(0x00).name());
        assertEquals("level -1 address size fault", FaultInfo.forFsc(0x29).name());
        assertEquals(
                SigInfo.make(SigInfo.SIGBUS, SigInfo.BUS_ADRALN),
                FaultInfo.forFsc(0x21).sigInfo());
        assertEquals(
                SigInfo.make(SigInfo.SIGBUS, SigInfo.BUS_OBJERR),
                FaultInfo.forFsc(0x10).sigInfo());
        assertEquals(
                SigInfo.make(SigInfo.SIGSEGV, SigInfo.SEGV_MTESERR),
                FaultInfo.forFsc(0x11).sigInfo());
        assertEquals(
                SigInfo.make(SigInfo.SIGKILL, SigInfo.SI_KERNEL),
                FaultInfo.forFsc(0x13).sigInfo());
        assertEquals(
                SigInfo.make(SigInfo.SIGBUS, SigInfo.BUS_OBJERR),
                FaultInfo.forFsc(0x35).sigInfo());
        assertEquals("unknown 18", FaultInfo.forFsc(18).name());
        assertEquals("TLB conflict abort", FaultInfo.forFsc(0x30).name());
    }

    /** Access-flag and permission faults at each level reach do_page_fault and are handled there. */
    @Test
    void accessFlagAndPermissionFaultsAtEachLevelReachDoPageFault() {
        ops.perVmaResult = ScriptedFaultOps.vma(VM_READ | VM_WRITE);
        for (int level = 0; level <= 3; level++) {
            for (final int base : new int[] {Esr.FSC_ACCESS, Esr.FSC_PERM, Esr.FSC_FAULT}) {
                ops.calls.clear();
                assertEquals(SigInfo.OK, run(dabt(base + level, true, true, ADDR), PtRegs.USER));
                assertEquals(List.of("lock_vma_under_rcu", "handle_mm_fault", "vma_end_read"), ops.calls);
            }
        }
        ops.calls.clear();
        assertEquals(SigInfo.OK, run(dabt(Esr.FSC_FAULT_LM1, false, true, ADDR), PtRegs.USER));
        assertTrue(ops.calls.contains("handle_mm_fault"));
    }
}
