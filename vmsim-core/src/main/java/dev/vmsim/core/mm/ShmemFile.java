package dev.vmsim.core.mm;

import dev.vmsim.core.phys.FrameAllocator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The shmem file behind a shared anonymous mapping (mm/shmem.c, shmem_zero_setup): every
 * MAP_SHARED|MAP_ANONYMOUS mmap gets its own file of the mapping's size; its page cache holds the
 * pages that every VMA mapping the file shares (after a split, a fork or an mremap move). A fault
 * beyond the file's size is SIGBUS, as on Linux after an mremap grows a shared anonymous mapping.
 *
 * <p>The page cache holds one reference on each of its pages; each PTE mapping a page holds
 * another, plus one map count.
 */
public final class ShmemFile {
    private final long sizeBytes;
    private final ConcurrentHashMap<Long, Long> pageCache = new ConcurrentHashMap<>();
    /** VMAs referring to this file (get_file / fput): the pages are dropped when the last goes. */
    private final AtomicInteger users = new AtomicInteger(1);

    public ShmemFile(final long sizeBytes) {
        this.sizeBytes = sizeBytes;
    }

    /** i_size. */
    public long size() {
        return sizeBytes;
    }

    /**
     * shmem_get_folio: the page at {@code pgoff}, allocated zeroed on first use, or {@link
     * FrameAllocator#NO_FRAME} if memory is exhausted. The caller must hold the page table lock of
     * the PTE it installs into and take its own reference for the mapping.
     */
    public long getPage(final long pgoff, final FrameAllocator frames, final int cpu) {
        final Long cached = pageCache.get(pgoff);
        if (cached != null) {
            return cached;
        }
        final long pfn = frames.allocZeroed(cpu);
        if (pfn == FrameAllocator.NO_FRAME) {
            return FrameAllocator.NO_FRAME;
        }
        final Long raced = pageCache.putIfAbsent(pgoff, pfn);
        if (raced != null) {
            frames.put(cpu, pfn);
            return raced;
        }
        return pfn;
    }

    /** Pages currently in the page cache. */
    public int cachedPages() {
        return pageCache.size();
    }

    /** get_file: one more VMA refers to the file. */
    public void get() {
        users.incrementAndGet();
    }

    /** fput: a VMA no longer refers to the file; the last one drops the page cache's references. */
    public void put(final FrameAllocator frames, final int cpu) {
        if (users.decrementAndGet() == 0) {
            for (final Long pfn : pageCache.values()) {
                frames.put(cpu, pfn);
            }
            pageCache.clear();
        }
    }
}
