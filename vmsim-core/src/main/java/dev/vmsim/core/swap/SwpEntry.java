package dev.vmsim.core.swap;

/**
 * swp_entry_t (include/linux/swapops.h): the architecture-independent swap entry, a type (which
 * swap device) and an offset (which slot on it) packed in one word, as the swap cache and swap_map
 * key them. An architecture stores an entry in a non-present PTE in its own layout ({@link
 * dev.vmsim.core.pgtable.PageTableFormat#mkSwapPte}); pte_to_swp_entry / swp_entry_to_pte convert.
 *
 * <p>Layout: type in the top {@link #MAX_SWAPFILES_SHIFT} bits of BITS_PER_XA_VALUE (63), offset
 * below: SWP_TYPE_SHIFT = 63 - 5 = 58. A value of 0 is no entry (the kernel's offset 0 is the swap
 * header and is never handed out, so type 0 offset 0 never names a slot).
 */
public final class SwpEntry {
    /** MAX_SWAPFILES_SHIFT. */
    public static final int MAX_SWAPFILES_SHIFT = 5;
    /** SWP_TYPE_SHIFT = BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT. */
    public static final int SWP_TYPE_SHIFT = 63 - MAX_SWAPFILES_SHIFT;
    /** SWP_OFFSET_MASK. */
    public static final long SWP_OFFSET_MASK = (1L << SWP_TYPE_SHIFT) - 1;
    /**
     * MAX_SWAPFILES: the types left for swap devices once the non-swap entries take theirs from the
     * top (SWP_MIGRATION_NUM 3, SWP_HWPOISON_NUM 1, SWP_PTE_MARKER_NUM 1; SWP_DEVICE_NUM 0 without
     * CONFIG_DEVICE_PRIVATE). Of the non-swap kinds only PTE markers are produced here ({@link
     * PteMarker}); the other types are reserved so that {@link #nonSwapEntry} answers as the kernel does.
     */
    public static final int MAX_SWAPFILES = (1 << MAX_SWAPFILES_SHIFT) - 3 - 1 - 1;
    /** SWP_HWPOISON: the first type above the swap devices. */
    public static final int SWP_HWPOISON = MAX_SWAPFILES;
    /** SWP_PTE_MARKER = MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM + SWP_DEVICE_NUM: the top type. */
    public static final int SWP_PTE_MARKER = MAX_SWAPFILES + 1 + 3;

    private SwpEntry() {}

    /** swp_entry(type, offset). */
    public static long swpEntry(final int type, final long offset) {
        return ((long) type << SWP_TYPE_SHIFT) | (offset & SWP_OFFSET_MASK);
    }

    /** swp_type. */
    public static int swpType(final long entry) {
        return (int) (entry >>> SWP_TYPE_SHIFT);
    }

    /** swp_offset. */
    public static long swpOffset(final long entry) {
        return entry & SWP_OFFSET_MASK;
    }

    /** non_swap_entry: a migration, hwpoison or marker entry, not a slot on a swap device. */
    public static boolean nonSwapEntry(final long entry) {
        return swpType(entry) >= MAX_SWAPFILES;
    }

    /** "swap type=0 offset=0x1f" (or "pte marker guard"): how the trace and the walk dumps print an entry. */
    public static String describe(final long entry) {
        if (PteMarker.isPteMarkerEntry(entry)) {
            return PteMarker.describe(entry);
        }
        return "swap type=" + swpType(entry) + " offset=0x" + Long.toHexString(swpOffset(entry));
    }
}
