package dev.vmsim.core.phys;

/**
 * The page flags of include/linux/page-flags.h that reclaim and swap read and write: bit numbers
 * into {@link MemMap}'s per-frame flags word. Only order-0 folios exist here, so a folio's flags
 * are its one page's flags.
 */
public final class PageFlags {
    /** PG_locked: the folio lock (folio_lock / folio_trylock / folio_unlock). */
    public static final int PG_LOCKED = 0;
    /** PG_writeback: I/O to the backing store (swap) is in flight. */
    public static final int PG_WRITEBACK = 1;
    /** PG_referenced: seen referenced once by reclaim or by mark_page_accessed. */
    public static final int PG_REFERENCED = 2;
    /** PG_uptodate: the contents are valid (set after swap-in read completes). */
    public static final int PG_UPTODATE = 3;
    /** PG_dirty: must be written back before the folio can be freed. */
    public static final int PG_DIRTY = 4;
    /** PG_lru: the folio is on an LRU list. */
    public static final int PG_LRU = 5;
    /** PG_active: on the active list (with PG_lru). */
    public static final int PG_ACTIVE = 6;
    /** PG_workingset: refaulted soon after eviction. */
    public static final int PG_WORKINGSET = 7;
    /** PG_reclaim: reclaim asked for writeback; rotate to the inactive tail when it ends. */
    public static final int PG_RECLAIM = 8;
    /** PG_swapbacked: anonymous or shmem; backed by swap, not by a file. */
    public static final int PG_SWAPBACKED = 9;
    /** PG_swapcache: in the swap cache; {@link MemMap#privateValue} holds its swp_entry_t. */
    public static final int PG_SWAPCACHE = 10;
    /** PG_unevictable: on the unevictable list (mlock). */
    public static final int PG_UNEVICTABLE = 11;
    /** PG_anon_exclusive: the anonymous page is exclusive to one mm (may be reused without copy). */
    public static final int PG_ANON_EXCLUSIVE = 12;

    private static final String[] NAMES = {
        "locked",
        "writeback",
        "referenced",
        "uptodate",
        "dirty",
        "lru",
        "active",
        "workingset",
        "reclaim",
        "swapbacked",
        "swapcache",
        "unevictable",
        "anon_exclusive"
    };

    private PageFlags() {}

    /** The flags of {@code word} as the kernel's %pGp prints them: names joined by '|'. */
    public static String format(final long word) {
        final StringBuilder b = new StringBuilder();
        for (int bit = 0; bit < NAMES.length; bit++) {
            if ((word & (1L << bit)) != 0) {
                if (b.length() > 0) {
                    b.append('|');
                }
                b.append(NAMES[bit]);
            }
        }
        return b.toString();
    }
}
