package dev.vmsim.core.swap;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * struct swap_info_struct (mm/swapfile.c): one swap device's slots and their counts.
 *
 * <p><b>swap_map.</b> One byte per slot: the number of swap PTEs (and other users) that hold the
 * entry, up to {@link #SWAP_MAP_MAX}, plus {@link #SWAP_HAS_CACHE} while a folio for the slot is in
 * the swap cache. A slot is free when its byte is 0. Slot 0 is the swap header and never handed
 * out (the kernel's si->swap_map[0] = SWAP_MAP_BAD), so no entry has offset 0.
 *
 * <p><b>Allocation</b> (the cluster allocator, simplified). Slots are grouped in clusters of
 * {@link #SWAPFILE_CLUSTER}; each CPU allocates from its own current cluster (si->percpu_cluster)
 * and takes a free one from the free-cluster list when it runs out, else scans the partly used
 * ones in order (the nonfull list). The free-cluster list is lock-free here (a freed cluster is
 * pushed under its cluster lock). Departures: only order-0 allocations; no discard, fragment or
 * full lists, no swap_slots cache; a cluster is "free" when its inuse count is 0.
 *
 * <p><b>Locking.</b> Every change of a slot's byte is made under its cluster's lock (ci->lock, a
 * Java monitor: a spinlock section with no preemption point inside); the free-cluster list and the
 * per-CPU cursors are under {@link #lock} (si->lock), taken before a cluster lock, never after.
 * Lock-free readers ({@link #swapCount}) use a volatile byte read (READ_ONCE).
 *
 * <p><b>Data.</b> The device's contents: a page of bytes per slot, written by the write path and
 * read back by the read path ({@link SwapIo}), so a page's data survives the round trip. Departure:
 * held on the Java heap, one array per used slot, rather than in a file.
 */
public final class SwapInfo {
    /** SWAP_HAS_CACHE: a folio for the slot is in the swap cache. */
    public static final int SWAP_HAS_CACHE = 0x40;
    /** SWAP_MAP_MAX: the largest count without a continuation (COUNT_CONTINUED is not modelled). */
    public static final int SWAP_MAP_MAX = 0x3e;
    /** SWAP_MAP_BAD: the header slot. */
    public static final int SWAP_MAP_BAD = 0x3f;
    /** SWAPFILE_CLUSTER: HPAGE_PMD_NR slots per cluster with 4 KiB pages. */
    public static final int SWAPFILE_CLUSTER = 512;

    private static final VarHandle BYTES = MethodHandles.arrayElementVarHandle(byte[].class);

    private final int type;
    private final long pages;
    private final int pageSize;
    private final byte[] swapMap;
    private final long[][] data;
    /** ci->lock of each cluster. */
    private final Object[] clusterLocks;
    /** Used slots of each cluster (ci->count); under the cluster's lock. */
    private final int[] clusterInuse;
    /** si->lock: guards {@link #cpuCluster} and serialises allocators. */
    private final Object lock = new Object();

    private final ConcurrentLinkedDeque<Integer> freeClusters = new ConcurrentLinkedDeque<>();
    /** si->percpu_cluster: the cluster each CPU allocates from (-1: none yet). */
    private final int[] cpuCluster;
    /** si->inuse_pages (slots with a non-zero byte, the header excepted). */
    private final AtomicLong inusePages = new AtomicLong();
    /** SWP_WRITEOK: slots may be allocated; swapoff clears it (del_from_avail_list) before try_to_unuse. */
    private final java.util.concurrent.atomic.AtomicBoolean writeOk =
            new java.util.concurrent.atomic.AtomicBoolean(true);

    /**
     * @param type the swap type (index in swap_info[])
     * @param pages slots, the header included (the kernel's si->max)
     * @param pageSize bytes per slot (PAGE_SIZE)
     * @param cpus CPUs that allocate (per-CPU clusters)
     */
    public SwapInfo(final int type, final long pages, final int pageSize, final int cpus) {
        if (pages < 2 || pages > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a swap device of " + pages + " pages");
        }
        this.type = type;
        this.pages = pages;
        this.pageSize = pageSize;
        this.swapMap = new byte[(int) pages];
        this.data = new long[(int) pages][];
        final int clusters = (int) ((pages + SWAPFILE_CLUSTER - 1) / SWAPFILE_CLUSTER);
        this.clusterLocks = new Object[clusters];
        this.clusterInuse = new int[clusters];
        for (int c = 0; c < clusters; c++) {
            clusterLocks[c] = new Object();
            freeClusters.add(c);
        }
        this.cpuCluster = new int[Math.max(1, cpus)];
        java.util.Arrays.fill(cpuCluster, -1);
        swapMap[0] = (byte) SWAP_MAP_BAD; // the header
        clusterInuse[0] = 1;
        freeClusters.remove(0);
    }

    public int type() {
        return type;
    }

    /** si->max: slots, the header included. */
    public long pages() {
        return pages;
    }

    /** si->pages: usable slots (the header excluded). */
    public long usablePages() {
        return pages - 1;
    }

    /** si->inuse_pages. */
    public long inusePages() {
        return inusePages.get();
    }

    /** SWP_WRITEOK: is the device in service for new slots? */
    public boolean writeOk() {
        return writeOk.get();
    }

    /**
     * swapoff's take-over: clears SWP_WRITEOK (the device leaves the avail list, folio_alloc_swap finds
     * no slot on it); false if it was clear already (another swapoff has it).
     */
    boolean clearWriteOk() {
        synchronized (lock) { // wait_for_allocation: no allocator is inside allocSlot once this returns
            return writeOk.compareAndSet(true, false);
        }
    }

    /** reinsert_swap_info: a failed swapoff puts the device back in service. */
    void setWriteOk() {
        writeOk.set(true);
    }

    private Object clusterLock(final long offset) {
        return clusterLocks[(int) (offset / SWAPFILE_CLUSTER)];
    }

    private int raw(final long offset) {
        return (int) (byte) BYTES.getVolatile(swapMap, (int) offset) & 0xff;
    }

    private void setRaw(final long offset, final int value) {
        BYTES.setVolatile(swapMap, (int) offset, (byte) value);
    }

    /** The slot's swap_map byte (READ_ONCE). */
    public int swapMap(final long offset) {
        return raw(offset);
    }

    /** swap_count: the slot's count without SWAP_HAS_CACHE. */
    public int swapCount(final long offset) {
        return raw(offset) & ~SWAP_HAS_CACHE;
    }

    /** Does the slot have SWAP_HAS_CACHE? */
    public boolean hasCache(final long offset) {
        return (raw(offset) & SWAP_HAS_CACHE) != 0;
    }

    /**
     * folio_alloc_swap's slot: allocates a free slot with SWAP_HAS_CACHE set (the folio goes into the
     * swap cache next) and returns its offset, or 0 when the device is full.
     * (cluster_alloc_swap_entry / alloc_swap_scan_cluster, simplified as the class comment says.)
     */
    public long allocSlot(final int cpu) {
        synchronized (lock) {
            if (!writeOk.get()) {
                return 0; // off the avail list: swapoff is emptying the device
            }
            final int c = cpu % cpuCluster.length;
            final int cur = cpuCluster[c];
            if (cur >= 0) {
                final long off = scanCluster(cur);
                if (off != 0) {
                    return off;
                }
            }
            final Integer free = freeClusters.poll();
            if (free != null) {
                cpuCluster[c] = free;
                final long off = scanCluster(free);
                if (off != 0) {
                    return off;
                }
            }
            for (int n = 0; n < clusterLocks.length; n++) { // the nonfull clusters, in order
                final long off = scanCluster(n);
                if (off != 0) {
                    cpuCluster[c] = n;
                    return off;
                }
            }
            return 0;
        }
    }

    /** alloc_swap_scan_cluster: the first free slot of cluster {@code c}, taken; 0 if none. Under si->lock. */
    private long scanCluster(final int c) {
        final long start = (long) c * SWAPFILE_CLUSTER;
        final long end = Math.min(pages, start + SWAPFILE_CLUSTER);
        synchronized (clusterLocks[c]) {
            if (clusterInuse[c] == end - start) {
                return 0;
            }
            for (long off = start; off < end; off++) {
                if (raw(off) == 0) {
                    setRaw(off, SWAP_HAS_CACHE);
                    clusterInuse[c]++;
                    inusePages.incrementAndGet();
                    return off;
                }
            }
            return 0;
        }
    }

    /** swap_range_free / free_cluster: the slot's byte reached 0. Under the cluster lock. */
    private void slotFreed(final long offset) {
        final int c = (int) (offset / SWAPFILE_CLUSTER);
        data[(int) offset] = null;
        inusePages.decrementAndGet();
        if (--clusterInuse[c] == 0) {
            // Lock-free list: a cluster lock is held here, and allocSlot takes si->lock before a
            // cluster lock, so taking si->lock here would be an ABBA. A cluster on the list that an
            // allocator has used meanwhile only costs a scan.
            freeClusters.add(c);
        }
    }

    /**
     * __swap_duplicate(entry, 1): one more reference (a swap PTE copied by fork, or unmapped by
     * try_to_unmap). Returns 0, -ENOENT for a free slot (the kernel's "no count and no cache"), or
     * -ENOMEM when the count is at SWAP_MAP_MAX (the kernel would add a continuation page).
     */
    public int swapDuplicate(final long offset) {
        synchronized (clusterLock(offset)) {
            final int v = raw(offset);
            final int count = v & ~SWAP_HAS_CACHE;
            if (v == 0 || v == SWAP_MAP_BAD) {
                return -dev.vmsim.core.mm.Errno.ENOENT;
            }
            if (count >= SWAP_MAP_MAX) {
                return -dev.vmsim.core.mm.Errno.ENOMEM;
            }
            setRaw(offset, v + 1);
            return 0;
        }
    }

    /**
     * swapcache_prepare(entry, 1): SWAP_HAS_CACHE for a slot that is in use and has none: the caller
     * then owns adding its folio to the swap cache. 0, -EEXIST if another task has the cache bit,
     * -ENOENT if the slot is free (it was freed since the caller read its PTE).
     */
    public int swapcachePrepare(final long offset) {
        synchronized (clusterLock(offset)) {
            final int v = raw(offset);
            if ((v & ~SWAP_HAS_CACHE) == 0 || v == SWAP_MAP_BAD) {
                return -dev.vmsim.core.mm.Errno.ENOENT;
            }
            if ((v & SWAP_HAS_CACHE) != 0) {
                return -dev.vmsim.core.mm.Errno.EEXIST;
            }
            setRaw(offset, v | SWAP_HAS_CACHE);
            return 0;
        }
    }

    /**
     * __swap_entry_free(si, entry) / swap_entry_put: drops one count reference. Returns the byte left
     * (so {@code == SWAP_HAS_CACHE} means only the swap cache still holds the slot); 0 means the
     * slot was freed.
     */
    public int swapEntryPut(final long offset) {
        synchronized (clusterLock(offset)) {
            final int v = raw(offset);
            if ((v & ~SWAP_HAS_CACHE) == 0 || v == SWAP_MAP_BAD) {
                throw new IllegalStateException(
                        "swap_free of slot " + offset + " with swap_map 0x" + Integer.toHexString(v));
            }
            final int left = v - 1;
            setRaw(offset, left);
            if (left == 0) {
                slotFreed(offset);
            }
            return left;
        }
    }

    /**
     * put_swap_folio's half for one slot (swap_entry_range_free when the count is already 0): clears
     * SWAP_HAS_CACHE. Returns the count left; 0 means the slot was freed.
     */
    public int clearCache(final long offset) {
        synchronized (clusterLock(offset)) {
            final int v = raw(offset);
            if ((v & SWAP_HAS_CACHE) == 0) {
                throw new IllegalStateException("put_swap_folio on slot " + offset + " without SWAP_HAS_CACHE");
            }
            final int left = v & ~SWAP_HAS_CACHE;
            setRaw(offset, left);
            if (left == 0) {
                slotFreed(offset);
            }
            return left;
        }
    }

    /**
     * The slot's stored page as PAGE_SIZE / 8 words (null if never written). The read path reads it
     * after the write that stored it completed (the folio stayed in the swap cache until then, so no
     * read of the slot could start earlier); the completion's handoff orders the two.
     */
    long[] data(final long offset) {
        return data[(int) offset];
    }

    /** Stores a page into the slot (the write path's completion). */
    void setData(final long offset, final long[] page) {
        if (page.length * 8 != pageSize) {
            throw new IllegalArgumentException("a page of " + page.length * 8 + " bytes");
        }
        data[(int) offset] = page;
    }
}
