package dev.vmsim.core.vmscan;

import dev.vmsim.core.clock.Platform;
import java.util.concurrent.atomic.LongAdder;

/**
 * reclaim_throttle (mm/vmscan.c): a reclaimer that cannot make progress now sleeps a little, for a
 * reason (enum vmscan_throttle_state) whose timeout the kernel fixes, instead of spinning through
 * its passes to the OOM killer while the I/O that would free memory is still in flight.
 *
 * <p>Timeouts at HZ=250 (one jiffy 4 ms, as {@code Swapin}'s): VMSCAN_THROTTLE_WRITEBACK HZ/10,
 * VMSCAN_THROTTLE_ISOLATED HZ/50, VMSCAN_THROTTLE_NOPROGRESS and VMSCAN_THROTTLE_CONGESTED one
 * jiffy. A WRITEBACK sleeper is woken early by a completed write (the kernel's
 * acct_reclaim_writeback wakes it once enough has been written; here the first write does).
 * Departure: the other reasons' early wake-ups (wake_throttle_isolated, a NOPROGRESS sleeper woken
 * by another reclaimer's progress) are not modelled; they sleep their whole timeout. Sleeps are on
 * the machine's clock ({@link SwapBackend#throttle}).
 *
 * <p>Thread safety: the counters are LongAdders, read after the run.
 */
public final class ReclaimThrottle {
    /** One jiffy at HZ=250. */
    static final long JIFFY_NS = 4_000_000;

    /** enum vmscan_throttle_state. */
    public enum Reason {
        /** Too many folios under writeback are being rotated for immediate reclaim (kswapd). */
        WRITEBACK(JIFFY_NS * 250 / 10, true),
        /** Too many folios isolated by other reclaimers (too_many_isolated). */
        ISOLATED(JIFFY_NS * 250 / 50, false),
        /** Direct reclaim made no progress at priority 1 (consider_reclaim_throttle). */
        NOPROGRESS(JIFFY_NS, false),
        /** The node's LRU is congested: the dirty folios found were all under writeback already. */
        CONGESTED(JIFFY_NS, false);

        final long timeoutNs;
        final boolean wakeOnWrite;

        Reason(final long timeoutNs, final boolean wakeOnWrite) {
            this.timeoutNs = timeoutNs;
            this.wakeOnWrite = wakeOnWrite;
        }
    }

    private final LongAdder[] throttled = new LongAdder[Reason.values().length];

    ReclaimThrottle() {
        for (int i = 0; i < throttled.length; i++) {
            throttled[i] = new LongAdder();
        }
    }

    /** reclaim_throttle(pgdat, reason): the calling reclaimer sleeps (see the class comment). */
    void throttle(final SwapBackend swap, final Reason reason) {
        throttled[reason.ordinal()].increment();
        swap.throttle(Platform.current().now() + reason.timeoutNs, reason.wakeOnWrite);
    }

    /** Times a reclaimer slept for {@code reason} (the mm_vmscan_throttled tracepoint, counted). */
    public long throttled(final Reason reason) {
        return throttled[reason.ordinal()].sum();
    }
}
