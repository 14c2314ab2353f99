package dev.vmsim.core.fault;

/** enum vm_fault_reason (include/linux/mm_types.h), with the kernel's values. */
public final class VmFault {
    public static final int VM_FAULT_OOM = 0x000001;
    public static final int VM_FAULT_SIGBUS = 0x000002;
    public static final int VM_FAULT_MAJOR = 0x000004;
    public static final int VM_FAULT_HWPOISON = 0x000010;
    public static final int VM_FAULT_HWPOISON_LARGE = 0x000020;
    public static final int VM_FAULT_SIGSEGV = 0x000040;
    public static final int VM_FAULT_NOPAGE = 0x000100;
    public static final int VM_FAULT_LOCKED = 0x000200;
    public static final int VM_FAULT_RETRY = 0x000400;
    public static final int VM_FAULT_FALLBACK = 0x000800;
    public static final int VM_FAULT_DONE_COW = 0x001000;
    public static final int VM_FAULT_NEEDDSYNC = 0x002000;
    public static final int VM_FAULT_COMPLETED = 0x004000;
    public static final int VM_FAULT_HINDEX_MASK = 0x0f0000;
    /** OOM | SIGBUS | SIGSEGV | HWPOISON | HWPOISON_LARGE | FALLBACK = 0x873. */
    public static final int VM_FAULT_ERROR = VM_FAULT_OOM
            | VM_FAULT_SIGBUS
            | VM_FAULT_SIGSEGV
            | VM_FAULT_HWPOISON
            | VM_FAULT_HWPOISON_LARGE
            | VM_FAULT_FALLBACK;

    private VmFault() {}
}
