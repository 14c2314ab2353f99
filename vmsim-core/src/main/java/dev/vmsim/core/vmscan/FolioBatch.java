package dev.vmsim.core.vmscan;

import dev.vmsim.core.clock.Platform;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * struct folio_batch (include/linux/folio_batch.h) as one CPU's lru_add batch of struct cpu_fbatches
 * (mm/swap.c): up to {@link #PAGEVEC_SIZE} folios waiting to go on the LRU, each holding the
 * reference folio_add_lru took.
 *
 * <p><b>Locking.</b> cpu_fbatches.lock is a local_lock: preemption off on the owning CPU, no atomic
 * and no shared line, so it costs nothing on the virtual clock. Here threads can share a CPU id
 * and lru_add_drain_all reaches every batch from one thread, so {@link #lock} is a real mutual
 * exclusion: a flag taken by compare-and-set, spinning through the platform when taken (a
 * departure that only contention makes visible).
 */
final class FolioBatch {
    /** PAGEVEC_SIZE. */
    static final int PAGEVEC_SIZE = 31;

    final long[] folios = new long[PAGEVEC_SIZE];
    int nr;
    private final AtomicBoolean locked = new AtomicBoolean();

    /** local_lock. */
    void lock() {
        while (!locked.compareAndSet(false, true)) {
            Platform.current().spinWait();
        }
    }

    /** local_unlock. */
    void unlock() {
        locked.set(false);
    }

    /** folio_batch_add: returns the space left (0 = full, move the batch now). */
    int add(final long pfn) {
        folios[nr++] = pfn;
        return PAGEVEC_SIZE - nr;
    }

    /** folio_batch_count, read racily (validation, statistics). */
    int count() {
        return nr;
    }
}
