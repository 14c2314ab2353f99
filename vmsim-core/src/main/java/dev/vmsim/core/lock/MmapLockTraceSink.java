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
}
