package dev.vmsim.bench.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.profile.LockShare;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The mmap_lock trace's arithmetic on a trace written here, in tracefs's format with the TSC clock. */
class MmapLockTraceTest {
    private static final long EVENT = 100;
    private static final long PERIOD = 5000;

    private static void line(
            final StringBuilder b, final long ts, final String event, final boolean write, final String more) {
        b.append(String.format(
                Locale.ROOT,
                "           mmap1-4242    [001] ..... %d: %s: mm=000000006e8bb5ab memcg_id=33167 write=%s%s%n",
                ts,
                event,
                write,
                more));
    }

    /**
     * {@code pairs} mmap+munmap pairs: every event costs {@link #EVENT} after its timestamp; mmap
     * holds the lock 900 (its hold spans one event: 1000), munmap 1300 (two events: 1500), the pair
     * takes 4300 without events ({@link #PERIOD} with its seven). A page fault's read lock between
     * the pairs is not a write-locked call.
     */
    private static String trace(final int pairs) {
        final StringBuilder b = new StringBuilder("# tracer: nop\n#\n");
        long t = 1_000_000;
        for (int i = 0; i < pairs; i++) {
            line(b, t, "mmap_lock_start_locking", true, "");
            line(b, t + EVENT, "mmap_lock_acquire_returned", true, " success=true");
            line(b, t + EVENT + 1000, "mmap_lock_released", true, "");
            final long u = t + 2000;
            line(b, u, "mmap_lock_start_locking", true, "");
            line(b, u + EVENT, "mmap_lock_acquire_returned", true, " success=true");
            line(b, u + EVENT + 600, "mmap_lock_acquire_returned", false, " success=true");
            line(b, u + EVENT + 1500, "mmap_lock_released", false, "");
            line(b, u + 1700, "mmap_lock_start_locking", false, "");
            line(b, u + 1710, "mmap_lock_acquire_returned", false, " success=true");
            line(b, u + 1750, "mmap_lock_released", false, "");
            t += PERIOD;
        }
        return b.toString();
    }

    @Test
    void theHoldsLessTheEventsOwnCostOverThePairLessItsEvents() {
        final LockShare s = MmapLockTrace.parse(trace(200), 200);
        assertEquals(900.0 / 4300, s.mmap(), 1e-9);
        assertEquals(1300.0 / 4300, s.munmap(), 1e-9);
        assertTrue(s.source().contains("median hold mmap 1000, munmap 1500"), s.source());
        assertTrue(
                s.source().contains("one event = the median start_locking to acquire_returned, 100 cycles"),
                s.source());
    }

    @Test
    void aTraceTooShortToMeasureIsAnError() {
        final IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> MmapLockTrace.parse(trace(50), 50));
        assertTrue(e.getMessage().contains("50 mmap and 50 munmap calls"), e.getMessage());
    }

    @Test
    void theSelectedClockIsTheBracketedOne() {
        assertEquals(
                "local", MmapLockTrace.selected("[local] global counter uptime perf mono mono_raw boot tai x86-tsc\n"));
        assertEquals("x86-tsc", MmapLockTrace.selected("local global [x86-tsc]"));
    }
}
