package dev.vmsim.core.clock;

import java.util.function.LongFunction;
import java.util.function.Supplier;

/**
 * Schedule exploration: runs a scenario under many seeded schedules (random or PCT) on the virtual
 * clock until one fails, and replays any schedule from its seed. A scenario spawns its tasks on the
 * scheduler it is given and checks its invariants once every task has ended; a failure is anything a
 * task or the check throws, a {@link SimulationDeadlock} included (a lost wake-up or a wait that can
 * never end).
 */
public final class Explorer {
    private Explorer() {}

    /** One run of a test scenario: fresh state per run. */
    public interface Scenario {
        /** Adds the scenario's tasks. */
        void spawn(VirtualScheduler s);

        /** Checks the invariants after every task ended; throws on a violation. */
        default void check() {}
    }

    /** A failing schedule: its seed, how to replay it, and what failed. */
    public record Finding(long seed, String schedule, int schedulesTried, Throwable failure) {}

    /**
     * Runs a fresh scenario under {@code policies.apply(seed)} for seeds 0 .. maxSchedules-1;
     * returns the first failure, or null if every schedule passed.
     */
    public static Finding explore(
            final CostModel model,
            final LongFunction<SchedulePolicy> policies,
            final Supplier<? extends Scenario> scenarios,
            final int maxSchedules) {
        for (long seed = 0; seed < maxSchedules; seed++) {
            final SchedulePolicy p = policies.apply(seed);
            final Throwable t = replay(model, p, scenarios);
            if (t != null) {
                return new Finding(seed, p.describe(), (int) seed + 1, t);
            }
        }
        return null;
    }

    /** Runs a fresh scenario under {@code policy}; returns what failed, or null. */
    public static Throwable replay(
            final CostModel model, final SchedulePolicy policy, final Supplier<? extends Scenario> scenarios) {
        final Scenario sc = scenarios.get();
        final VirtualScheduler s = new VirtualScheduler(model, policy);
        try {
            sc.spawn(s);
            s.run();
            sc.check();
            return null;
        } catch (RuntimeException | Error e) {
            return e;
        }
    }
}
