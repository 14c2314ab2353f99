package dev.vmsim.core.pgtable;

/**
 * An architecture's page-table entry format, as the generic page-table code sees it (the
 * {@code pte_*}, {@code pmd_*}, {@code pfn_pte}, {@code pte_modify} helpers of
 * include/linux/pgtable.h and arch/&lt;arch&gt;/include/asm/pgtable.h).
 *
 * <p>Levels are numbered from the leaf: level 0 holds PTEs (the kernel's pte level), level
 * {@code levels() - 1} is the root (pgd). Every table is one frame of the simulated {@link
 * dev.vmsim.core.phys.PhysicalMemory}, of PAGE_SIZE bytes, holding PAGE_SIZE / 8 64-bit entries
 * (PTRS_PER_PTE: 512 with 4 KiB pages, 2048 with 16 KiB, 8192 with 64 KiB); a short root uses only
 * the first {@code 1 << indexBits(root)} of them. Entries are read by the hardware walker without
 * locks and written by the kernel with atomic operations.
 *
 * <p>Frame numbers ({@link #pfn}, {@link #pfnPte}, {@link #mkTable}) are in units of PAGE_SIZE,
 * as the kernel's are.
 *
 * <p>Implementations are immutable and thread-safe; every method is a pure function of its
 * arguments.
 */
public interface PageTableFormat {
    /** Number of translation levels: 4 for x86-64 4-level paging and arm64 4K/48-bit, 5 for LA57. */
    int levels();

    /** PAGE_SHIFT: 12 for 4 KiB pages (x86-64, arm64 4K), 14 and 16 for the arm64 16K and 64K granules. */
    default int pageShift() {
        return 12;
    }

    /** Number of virtual-address bits translated (48 or 57 on x86-64; 48 or 52 on arm64). */
    int vaBits();

    /** Shift of the virtual-address bits that index a table at {@code level} (12, 21, 30, 39, 48 for 4 KiB pages). */
    int levelShift(int level);

    /** Number of index bits at {@code level} (PAGE_SHIFT - 3 below the root: 9, 11 or 13). */
    int indexBits(int level);

    /** Index into the table at {@code level} for virtual address {@code va}. */
    default int index(long va, int level) {
        return (int) ((va >>> levelShift(level)) & ((1L << indexBits(level)) - 1));
    }

    /** Highest user virtual address + 1 (TASK_SIZE): 2^47 for x86-64 4-level, 2^48 for arm64 48-bit VA. */
    long taskSize();

    /**
     * DEFAULT_MAP_WINDOW: the part of the user address space a process gets unless it asks for
     * more. STACK_TOP and mmap_base are computed from it, and get_unmapped_area searches above it
     * only for a hint above it. Equal to {@link #taskSize()} unless the format translates more VA
     * than the ABI hands out by default (x86-64 LA57: the 47-bit window of 4-level paging).
     */
    default long defaultMapWindow() {
        return taskSize();
    }

    // ---- non-leaf entries (pgd/p4d/pud/pmd) ----

    /** The entry that points a level-{@code level} slot at the next-level table in frame {@code tablePfn} (pmd_populate). */
    long mkTable(long tablePfn, int level);

    /**
     * Whether replacing the entry {@code old} at {@code level} with {@code update} in place, with no
     * invalid entry and TLB invalidation in between, is allowed (arm64's pgattr_change_is_safe and
     * the Arm ARM's break-before-make rule); checked on every entry store in the debug build ({@link
     * SafePteUpdate}). The default, for an architecture with no such rule modelled: always.
     */
    default boolean pgattrChangeIsSafe(long old, long update, int level) {
        return true;
    }

    /** {@code true} if the entry at {@code level} points to a next-level table (not none, not a leaf/block). */
    boolean isTable(long entry, int level);

    /** {@code true} if the entry at {@code level > 0} maps a huge page / block (pmd_leaf, pud_leaf). */
    boolean isHugeLeaf(long entry, int level);

    /** Physical frame number the entry points to: the next table, or the mapped page for a leaf. */
    long pfn(long entry);

    // ---- leaf entries (PTEs) ----

    /**
     * The protection bits for a VMA with the given {@code vm_flags} (vm_get_page_prot: the
     * protection_map lookup on VM_READ|VM_WRITE|VM_EXEC|VM_SHARED). Private writable mappings get a
     * read-only (copy-on-write) protection, exactly as protection_map does.
     */
    long vmGetPageProt(long vmFlags);

    /** A leaf PTE for frame {@code pfn} with protection {@code prot} (pfn_pte). */
    long pfnPte(long pfn, long prot);

    /** pte_modify: keep the pfn and the hardware-managed state (young, dirty), take the rest from {@code prot}. */
    long pteModify(long pte, long prot);

    /** pte_none: the entry is empty (all zero). */
    default boolean pteNone(long pte) {
        return pte == 0;
    }

    /** pte_present: the entry maps a page (including PROT_NONE entries that are present to software). */
    boolean ptePresent(long pte);

    boolean pteWrite(long pte);

    boolean pteDirty(long pte);

    boolean pteYoung(long pte);

    /** pte_special: maps a page with no struct-page refcounting (the shared zero page). */
    boolean pteSpecial(long pte);

    long pteMkwrite(long pte);

    long pteWrprotect(long pte);

    long pteMkdirty(long pte);

    long pteMkclean(long pte);

    long pteMkyoung(long pte);

    long pteMkold(long pte);

    long pteMkspecial(long pte);

    // ---- swap PTEs (non-present leaf entries holding a swp_entry_t) ----

    /**
     * __swp_entry_to_pte(__swp_entry(type, offset)): the arch's swap PTE for a slot, with no flag
     * bits (not exclusive). It is never none and never present.
     */
    long mkSwapPte(int type, long offset);

    /** __swp_type(__pte_to_swp_entry(pte)) of a swap PTE (flag bits ignored, as pte_swp_clear_flags would). */
    int swapPteType(long pte);

    /** __swp_offset(__pte_to_swp_entry(pte)) of a swap PTE. */
    long swapPteOffset(long pte);

    /** pte_swp_exclusive: the PG_anon_exclusive the page had when it was unmapped. */
    boolean pteSwpExclusive(long pte);

    long pteSwpMkexclusive(long pte);

    long pteSwpClearExclusive(long pte);

    /** is_swap_pte: neither none nor present. */
    default boolean isSwapPte(final long pte) {
        return !pteNone(pte) && !ptePresent(pte);
    }

    /** pte_to_swp_entry: the architecture-independent {@link dev.vmsim.core.swap.SwpEntry} of a swap PTE. */
    default long pteToSwpEntry(final long pte) {
        return dev.vmsim.core.swap.SwpEntry.swpEntry(swapPteType(pte), swapPteOffset(pte));
    }

    /** swp_entry_to_pte. */
    default long swpEntryToPte(final long entry) {
        return mkSwapPte(dev.vmsim.core.swap.SwpEntry.swpType(entry), dev.vmsim.core.swap.SwpEntry.swpOffset(entry));
    }

    /**
     * is_swap_pte && !non_swap_entry: a swap PTE that names a slot on a swap device, the only kind
     * swap_map, MM_SWAPENTS and the swap cache may see (a PTE marker is a swap PTE too, and is not).
     */
    default boolean isSwapSlotPte(final long pte) {
        return isSwapPte(pte) && !dev.vmsim.core.swap.SwpEntry.nonSwapEntry(pteToSwpEntry(pte));
    }

    /** is_pte_marker: a swap PTE holding a {@link dev.vmsim.core.swap.PteMarker} entry. */
    default boolean isPteMarker(final long pte) {
        return isSwapPte(pte) && dev.vmsim.core.swap.PteMarker.isPteMarkerEntry(pteToSwpEntry(pte));
    }

    /** make_pte_marker: swp_entry_to_pte(make_pte_marker_entry(marker)). */
    default long makePteMarker(final long marker) {
        return swpEntryToPte(dev.vmsim.core.swap.PteMarker.makePteMarkerEntry(marker));
    }

    /** is_guard_pte_marker (mm/madvise.c): a PTE marker with PTE_MARKER_GUARD. */
    default boolean isGuardPteMarker(final long pte) {
        return isSwapPte(pte) && dev.vmsim.core.swap.PteMarker.isGuardSwpEntry(pteToSwpEntry(pte));
    }

    /** A human-readable decode of an entry at a level, for walk dumps ("P RW US A D NX pfn=0x1234"). */
    String describe(long entry, int level);
}
