package dev.vmsim.core.lock;

/**
 * Receiver of the mmap_lock tracepoints (include/trace/events/mmap_lock.h). Installed with {@link
 * MmapLock#setTraceSink}; with no sink installed a tracepoint costs one volatile null check.
 */
public interface MmapLockTraceSink {
    /** trace_mmap_lock_start_locking(mm, write). */
    void startLocking(MmapLock lock, boolean write);

    /** trace_mmap_lock_acquire_returned(mm, write, success). */
    void acquireReturned(MmapLock lock, boolean write, boolean success);

    /** trace_mmap_lock_released(mm, write). */
    void released(MmapLock lock, boolean write);

    /**
     * The simulator's upgrade (MmapLock#upgradeTrylock, which the kernel does not have) begins: shaped
     * like start_locking(write=true) and told apart by an upgrade field. Default: that event.
     */
    default void upgradeStartLocking(final MmapLock lock) {
        startLocking(lock, true);
    }

    /** The upgrade turned the read hold into the write hold: shaped like released(write=false). */
    default void upgradeReleasedRead(final MmapLock lock) {
        released(lock, false);
    }

    /** The upgrade returned: shaped like acquire_returned(write=true, success). */
    default void upgradeAcquireReturned(final MmapLock lock, final boolean success) {
        acquireReturned(lock, true, success);
    }
}
