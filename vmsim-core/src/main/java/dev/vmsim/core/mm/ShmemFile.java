package dev.vmsim.core.mm;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The file behind a shared anonymous mapping (shmem_zero_setup, mm/shmem.c): each
 * MAP_SHARED|MAP_ANONYMOUS mmap gets its own object, so such mappings never merge with each
 * other, while pieces of one mapping (split by mprotect) merge back.
 *
 * <p>{@link #pageCache} is the shmem page cache, page offset to frame, for the fault path: a
 * shared fault looks the page up here (or installs a zeroed frame with putIfAbsent) so every
 * mapping of the object, and every fork child, sees the same data.
 */
public final class ShmemFile {
    private static final AtomicLong IDS = new AtomicLong();

    /** i_size in bytes. */
    public final long size;
    /** pgoff to pfn; the cache holds one frame reference per entry. */
    public final ConcurrentHashMap<Long, Long> pageCache = new ConcurrentHashMap<>();
    private final long id = IDS.incrementAndGet();

    public ShmemFile(final long size) {
        this.size = size;
    }

    @Override
    public String toString() {
        return "shmem#" + id;
    }
}
