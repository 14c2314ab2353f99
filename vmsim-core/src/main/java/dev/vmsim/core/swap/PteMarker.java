package dev.vmsim.core.swap;

/**
 * PTE markers (include/linux/swapops.h, 6.18): a non-present PTE that holds no page and no swap
 * slot but tells the fault path something about the address. The entry is a {@link SwpEntry} of
 * type {@link SwpEntry#SWP_PTE_MARKER} whose offset carries the marker bits, stored in a PTE through
 * the arch's swap-PTE layout ({@link dev.vmsim.core.pgtable.PageTableFormat#swpEntryToPte}), so the
 * hardware walker sees a not-present entry and faults.
 *
 * <p>Only {@link #PTE_MARKER_GUARD} is produced here (MADV_GUARD_INSTALL); UFFD_WP and POISONED are
 * defined so that the bit values, copy_pte_marker and handle_pte_marker read as the kernel's.
 * Because a marker is a non-swap entry it is never counted in MM_SWAPENTS and never reaches
 * swap_map: every path that frees or duplicates a slot checks {@link SwpEntry#nonSwapEntry} first.
 */
public final class PteMarker {
    /** PTE_MARKER_UFFD_WP: BIT(0). Not produced (no userfaultfd). */
    public static final long PTE_MARKER_UFFD_WP = 1L;
    /** PTE_MARKER_POISONED: BIT(1). Not produced (no hwpoison). */
    public static final long PTE_MARKER_POISONED = 1L << 1;
    /** PTE_MARKER_GUARD: BIT(2), a guard region page: any access is a fatal SIGSEGV. */
    public static final long PTE_MARKER_GUARD = 1L << 2;
    /** PTE_MARKER_MASK: BIT(3) - 1. */
    public static final long PTE_MARKER_MASK = (1L << 3) - 1;

    private PteMarker() {}

    /** make_pte_marker_entry. */
    public static long makePteMarkerEntry(final long marker) {
        return SwpEntry.swpEntry(SwpEntry.SWP_PTE_MARKER, marker);
    }

    /** is_pte_marker_entry. */
    public static boolean isPteMarkerEntry(final long entry) {
        return SwpEntry.swpType(entry) == SwpEntry.SWP_PTE_MARKER;
    }

    /** pte_marker_get. */
    public static long pteMarkerGet(final long entry) {
        return SwpEntry.swpOffset(entry) & PTE_MARKER_MASK;
    }

    /** is_guard_swp_entry. */
    public static boolean isGuardSwpEntry(final long entry) {
        return isPteMarkerEntry(entry) && (pteMarkerGet(entry) & PTE_MARKER_GUARD) != 0;
    }

    /**
     * copy_pte_marker (mm/memory.c) for fork: poison and guard markers are always copied; a uffd-wp
     * marker only into a VMA registered for uffd-wp, which no VMA here is. Returns the child's marker
     * bits, 0 for none.
     */
    public static long copyPteMarker(final long entry) {
        return pteMarkerGet(entry) & (PTE_MARKER_POISONED | PTE_MARKER_GUARD);
    }

    /** "pte marker guard": for the trace and walk dumps. */
    public static String describe(final long entry) {
        final long m = pteMarkerGet(entry);
        final StringBuilder sb = new StringBuilder("pte marker");
        if ((m & PTE_MARKER_UFFD_WP) != 0) {
            sb.append(" uffd_wp");
        }
        if ((m & PTE_MARKER_POISONED) != 0) {
            sb.append(" poisoned");
        }
        if ((m & PTE_MARKER_GUARD) != 0) {
            sb.append(" guard");
        }
        return m == 0 ? "pte marker 0" : sb.toString();
    }
}
