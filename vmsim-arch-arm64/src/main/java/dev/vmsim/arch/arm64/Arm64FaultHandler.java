package dev.vmsim.arch.arm64;

import static dev.vmsim.core.fault.FaultFlags.*;
import static dev.vmsim.core.fault.VmFault.*;

import dev.vmsim.core.arch.ArchFault;
import dev.vmsim.core.arch.FaultHandler;
import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.jfr.JfrSites;

/**
 * arch/arm64/mm/fault.c: do_mem_abort dispatching through fault_info[], do_translation_fault,
 * do_bad_area, do_page_fault and __do_kernel_fault.
 *
 * <p>Return convention: the kernel's handlers return 0 and deliver signals as a side effect
 * (arm64_force_sig_fault); here they return the {@link SigInfo} the task gets ({@link SigInfo#OK}:
 * retry the access). The internal value {@link #FN_FAULT} stands for a handler's "return 1"
 * (do_bad), after which do_mem_abort delivers the table's signal. Departures, each because the
 * simulator has no such machinery: no kprobes, no perf events, no GCS or POE (protection-overlay
 * keys), no MTE tag reporting, no APEI; "die" is {@link SigInfo#OOPS}. pagefault_out_of_memory kills
 * nobody, as in the kernel since 5.16: the result is {@link SigInfo#PAGEFAULT_OOM} (retry the access).
 */
public final class Arm64FaultHandler implements FaultHandler {
    /**
     * A kernel-mode fault fixed up through the exception table: the uaccess returns -EFAULT and no
     * signal is sent. Encoded as signal 0 with code EFAULT so that it is not {@link SigInfo#OK}.
     */
    public static final int EFAULT_FIXUP = SigInfo.make(0, Errno.EFAULT);

    /** A fault_info handler's "return 1": unhandled, deliver the table's signal. */
    static final int FN_FAULT = -1;

    private final FaultOps ops;
    private final long taskSize;
    private final boolean epan;

    /**
     * A handler calling mm core through {@code ops}, for user address spaces below {@code taskSize}
     * (TASK_SIZE), on CPUs with FEAT_EPAN if {@code epan}.
     */
    public Arm64FaultHandler(final FaultOps ops, final long taskSize, final boolean epan) {
        this.ops = ops;
        this.taskSize = taskSize;
        this.epan = epan;
    }

    @Override
    public int handle(final Cpu cpu, final ArchFault fault, final PtRegs regs) {
        return doMemAbort(cpu.mm(), (Arm64Fault) fault, regs);
    }

    /** is_ttbr0_addr: a user-half address. */
    boolean isTtbr0Addr(final long addr) {
        return addr >= 0 && addr < taskSize;
    }

    /** do_mem_abort: dispatch on the fault status code through fault_info[]. */
    public int doMemAbort(final MmStruct mm, final Arm64Fault f, final PtRegs regs) {
        if (FaultTrace.enabled()) {
            FaultTrace.arm64AbortEnter(regs.userMode(), f.far(), f.esr(), f.describe());
        }
        if (JfrSites.pageFaultEnabled()) {
            JfrSites.pageFaultBegin();
        }
        final int r = doMemAbortUntraced(mm, f, regs);
        FaultTrace.arm64AbortExit(r);
        JfrSites.pageFaultEnd("arm64", f.far(), 0, f.esr(), regs.userMode(), r);
        return r;
    }

    private int doMemAbortUntraced(final MmStruct mm, final Arm64Fault f, final PtRegs regs) {
        final FaultInfo inf = FaultInfo.of(f.esr());
        final int r = dispatch(inf, mm, f, regs);
        if (r != FN_FAULT) {
            return r;
        }
        if (!regs.userMode()) {
            return SigInfo.OOPS; // die_kernel_fault
        }
        f.setSignalEsr(f.esr());
        return inf.sigInfo(); // arm64_notify_die
    }

    private int dispatch(final FaultInfo inf, final MmStruct mm, final Arm64Fault f, final PtRegs regs) {
        switch (inf.handler()) {
            case DO_TRANSLATION_FAULT:
                return doTranslationFault(mm, f, regs);
            case DO_PAGE_FAULT:
                return doPageFault(mm, f, regs);
            case DO_ALIGNMENT_FAULT:
            case DO_TAG_CHECK_FAULT:
                return doBadArea(f, regs);
            case DO_SEA:
                // do_sea -> arm64_notify_die: the row's signal to a user task, die in the kernel.
                if (!regs.userMode()) {
                    return SigInfo.OOPS;
                }
                f.setSignalEsr(f.esr());
                return inf.sigInfo();
            default:
                return FN_FAULT; // do_bad
        }
    }

    /** do_translation_fault: user-half address → do_page_fault, otherwise do_bad_area. */
    public int doTranslationFault(final MmStruct mm, final Arm64Fault f, final PtRegs regs) {
        if (isTtbr0Addr(f.far())) {
            return doPageFault(mm, f, regs);
        }
        return doBadArea(f, regs);
    }

    /** do_bad_area: user mode gets the table's signal with a sanitized ESR; kernel mode __do_kernel_fault. */
    int doBadArea(final Arm64Fault f, final PtRegs regs) {
        if (regs.userMode()) {
            f.setSignalEsr(Esr.sanitize(f.esr(), isTtbr0Addr(f.far())));
            return FaultInfo.of(f.esr()).sigInfo();
        }
        return doKernelFault(f, regs);
    }

    /**
     * __do_kernel_fault: an exception-table fixup (not for EL1 instruction aborts) makes the uaccess
     * return -EFAULT; otherwise the kernel dies. (The spurious-translation-fault check, which re-runs
     * the access with an AT instruction, cannot succeed here: the walk just failed on this CPU.)
     */
    int doKernelFault(final Arm64Fault f, final PtRegs regs) {
        if (!Esr.isEl1InstructionAbort(f.esr()) && regs.hasExceptionTableEntry()) {
            return EFAULT_FIXUP;
        }
        return SigInfo.OOPS;
    }

    /** is_el1_permission_fault: a permission fault (or PAN translation fault) taken from EL1. */
    private static boolean isEl1PermissionFault(final long esr) {
        final int ec = Esr.ec(esr);
        return (ec == Esr.EC_DABT_CUR || ec == Esr.EC_IABT_CUR) && Esr.isPermissionFault(esr);
    }

    /** do_page_fault, in the order of kernel-semantics §11.3. */
    public int doPageFault(final MmStruct mm, final Arm64Fault f, final PtRegs regs) {
        final long esr = f.esr();
        final long addr = f.far();
        // (2) no mm (kernel thread) or faults disabled: no user context to handle it.
        if (mm == null) {
            return doKernelFault(f, regs);
        }
        int mmFlags = FAULT_FLAG_DEFAULT;
        if (regs.userMode()) {
            mmFlags |= FAULT_FLAG_USER; // (3)
        }
        // (4) the vm_flags the access needs.
        final long vmFlags;
        if (Esr.isEl0InstructionAbort(esr)) {
            vmFlags = VmFlags.VM_EXEC;
            mmFlags |= FAULT_FLAG_INSTRUCTION;
        } else if (Esr.isWriteAbort(esr)) {
            vmFlags = VmFlags.VM_WRITE;
            mmFlags |= FAULT_FLAG_WRITE;
        } else {
            // Write implies read; without EPAN exec implies read.
            vmFlags = VmFlags.VM_READ | VmFlags.VM_WRITE | (epan ? 0 : VmFlags.VM_EXEC);
        }
        // (5) EL1 permission fault on a user address.
        if (isTtbr0Addr(addr) && isEl1PermissionFault(esr)) {
            if (Esr.isEl1InstructionAbort(esr)) {
                return SigInfo.OOPS; // "execution of user memory"
            }
            if (!regs.hasExceptionTableEntry()) {
                return SigInfo.OOPS; // "Accessing user space memory outside uaccess routines"
            }
        }
        int fault;
        Vma vma;
        // (7)-(14) the per-VMA lock attempt, user faults only.
        perVma:
        if ((mmFlags & FAULT_FLAG_USER) != 0) {
            vma = ops.lockVmaUnderRcu(mm, addr);
            if (vma == null) {
                break perVma;
            }
            if ((vma.vmFlags & vmFlags) == 0) {
                ops.vmaEndRead(vma);
                ops.count(mm, VmEvent.VMA_LOCK_SUCCESS);
                return badArea(0, SigInfo.SEGV_ACCERR, f, regs);
            }
            fault = ops.handleMmFault(vma, addr, mmFlags | FAULT_FLAG_VMA_LOCK, regs);
            if ((fault & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)) == 0) {
                ops.vmaEndRead(vma);
            }
            if ((fault & VM_FAULT_RETRY) == 0) {
                ops.count(mm, VmEvent.VMA_LOCK_SUCCESS);
                return done(mm, fault, f, regs);
            }
            ops.count(mm, VmEvent.VMA_LOCK_RETRY);
            if ((fault & VM_FAULT_MAJOR) != 0) {
                mmFlags |= FAULT_FLAG_TRIED;
            }
            if (ops.faultSignalPending(fault, regs.userMode())) {
                return regs.userMode() ? SigInfo.OK : doKernelFault(f, regs);
            }
        }
        // (16)-(23) lock_mmap / retry.
        for (; ; ) {
            vma = ops.lockMmAndFindVma(mm, addr, regs);
            if (vma == null) {
                return badArea(0, SigInfo.SEGV_MAPERR, f, regs);
            }
            if ((vma.vmFlags & vmFlags) == 0) {
                ops.mmapReadUnlock(mm);
                return badArea(0, SigInfo.SEGV_ACCERR, f, regs);
            }
            fault = ops.handleMmFault(vma, addr, mmFlags, regs);
            if (ops.faultSignalPending(fault, regs.userMode())) {
                return regs.userMode() ? SigInfo.OK : doKernelFault(f, regs);
            }
            if ((fault & VM_FAULT_COMPLETED) != 0) {
                return SigInfo.OK;
            }
            if ((fault & VM_FAULT_RETRY) != 0) {
                mmFlags |= FAULT_FLAG_TRIED;
                continue;
            }
            ops.mmapReadUnlock(mm);
            return done(mm, fault, f, regs);
        }
    }

    /**
     * The "done:" label: no error → 0; otherwise bad_area with SEGV_MAPERR, whose OOM branch is taken
     * here (only a handle_mm_fault result carries VM_FAULT_OOM): a user fault goes to
     * pagefault_out_of_memory and returns 0, so the access is retried.
     */
    private int done(final MmStruct mm, final int fault, final Arm64Fault f, final PtRegs regs) {
        if ((fault & VM_FAULT_ERROR) == 0) {
            return SigInfo.OK;
        }
        if (regs.userMode() && (fault & VM_FAULT_OOM) != 0) {
            ops.pagefaultOutOfMemory(mm);
            return SigInfo.PAGEFAULT_OOM;
        }
        return badArea(fault, SigInfo.SEGV_MAPERR, f, regs);
    }

    /** The "bad_area:" label. */
    private int badArea(final int fault, final int siCode, final Arm64Fault f, final PtRegs regs) {
        if (!regs.userMode()) {
            return doKernelFault(f, regs); // no_context
        }
        f.setSignalEsr(Esr.sanitize(f.esr(), isTtbr0Addr(f.far()))); // set_thread_esr
        if ((fault & VM_FAULT_SIGBUS) != 0) {
            return SigInfo.BUS_ADRERR_SIG;
        }
        if ((fault & (VM_FAULT_HWPOISON_LARGE | VM_FAULT_HWPOISON)) != 0) {
            return SigInfo.make(SigInfo.SIGBUS, SigInfo.BUS_MCEERR_AR);
        }
        return SigInfo.make(SigInfo.SIGSEGV, siCode);
    }
}
