package dev.vmsim.core.trace;

import dev.vmsim.core.lock.MmapLock;
import dev.vmsim.core.lock.MmapLockTraceSink;

/**
 * Forwards the mmap_lock tracepoints (include/trace/events/mmap_lock.h) to a {@link TraceSink} as
 * instant events with the kernel's names: mmap_lock_start_locking, mmap_lock_acquire_returned and
 * mmap_lock_released, with the kernel's {@code write} and {@code success} fields, and {@code lock}
 * naming the lock (its identity hash in hex; the kernel's events name the mm's memcg path instead),
 * so that a reader can tell which release ended which wait. The simulator's upgrade (which the
 * kernel does not have) emits the same events with {@code upgrade=true}.
 */
final class MmapLockBridge implements MmapLockTraceSink {
    static final String START_LOCKING = "mmap_lock_start_locking";
    static final String ACQUIRE_RETURNED = "mmap_lock_acquire_returned";
    static final String RELEASED = "mmap_lock_released";

    private final TraceSink sink;

    MmapLockBridge(final TraceSink sink) {
        this.sink = sink;
    }

    /** The field that tells the upgrade's events from the kernel's. */
    static final String UPGRADE = "upgrade";

    @Override
    public void startLocking(final MmapLock lock, final boolean write) {
        sink.event(TraceSink.INSTANT, START_LOCKING, new String[] {"write", Boolean.toString(write), "lock", id(lock)});
    }

    @Override
    public void acquireReturned(final MmapLock lock, final boolean write, final boolean success) {
        sink.event(TraceSink.INSTANT, ACQUIRE_RETURNED, new String[] {
            "write", Boolean.toString(write), "success", Boolean.toString(success), "lock", id(lock)
        });
    }

    @Override
    public void released(final MmapLock lock, final boolean write) {
        sink.event(TraceSink.INSTANT, RELEASED, new String[] {"write", Boolean.toString(write), "lock", id(lock)});
    }

    private static String id(final MmapLock lock) {
        return Integer.toHexString(System.identityHashCode(lock));
    }

    @Override
    public void upgradeStartLocking(final MmapLock lock) {
        sink.event(TraceSink.INSTANT, START_LOCKING, new String[] {"write", "true", UPGRADE, "true", "lock", id(lock)});
    }

    @Override
    public void upgradeReleasedRead(final MmapLock lock) {
        sink.event(TraceSink.INSTANT, RELEASED, new String[] {"write", "false", UPGRADE, "true", "lock", id(lock)});
    }

    @Override
    public void upgradeAcquireReturned(final MmapLock lock, final boolean success) {
        sink.event(TraceSink.INSTANT, ACQUIRE_RETURNED, new String[] {
            "write", "true", "success", Boolean.toString(success), UPGRADE, "true", "lock", id(lock)
        });
    }
}
