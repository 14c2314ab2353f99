package dev.vmsim.core.vmscan;

import dev.vmsim.core.pgtable.Ptl;
import dev.vmsim.core.phys.MemMap;
import dev.vmsim.core.phys.PageFlags;

/**
 * struct lruvec of the machine's one node (include/linux/mmzone.h, include/linux/mm_inline.h): the
 * LRU lists and their sizes, under lru_lock. Folios are linked through per-pfn prev/next arrays
 * (the folio's lru list_head), each list a circular list with its own head, so adding and deleting
 * is O(1) and costs no allocation. The list head's next is the most recently added folio (list_add,
 * lruvec_add_folio); reclaim takes from the tail (lru_to_folio(&lruvec->lists[lru]) is its prev).
 *
 * <p>Anonymous folios only: the file lists exist, as the kernel's do, and stay empty, since the
 * simulator has no page cache (shmem folios stay off the LRU: a departure, they are never
 * reclaimed here).
 *
 * <p><b>Locking.</b> Every method but the size reads needs {@link #lruLock()} held; the sizes are
 * written under it and read racily (lruvec_page_state).
 */
public final class Lruvec {
    public static final int LRU_INACTIVE_ANON = 0;
    public static final int LRU_ACTIVE_ANON = 1;
    public static final int LRU_INACTIVE_FILE = 2;
    public static final int LRU_ACTIVE_FILE = 3;
    public static final int NR_LRU_LISTS = 4;
    private static final String[] NAMES = {"inactive_anon", "active_anon", "inactive_file", "active_file"};

    private final int frames;
    /** Links by index: a pfn, or {@code frames + lru} for a list head. */
    private final int[] next;

    private final int[] prev;
    private final long[] nrPages = new long[NR_LRU_LISTS];
    private final Ptl lruLock = new Ptl("lru_lock");
    private final MemMap memMap;

    public Lruvec(final MemMap memMap) {
        this.memMap = memMap;
        this.frames = memMap.size();
        this.next = new int[frames + NR_LRU_LISTS];
        this.prev = new int[frames + NR_LRU_LISTS];
        for (int lru = 0; lru < NR_LRU_LISTS; lru++) {
            next[frames + lru] = frames + lru;
            prev[frames + lru] = frames + lru;
        }
    }

    /** lruvec->lru_lock. */
    public Ptl lruLock() {
        return lruLock;
    }

    /** The list's name as /proc/vmstat's nr_* counters spell it. */
    public static String name(final int lru) {
        return NAMES[lru];
    }

    /** folio_lru_list: the list a folio on an LRU belongs on, from its PG_active bit. */
    public int folioLruList(final long pfn) {
        return memMap.test(pfn, PageFlags.PG_ACTIVE) ? LRU_ACTIVE_ANON : LRU_INACTIVE_ANON;
    }

    /** lruvec_add_folio: at the head (most recently used end) of its list. */
    public void addFolio(final long pfn) {
        insertAfter((int) pfn, frames + folioLruList(pfn));
    }

    /** lruvec_add_folio_tail: at the tail, to be reclaimed next (folio_rotate_reclaimable). */
    public void addFolioTail(final long pfn) {
        final int head = frames + folioLruList(pfn);
        insertAfter((int) pfn, prev[head]);
    }

    /** lruvec_del_folio from the list {@code lru} it is on. */
    public void delFolio(final long pfn, final int lru) {
        final int i = (int) pfn;
        next[prev[i]] = next[i];
        prev[next[i]] = prev[i];
        next[i] = i;
        prev[i] = i;
        addSize(lru, -1);
    }

    private void insertAfter(final int i, final int at) {
        final int lru = folioLruList(i);
        final int n = next[at];
        next[i] = n;
        prev[i] = at;
        prev[n] = i;
        next[at] = i;
        addSize(lru, 1);
    }

    /** The folio at the tail of {@code lru} (the least recently added), or -1 when it is empty. */
    public long tail(final int lru) {
        final int head = frames + lru;
        final int t = prev[head];
        return t == head ? -1 : t;
    }

    /** The folio before {@code pfn} on its list (towards the head), or -1 at the head. */
    public long prevOf(final long pfn) {
        final int p = prev[(int) pfn];
        return p >= frames ? -1 : p;
    }

    /** The folio after {@code pfn} on its list (towards the tail), or -1 at the tail. */
    public long nextOf(final long pfn) {
        final int n = next[(int) pfn];
        return n >= frames ? -1 : n;
    }

    /** The folio at the head of {@code lru} (the most recently added), or -1 when empty. */
    public long head(final int lru) {
        final int h = frames + lru;
        final int f = next[h];
        return f == h ? -1 : f;
    }

    /** lruvec_page_state(NR_LRU_BASE + lru): racy outside the lock. */
    public long size(final int lru) {
        return (long) SIZES.getOpaque(nrPages, lru);
    }

    /** Written under lru_lock; opaque so that racy readers see whole values. */
    private void addSize(final int lru, final long delta) {
        SIZES.setOpaque(nrPages, lru, (long) SIZES.getOpaque(nrPages, lru) + delta);
    }

    private static final java.lang.invoke.VarHandle SIZES =
            java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);
}
