package dev.vmsim.core.mm;

/** vm_flags bits (include/linux/mm.h), with the kernel's values. */
public final class VmFlags {
    public static final long VM_NONE = 0;
    public static final long VM_READ = 0x1;
    public static final long VM_WRITE = 0x2;
    public static final long VM_EXEC = 0x4;
    public static final long VM_SHARED = 0x8;
    public static final long VM_MAYREAD = 0x10;
    public static final long VM_MAYWRITE = 0x20;
    public static final long VM_MAYEXEC = 0x40;
    public static final long VM_MAYSHARE = 0x80;
    public static final long VM_GROWSDOWN = 0x100;
    public static final long VM_UFFD_MISSING = 0x200;
    public static final long VM_PFNMAP = 0x400;
    public static final long VM_UFFD_WP = 0x1000;
    public static final long VM_LOCKED = 0x2000;
    public static final long VM_IO = 0x4000;
    public static final long VM_SEQ_READ = 0x8000;
    public static final long VM_RAND_READ = 0x10000;
    public static final long VM_DONTCOPY = 0x20000;
    public static final long VM_DONTEXPAND = 0x40000;
    public static final long VM_LOCKONFAULT = 0x80000;
    public static final long VM_ACCOUNT = 0x100000;
    public static final long VM_NORESERVE = 0x200000;
    public static final long VM_HUGETLB = 0x400000;
    public static final long VM_SYNC = 0x800000;
    public static final long VM_WIPEONFORK = 0x2000000;
    public static final long VM_DONTDUMP = 0x4000000;
    public static final long VM_SOFTDIRTY = 0x8000000;
    public static final long VM_MIXEDMAP = 0x10000000;
    public static final long VM_HUGEPAGE = 0x20000000;
    public static final long VM_NOHUGEPAGE = 0x40000000;
    public static final long VM_MERGEABLE = 0x80000000L;

    /** VM_STACK on a downward-growing-stack architecture. */
    public static final long VM_STACK = VM_GROWSDOWN;
    /** Mappings that never merge (VM_SPECIAL). */
    public static final long VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

    public static final long VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

    private VmFlags() {}

    /** is_cow_mapping: private and may be written. */
    public static boolean isCowMapping(final long flags) {
        return (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
    }
}
