package dev.vmsim.core.mm;

/** The mmap/mprotect/mremap/madvise ABI constants (include/uapi/asm-generic/mman*.h, x86-64 values). */
public final class Mman {
    public static final int PROT_NONE = 0x0;
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int PROT_EXEC = 0x4;
    public static final int PROT_GROWSDOWN = 0x01000000;
    public static final int PROT_GROWSUP = 0x02000000;

    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_SHARED_VALIDATE = 0x03;
    public static final int MAP_TYPE = 0x0f;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_GROWSDOWN = 0x0100;
    public static final int MAP_DENYWRITE = 0x0800;
    public static final int MAP_EXECUTABLE = 0x1000;
    public static final int MAP_LOCKED = 0x2000;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;
    public static final int MAP_NONBLOCK = 0x10000;
    public static final int MAP_STACK = 0x20000;
    public static final int MAP_HUGETLB = 0x40000;
    public static final int MAP_FIXED_NOREPLACE = 0x100000;

    public static final int MREMAP_MAYMOVE = 1;
    public static final int MREMAP_FIXED = 2;
    public static final int MREMAP_DONTUNMAP = 4;

    public static final int MADV_NORMAL = 0;
    public static final int MADV_DONTNEED = 4;
    /** Zero-fill the range in a fork child: dup_mmap copies no page tables of a VM_WIPEONFORK VMA. */
    public static final int MADV_WIPEONFORK = 18;
    /** Undo MADV_WIPEONFORK. */
    public static final int MADV_KEEPONFORK = 19;
    /** Populate (prefault) page tables readable, through read faults (since 5.14). */
    public static final int MADV_POPULATE_READ = 22;
    /** Populate (prefault) page tables writable, through write faults (since 5.14). */
    public static final int MADV_POPULATE_WRITE = 23;
    /** Install PTE guard markers: any access to the range is a fatal SIGSEGV (since 6.13). */
    public static final int MADV_GUARD_INSTALL = 102;
    /** Remove the guard markers of the range (since 6.13). */
    public static final int MADV_GUARD_REMOVE = 103;

    private Mman() {}
}
