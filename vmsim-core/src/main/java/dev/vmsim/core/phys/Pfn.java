package dev.vmsim.core.phys;

/**
 * The 4 KiB base page (PAGE_SHIFT 12): x86-64's page size and arm64's smallest granule, for tests
 * and tools that work on such a machine. Kernel code never uses it: a machine's page size is its
 * page-table format's ({@link dev.vmsim.core.pgtable.PageTableFormat#pageShift()}), read through
 * {@code MmStruct.pageSize()} or {@link PhysicalMemory#pageShift()}, as the kernel's PAGE_SIZE is
 * the one it was built with.
 */
public final class Pfn {
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    /** Mask of the page-aligned part of an address (the kernel's PAGE_MASK). */
    public static final long PAGE_MASK = ~((long) PAGE_SIZE - 1);

    private Pfn() {}

    public static long physAddr(final long pfn) {
        return pfn << PAGE_SHIFT;
    }

    public static long pfnOf(final long physAddr) {
        return physAddr >>> PAGE_SHIFT;
    }

    public static long pageAlign(final long addr) {
        return (addr + PAGE_SIZE - 1) & PAGE_MASK;
    }
}
