package dev.vmsim.core.phys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * should_reclaim_retry's decision for an order-0 request: the no-progress count, its bound
 * MAX_RECLAIM_RETRIES, and the "would it fit if everything reclaimable were reclaimed" test at the
 * min watermark.
 */
class ShouldReclaimRetryTest {
    private static final long MIN = 32;

    @Test
    void reclaimablePagesAndFreePagesTogetherAboveMinMeanRetry() {
        final int[] loops = {0};
        assertTrue(FrameAllocator.shouldReclaimRetry(false, loops, 20, 20, MIN), "20 free + 20 swappable > 32");
        assertEquals(1, loops[0], "a round without progress is counted");
        assertFalse(
                FrameAllocator.shouldReclaimRetry(false, new int[] {0}, 10, 20, MIN),
                "30 pages at most: even reclaiming all of them would not lift the zone above min");
        assertFalse(
                FrameAllocator.shouldReclaimRetry(false, new int[] {0}, 12, 20, MIN),
                "exactly min is not above it (__zone_watermark_ok: free <= min fails)");
    }

    @Test
    void progressResetsTheCountAndRoundsWithoutProgressEndAfterMaxReclaimRetries() {
        final int[] loops = {0};
        for (int i = 1; i <= FrameAllocator.MAX_RECLAIM_RETRIES; i++) {
            assertTrue(FrameAllocator.shouldReclaimRetry(false, loops, 100, 10, MIN), "round " + i);
        }
        assertFalse(
                FrameAllocator.shouldReclaimRetry(false, loops, 100, 10, MIN),
                "past MAX_RECLAIM_RETRIES rounds without progress: out_of_memory");
        assertTrue(FrameAllocator.shouldReclaimRetry(true, loops, 100, 10, MIN), "progress starts the count again");
        assertEquals(0, loops[0]);
    }
}
