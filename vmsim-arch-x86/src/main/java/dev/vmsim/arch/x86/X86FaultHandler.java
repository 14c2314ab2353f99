package dev.vmsim.arch.x86;

import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_DEFAULT;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_INSTRUCTION;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_TRIED;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_USER;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_VMA_LOCK;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_WRITE;

import dev.vmsim.core.arch.ArchFault;
import dev.vmsim.core.arch.FaultHandler;
import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.fault.VmFault;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.jfr.JfrSites;
import java.util.function.Consumer;

/**
 * The x86-64 page-fault handler, arch/x86/mm/fault.c: {@code handle_page_fault} →
 * {@code do_kern_addr_fault} / {@code do_user_addr_fault}, with {@code access_error}, the bad-area
 * variants, {@code do_sigbus} and {@code kernelmode_fixup_or_oops}.
 *
 * <p>Calls into mm core go through a {@link FaultOps} ({@link FaultOps#KERNEL} on a real machine, a
 * scripted fake in tests). Results are {@link SigInfo} ints:
 * <ul>
 *   <li>user mode: {@link SigInfo#OK} (retry the access) or the signal forced on the task;
 *   <li>kernel mode with an exception-table entry ({@link PtRegs#KERNEL_UACCESS}): the fixup runs
 *       and the uaccess returns -EFAULT; the result is the signal the path would have sent a user
 *       access ({@code SEGV_MAPERR}, {@code SEGV_ACCERR}, {@code BUS_ADRERR}), standing for -EFAULT;
 *   <li>kernel mode without one ({@link PtRegs#KERNEL_BUG}): {@link SigInfo#OOPS}.
 * </ul>
 * A task that dies of a pending fatal signal gets {@link #KILLED} (SIGKILL, SI_USER); a user fault
 * that ran out of memory goes to pagefault_out_of_memory, which kills nobody, and gets {@link
 * SigInfo#PAGEFAULT_OOM} (the access is retried). A fatal signal is
 * {@link FaultOps#fatalSignalPending()}; a non-fatal one ({@link FaultOps#signalPending()}) ends a
 * retried user fault early with {@link SigInfo#OK}, so that its handler runs and the access is taken
 * again.
 *
 * <p>Not modelled (no simulated counterpart): kprobes, kmmio, the AMD erratum-93/100 prefetch
 * filters, vsyscall emulation, the vDSO fixup, KVM async PF, the "interrupts were disabled" warning
 * (step 7), SGX, spurious kernel faults and the VMA protection-key check of arch_vma_access_permitted
 * (the simulated VMAs carry no pkey, i.e. pkey 0, which PKRU never restricts for this check).
 *
 * <p>Thread safety: stateless apart from the optional trace listener; any CPU thread may call it.
 */
public final class X86FaultHandler implements FaultHandler {
    /** A task killed by SIGKILL (a pending fatal signal). */
    public static final int KILLED = SigInfo.make(SigInfo.SIGKILL, 0);
    /** VM_SHADOW_STACK = VM_HIGH_ARCH_5 (bit 37) on x86-64. */
    public static final long VM_SHADOW_STACK = 1L << 37;

    private final FaultOps ops;
    private final X86PageTableFormat format;
    private final boolean perVmaForKernelFaults;
    private final boolean smap;
    private volatile Consumer<X86FaultRecord> trace;

    /**
     * @param ops the mm core
     * @param format the paging mode (for TASK_SIZE_MAX)
     * @param perVmaForKernelFaults the mm-tree variant of do_user_addr_fault: try the per-VMA lock
     *     for kernel-mode faults too; false is mainline ("user-mode faults only" gate)
     * @param smap X86_FEATURE_SMAP: a kernel access to a user address outside a uaccess region
     *     (modelled as {@link PtRegs#hasExceptionTableEntry()} false, i.e. EFLAGS.AC clear) oopses
     *     before any lock is taken. Off by default so that oracle 13 (kernel fault while the mmap
     *     lock is write-held) exercises get_mmap_lock_carefully as the spec describes.
     */
    public X86FaultHandler(
            final FaultOps ops,
            final X86PageTableFormat format,
            final boolean perVmaForKernelFaults,
            final boolean smap) {
        this.ops = ops;
        this.format = format;
        this.perVmaForKernelFaults = perVmaForKernelFaults;
        this.smap = smap;
    }

    /** Installs a listener that receives a record of every fault (null to remove). */
    public void setTrace(final Consumer<X86FaultRecord> listener) {
        this.trace = listener;
    }

    /** TASK_SIZE_MAX. */
    public long taskSizeMax() {
        return format.taskSize();
    }

    /** fault_in_kernel_space: addresses at or above TASK_SIZE_MAX (the vsyscall page is not modelled). */
    public boolean faultInKernelSpace(final long address) {
        return Long.compareUnsigned(address, format.taskSize()) >= 0;
    }

    /** exc_page_fault → handle_page_fault, for the fault {@code cpu}'s MMU raised. */
    @Override
    public int handle(final Cpu cpu, final ArchFault fault, final PtRegs regs) {
        final X86PageFault pf = (X86PageFault) fault;
        return handle(cpu == null ? null : cpu.mm(), pf, regs);
    }

    /** handle_page_fault for the task running {@code mm} (null: a kernel thread with no mm). */
    public int handle(final MmStruct mm, final X86PageFault pf, final PtRegs regs) {
        if (FaultTrace.enabled()) {
            FaultTrace.x86PageFaultEnter(regs.userMode(), pf.address(), pf.errorCode(), pf.describe());
        }
        if (JfrSites.pageFaultEnabled()) {
            JfrSites.pageFaultBegin();
        }
        // Read the listener once: the steps are recorded only when someone will read them (a fault
        // path that builds strings for nobody costs more than the fault it simulates).
        final Consumer<X86FaultRecord> t = trace;
        final X86FaultRecord rec =
                new X86FaultRecord(pf.address(), pf.errorCode(), regs.userMode(), pf.generalProtection(), t != null);
        final int result;
        if (pf.generalProtection()) {
            result = doGeneralProtection(rec, regs);
        } else if (faultInKernelSpace(pf.address())) {
            result = doKernAddrFault(rec, regs, pf.errorCode(), pf.address());
        } else {
            result = doUserAddrFault(rec, mm, regs, pf.errorCode(), pf.address());
        }
        rec.result(result);
        FaultTrace.x86PageFaultExit(regs.userMode(), result);
        JfrSites.pageFaultEnd("x86_64", pf.address(), pf.errorCode(), 0, regs.userMode(), result);
        if (t != null) {
            t.accept(rec);
        }
        return result;
    }

    /**
     * exc_general_protection for a non-canonical address. Departure: the kernel sends SIGSEGV with
     * SI_KERNEL to a user task; the simulator reports SEGV_MAPERR (nothing can be mapped there).
     * Kernel mode: exception-table fixup (-EFAULT) or die().
     */
    private int doGeneralProtection(final X86FaultRecord rec, final PtRegs regs) {
        rec.step("exc_general_protection (non-canonical)");
        if (regs.userMode()) {
            return SigInfo.SEGV_MAPERR_SIG;
        }
        return fixupOrOops(rec, regs, SigInfo.SEGV_MAPERR_SIG);
    }

    /** do_kern_addr_fault: a fault on an address at or above TASK_SIZE_MAX. */
    private int doKernAddrFault(final X86FaultRecord rec, final PtRegs regs, final int code, final long address) {
        rec.step("do_kern_addr_fault");
        return badAreaNosemaphore(rec, regs, code, address, SigInfo.SEGV_MAPERR);
    }

    /** do_user_addr_fault, in the order of kernel-semantics §10.3. */
    int doUserAddrFault(
            final X86FaultRecord rec, final MmStruct mm, final PtRegs regs, final int code, final long address) {
        rec.step("do_user_addr_fault");
        int flags = FAULT_FLAG_DEFAULT; // 1
        // 2: a kernel-mode instruction fetch from a user address (no erratum 93 on the simulated CPU)
        if ((code & (X86PfError.USER | X86PfError.INSTR)) == X86PfError.INSTR) {
            rec.step("kernel fetch from user address: page_fault_oops");
            return SigInfo.OOPS;
        }
        // 3: kprobes: not modelled
        // 4: a reserved bit in a paging entry
        if ((code & X86PfError.RSVD) != 0) {
            rec.step("pgtable_bad");
            return SigInfo.OOPS;
        }
        // 5: SMAP: kernel touched user memory outside a uaccess region (EFLAGS.AC clear)
        if (smap && (code & X86PfError.USER) == 0 && !regs.userMode() && !regs.hasExceptionTableEntry()) {
            rec.step("SMAP violation: page_fault_oops");
            return SigInfo.OOPS;
        }
        // 6: faulthandler_disabled() || !mm
        if (mm == null) {
            rec.step("no mm");
            return badAreaNosemaphore(rec, regs, code, address, SigInfo.SEGV_MAPERR);
        }
        // 7 (irqs disabled) and 8 (local_irq_enable, perf) are not modelled
        // 9
        if ((code & X86PfError.SHSTK) != 0) {
            flags |= FAULT_FLAG_WRITE;
        }
        if ((code & X86PfError.WRITE) != 0) {
            flags |= FAULT_FLAG_WRITE;
        }
        if ((code & X86PfError.INSTR) != 0) {
            flags |= FAULT_FLAG_INSTRUCTION;
        }
        if (regs.userMode()) {
            flags |= FAULT_FLAG_USER;
        }
        // 10: vsyscall emulation: not modelled
        int fault = 0;
        boolean done = false;
        // 11: mainline gate: the per-VMA path is for user-mode faults only
        if (regs.userMode() || perVmaForKernelFaults) {
            final Vma vma = ops.lockVmaUnderRcu(mm, address); // 12
            rec.step("lock_vma_under_rcu");
            if (vma != null) {
                if (accessError(code, vma)) { // 13
                    final int r = badAreaAccessError(rec, regs, code, address, null, vma);
                    ops.count(mm, VmEvent.VMA_LOCK_SUCCESS);
                    return r;
                }
                fault = ops.handleMmFault(vma, address, flags | FAULT_FLAG_VMA_LOCK, regs); // 14
                rec.stepHex("handle_mm_fault(VMA_LOCK)=0x", fault);
                if ((fault & (VmFault.VM_FAULT_RETRY | VmFault.VM_FAULT_COMPLETED)) == 0) {
                    ops.vmaEndRead(vma);
                }
                if ((fault & VmFault.VM_FAULT_RETRY) == 0) { // 15
                    ops.count(mm, VmEvent.VMA_LOCK_SUCCESS);
                    done = true;
                } else {
                    ops.count(mm, VmEvent.VMA_LOCK_RETRY); // 16
                    if ((fault & VmFault.VM_FAULT_MAJOR) != 0) {
                        flags |= FAULT_FLAG_TRIED;
                    }
                    if (ops.faultSignalPending(fault, regs.userMode())) {
                        rec.step("fault_signal_pending");
                        return signalReturn(rec, regs);
                    }
                }
            }
        }
        if (!done) {
            for (; ; ) { // 17: retry
                final Vma vma = ops.lockMmAndFindVma(mm, address, regs);
                rec.step("lock_mm_and_find_vma");
                if (vma == null) {
                    return badAreaNosemaphore(rec, regs, code, address, SigInfo.SEGV_MAPERR);
                }
                if (accessError(code, vma)) { // 18
                    return badAreaAccessError(rec, regs, code, address, mm, vma);
                }
                fault = ops.handleMmFault(vma, address, flags, regs); // 19
                rec.stepHex("handle_mm_fault=0x", fault);
                if (ops.faultSignalPending(fault, regs.userMode())) { // 20
                    rec.step("fault_signal_pending");
                    return signalReturn(rec, regs);
                }
                if ((fault & VmFault.VM_FAULT_COMPLETED) != 0) { // 21
                    return SigInfo.OK;
                }
                if ((fault & VmFault.VM_FAULT_RETRY) != 0) { // 22
                    flags |= FAULT_FLAG_TRIED;
                    continue;
                }
                ops.mmapReadUnlock(mm); // 23
                break;
            }
        }
        return faultDone(rec, mm, regs, code, address, fault); // 24
    }

    /** The "done:" tail of do_user_addr_fault: dispatch on the VM_FAULT_ERROR bits. */
    private int faultDone(
            final X86FaultRecord rec,
            final MmStruct mm,
            final PtRegs regs,
            final int code,
            final long address,
            final int fault) {
        if ((fault & VmFault.VM_FAULT_ERROR) == 0) {
            return SigInfo.OK;
        }
        if (!regs.userMode() && ops.fatalSignalPending()) {
            rec.step("fatal signal in kernel mode");
            return fixupOrOops(rec, regs, KILLED);
        }
        if ((fault & VmFault.VM_FAULT_OOM) != 0) {
            if (!regs.userMode()) {
                return fixupOrOops(rec, regs, SigInfo.SEGV_MAPERR_SIG);
            }
            rec.step("pagefault_out_of_memory");
            ops.pagefaultOutOfMemory(mm);
            return SigInfo.PAGEFAULT_OOM;
        }
        if ((fault & (VmFault.VM_FAULT_SIGBUS | VmFault.VM_FAULT_HWPOISON | VmFault.VM_FAULT_HWPOISON_LARGE)) != 0) {
            return doSigbus(rec, regs, fault);
        }
        if ((fault & VmFault.VM_FAULT_SIGSEGV) != 0) {
            return badAreaNosemaphore(rec, regs, code, address, SigInfo.SEGV_MAPERR);
        }
        throw new IllegalStateException("BUG: handle_mm_fault returned 0x" + Integer.toHexString(fault));
    }

    /**
     * The early return of fault_signal_pending: kernel mode goes to kernelmode_fixup_or_oops; a user
     * task returns to user mode, where a fatal signal kills it and a non-fatal one is delivered
     * before the instruction runs again ({@link SigInfo#OK}: the fault is re-taken).
     */
    private int signalReturn(final X86FaultRecord rec, final PtRegs regs) {
        if (!regs.userMode()) {
            return fixupOrOops(rec, regs, SigInfo.BUS_ADRERR_SIG);
        }
        return ops.fatalSignalPending() ? KILLED : SigInfo.OK;
    }

    /**
     * access_error, in the order of kernel-semantics §10.4: true if the access can never succeed
     * in this VMA.
     */
    public static boolean accessError(final int code, final Vma vma) {
        final long vmFlags = vma.vmFlags;
        if ((code & X86PfError.PK) != 0) { // 1: a pkey fault is never fixable by a follow-up action
            return true;
        }
        if ((code & X86PfError.SGX) != 0) { // 2
            return true;
        }
        // 3: arch_vma_access_permitted: simulated VMAs have pkey 0, always permitted
        if ((code & X86PfError.SHSTK) != 0) { // 4
            return (vmFlags & VM_SHADOW_STACK) == 0 || (vmFlags & VmFlags.VM_WRITE) == 0;
        }
        if ((code & X86PfError.WRITE) != 0) { // 5
            return (vmFlags & VM_SHADOW_STACK) != 0 || (vmFlags & VmFlags.VM_WRITE) == 0;
        }
        if ((code & X86PfError.PROT) != 0) { // 6: read of a present page
            return true;
        }
        return (vmFlags & VmFlags.VM_ACCESS_FLAGS) == 0; // 7: not-present read of a PROT_NONE VMA
    }

    /**
     * bad_area_access_error: drops the lock (mmap read lock if {@code mm} is given, else the VMA
     * lock) and signals SEGV_PKUERR for a pkey fault, else SEGV_ACCERR.
     */
    private int badAreaAccessError(
            final X86FaultRecord rec,
            final PtRegs regs,
            final int code,
            final long address,
            final MmStruct mm,
            final Vma vma) {
        rec.step("bad_area_access_error");
        if (mm != null) {
            ops.mmapReadUnlock(mm);
        } else {
            ops.vmaEndRead(vma);
        }
        final int siCode = (code & X86PfError.PK) != 0 ? SigInfo.SEGV_PKUERR : SigInfo.SEGV_ACCERR;
        return badAreaNosemaphoreTail(rec, regs, code, address, siCode);
    }

    /** bad_area_nosemaphore: no lock held. */
    private int badAreaNosemaphore(
            final X86FaultRecord rec, final PtRegs regs, final int code, final long address, final int siCode) {
        rec.step("bad_area_nosemaphore");
        return badAreaNosemaphoreTail(rec, regs, code, address, siCode);
    }

    /** __bad_area_nosemaphore. */
    private int badAreaNosemaphoreTail(
            final X86FaultRecord rec, final PtRegs regs, final int code, final long address, final int siCode) {
        final int sig = SigInfo.make(SigInfo.SIGSEGV, siCode);
        if (!regs.userMode()) {
            return fixupOrOops(rec, regs, sig);
        }
        if ((code & X86PfError.USER) == 0) {
            rec.step("implicit supervisor access from user mode: page_fault_oops");
            return SigInfo.OOPS;
        }
        int reported = code | X86PfError.USER;
        if (faultInKernelSpace(address)) {
            reported |= X86PfError.PROT; // don't leak which kernel addresses are mapped
        }
        rec.reportedErrorCode(reported);
        rec.step("force_sig_fault(" + SigInfo.describe(sig) + ")");
        return sig;
    }

    /** do_sigbus: BUS_MCEERR_AR for hardware poison, else BUS_ADRERR; kernel mode: fixup or oops. */
    private int doSigbus(final X86FaultRecord rec, final PtRegs regs, final int fault) {
        rec.step("do_sigbus");
        if (!regs.userMode()) {
            return fixupOrOops(rec, regs, SigInfo.BUS_ADRERR_SIG);
        }
        if ((fault & (VmFault.VM_FAULT_HWPOISON | VmFault.VM_FAULT_HWPOISON_LARGE)) != 0) {
            return SigInfo.make(SigInfo.SIGBUS, SigInfo.BUS_MCEERR_AR);
        }
        return SigInfo.BUS_ADRERR_SIG;
    }

    /** kernelmode_fixup_or_oops: an exception-table fixup (the uaccess returns -EFAULT) or an oops. */
    private static int fixupOrOops(final X86FaultRecord rec, final PtRegs regs, final int sig) {
        if (regs.hasExceptionTableEntry()) {
            rec.step("fixup_exception (-EFAULT)");
            return sig;
        }
        rec.step("page_fault_oops");
        return SigInfo.OOPS;
    }
}
