package dev.vmsim.bench.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.bench.workload.Pft;
import dev.vmsim.core.lock.LockingMode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A virtual-clock run reports its progress while it runs, as a host run does: fractions that only
 * grow, some strictly between 0 and 1, ending at 1.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class VirtualProgressTest {
    private static List<Double> progressOf(final RunConfig cfg) {
        final List<Double> seen = new CopyOnWriteArrayList<>();
        new WorkloadRunner(KernelFactory.simulator()).run(cfg, seen::add);
        return seen;
    }

    private static void assertGrowsThroughToOne(final List<Double> seen) {
        assertTrue(seen.stream().anyMatch(f -> f > 0 && f < 1), "a fraction on the way: " + seen);
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i) >= seen.get(i - 1), "never goes back: " + seen);
        }
        assertEquals(1.0, seen.get(seen.size() - 1), "ends at 1: " + seen);
    }

    /** Bounded by rounds (--iterations): rounds done of rounds asked for; a few host seconds, ticks every 100 ms. */
    @Test
    void aRoundsBoundedRunReportsRoundsDone() {
        assertGrowsThroughToOne(progressOf(RunConfig.rounds(new Pft(1 << 20), "x86_64", LockingMode.PER_VMA, 16, 12, 1)
                .withMachine(MachineProfiles.load("icelake-2s-64c"))
                .withClock(ClockKind.VIRTUAL)));
    }

    /** Bounded by virtual time: the slowest CPU's clock at its last round's end, of the duration. */
    @Test
    void aDurationBoundedRunReportsVirtualTime() {
        assertGrowsThroughToOne(
                progressOf(RunConfig.timed(new Pft(1 << 20), "x86_64", LockingMode.PER_VMA, 16, Duration.ofMillis(3), 1)
                        .withMachine(MachineProfiles.load("icelake-2s-64c"))
                        .withClock(ClockKind.VIRTUAL)));
    }
}
