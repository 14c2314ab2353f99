package dev.vmsim.core.phys;

/**
 * One CPU's list of free frames in front of the zone (struct per_cpu_pages in mm/page_alloc.c):
 * frees go here, allocations are served from here, and it is refilled from / drained to the
 * {@link ZoneFreeArea} in batches of {@code batch} so the zone lock is taken once per batch.
 *
 * <p><b>Thread safety.</b> Guarded by its own monitor, the analogue of {@code pcp->lock}
 * ({@code pcp_spin_lock()}): a simulated CPU's list is normally used by one thread, but callers may
 * map several threads onto one list and {@code drain_all_pages()} drains it from another thread.
 * Lock order: pcp lock, then zone lock.
 */
final class PerCpuPages {
    private final long[] frames;
    private final int batch;
    private final int high;
    private int count;
    // Counters are written under the monitor and read racily (opaque-enough for statistics).
    private volatile long hits;
    private volatile long misses;
    private volatile long refills;
    private volatile long drains;

    PerCpuPages(final int batch, final int high) {
        this.batch = batch;
        this.high = high;
        this.frames = new long[high + batch];
    }

    /** rmqueue_pcplist(): a frame from this list, refilling a batch from the zone when empty; or NO_FRAME. */
    synchronized long alloc(final ZoneFreeArea zone) {
        if (count == 0) {
            misses++;
            count = zone.removeBatch(frames, 0, batch);
            if (count == 0) {
                return FrameAllocator.NO_FRAME;
            }
            refills++;
        } else {
            hits++;
        }
        return frames[--count];
    }

    /** free_unref_page_commit(): puts the frame on this list, draining a batch when above high. */
    synchronized void free(final ZoneFreeArea zone, final long pfn) {
        frames[count++] = pfn;
        if (count > high) {
            count -= batch;
            zone.addBatch(frames, count, batch);
            drains++;
        }
    }

    /** drain_pages_zone(): returns every frame on this list to the zone. */
    synchronized void drainAll(final ZoneFreeArea zone) {
        if (count > 0) {
            zone.addBatch(frames, 0, count);
            count = 0;
            drains++;
        }
    }

    synchronized int count() {
        return count;
    }

    long hits() {
        return hits;
    }

    long misses() {
        return misses;
    }

    long refills() {
        return refills;
    }

    long drains() {
        return drains;
    }
}
