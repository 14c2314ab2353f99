package dev.vmsim.core.phys;

/** Page and frame constants shared by the whole simulator (PAGE_SHIFT, PAGE_SIZE, PAGE_MASK). */
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
