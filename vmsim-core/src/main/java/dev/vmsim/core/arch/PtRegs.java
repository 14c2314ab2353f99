package dev.vmsim.core.arch;

/**
 * What the fault path needs of the saved register state (struct pt_regs): whether the faulting
 * access came from user mode, and for a kernel-mode access whether the faulting instruction has an
 * exception-table entry (a uaccess routine such as copy_from_user), which get_mmap_lock_carefully
 * and the fixup paths consult.
 */
public record PtRegs(boolean userMode, boolean hasExceptionTableEntry) {
    /** A user-mode access. */
    public static final PtRegs USER = new PtRegs(true, false);
    /** A kernel-mode uaccess (copy_to_user / copy_from_user): has an exception-table entry. */
    public static final PtRegs KERNEL_UACCESS = new PtRegs(false, true);
    /** A kernel-mode access with no exception-table entry (a kernel bug: must oops, never deadlock). */
    public static final PtRegs KERNEL_BUG = new PtRegs(false, false);
}
