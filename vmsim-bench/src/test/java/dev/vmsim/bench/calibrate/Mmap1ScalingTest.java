package dev.vmsim.bench.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.profile.LockShare;
import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.bench.profile.ResidualFit;
import dev.vmsim.bench.profile.Spread;
import dev.vmsim.bench.workload.Mmap1;
import dev.vmsim.core.lock.LockingMode;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * mmap1 on the virtual clock with residuals split by a lock share: one thread reproduces the
 * measurement the split was fitted to, and a second thread overlaps only the part outside the lock.
 */
@Timeout(120)
class Mmap1ScalingTest {
    private static final int ROUNDS = 400;
    /**
     * A pair large beside the modelled steps, so that the residuals decide the timing: at two threads
     * each call also moves the lock's and the mm's lines between the CPUs (about 200 ns each on the
     * host profile), under 1% of this pair.
     */
    private static final double PAIR_NS = 200_000;

    private static MachineProfile fitted(final LockShare share) {
        final MachineProfile base = MachineProfiles.shipped("host");
        final Map<String, MachineProfile.Parameter> m =
                ResidualFit.mmapOther(base, Spread.single(PAIR_NS), share, "test");
        return base.with("test", "host with mmap residuals split by " + share, m);
    }

    private static double scaling(final MachineProfile p) {
        return Calibration.modelMmap1Scaling(KernelFactory.simulator(), p, "x86_64", LockingMode.PER_VMA, ROUNDS, 1);
    }

    @Test
    void oneThreadReproducesThePairTheFitWasMadeFrom() {
        final MachineProfile p = fitted(new LockShare(0.2, 0.25, "test"));
        final double perSecond = new WorkloadRunner(KernelFactory.simulator())
                .run(
                        RunConfig.rounds(new Mmap1(), "x86_64", LockingMode.PER_VMA, 1, ROUNDS, 1)
                                .withClock(ClockKind.VIRTUAL)
                                .withMachine(p),
                        WorkloadRunner.Progress.NONE)
                .syscallsPerSec();
        // Two system calls per pair; the engine charges a little the step lists do not (the workload's loop).
        assertEquals(PAIR_NS, 2e9 / perSecond, PAIR_NS * 0.02);
    }

    @Test
    void aSecondThreadOverlapsOnlyThePartOutsideTheLock() {
        // 45% of the pair under the lock: two threads can overlap fully (55% outside covers the other's 45%).
        final double split = scaling(fitted(new LockShare(0.2, 0.25, "test")));
        assertTrue(split > 1.8 && split <= 2.0, "0.45 locked: " + split);
        // 70% under the lock: the lock caps two threads at 1 / 0.7 = 1.43x.
        final double mostlyLocked = scaling(fitted(new LockShare(0.3, 0.4, "test")));
        assertTrue(mostlyLocked > 1.3 && mostlyLocked <= 1.43, "0.70 locked: " + mostlyLocked);
        // All of it under the lock (no trace): no gain from the second thread.
        final double whole = scaling(fitted(null));
        assertTrue(whole < 1.05, "all locked: " + whole);
    }
}
