package dev.vmsim.core.clock;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Which runnable CPU the {@link VirtualScheduler} runs at a preemption point. Every policy is a
 * function of its seed and of the sequence of points, so a schedule replays from its description.
 *
 * <ul>
 *   <li>{@link #earliestClock()}: the CPU with the smallest clock, ties by CPU id; for
 *       measurement, since it processes every cache-line access in virtual-time order.
 *   <li>{@link #random(long)}: a uniformly random runnable CPU at every point.
 *   <li>{@link #randomDelays(long, double, long)}: earliest clock, but at each preemption point the
 *       running CPU is, with probability p, delayed by a random time up to a bound: delay injection
 *       (how Jann Horn reproduced BUG-03), for races whose windows are a few steps of one CPU
 *       against many of another.
 *   <li>{@link #pct(long, int, long)}: PCT (Burckhardt et al., ASPLOS 2010): random distinct
 *       priorities, the highest runnable runs, and at {@code depth - 1} random steps the running
 *       CPU drops below all others; finds any bug of depth d with probability at least
 *       1/(n k^(d-1)) per run.
 * </ul>
 */
public abstract class SchedulePolicy {
    private SchedulePolicy() {}

    /**
     * The CPU to run next: {@code current} (null when it just parked or ended) or one of the queue.
     *
     * @param step the number of preemption points passed so far
     */
    abstract VirtualCpu choose(VirtualCpu current, RunQueue queue, long step);

    /** Called once per CPU before the run starts, in id order. */
    void register(final List<VirtualCpu> cpus) {}

    /** What replays this schedule, e.g. "random(seed=42)". */
    public abstract String describe();

    @Override
    public String toString() {
        return describe();
    }

    public static SchedulePolicy earliestClock() {
        return new SchedulePolicy() {
            @Override
            VirtualCpu choose(final VirtualCpu current, final RunQueue queue, final long step) {
                final VirtualCpu top = queue.peek();
                if (current != null && (top == null || RunQueue.before(current, top))) {
                    return current;
                }
                return top;
            }

            @Override
            public String describe() {
                return "earliest-clock";
            }
        };
    }

    public static SchedulePolicy random(final long seed) {
        return new SchedulePolicy() {
            private final SplittableRandom rng = new SplittableRandom(seed);

            @Override
            VirtualCpu choose(final VirtualCpu current, final RunQueue queue, final long step) {
                final int n = queue.size() + (current != null ? 1 : 0);
                if (n == 0) {
                    return null;
                }
                final int r = rng.nextInt(n);
                return r == queue.size() ? current : queue.get(r);
            }

            @Override
            public String describe() {
                return "random(seed=" + seed + ")";
            }
        };
    }

    /**
     * @param probability chance that a preemption point delays the running CPU
     * @param maxDelayNs the longest delay; each is uniform in [1, maxDelayNs]
     */
    public static SchedulePolicy randomDelays(final long seed, final double probability, final long maxDelayNs) {
        final SchedulePolicy earliest = earliestClock();
        return new SchedulePolicy() {
            private final SplittableRandom rng = new SplittableRandom(seed);

            @Override
            VirtualCpu choose(final VirtualCpu current, final RunQueue queue, final long step) {
                if (current != null && rng.nextDouble() < probability) {
                    current.clockPs += 1000 * (1 + rng.nextLong(maxDelayNs)); // an injected delay, not a cost
                }
                return earliest.choose(current, queue, step);
            }

            @Override
            public String describe() {
                return "random-delays(seed=" + seed + ", p=" + probability + ", max=" + maxDelayNs + "ns)";
            }
        };
    }

    /**
     * @param depth the bug depth d (d - 1 priority change points)
     * @param steps the expected number of preemption points of a run (k), where change points fall
     */
    public static SchedulePolicy pct(final long seed, final int depth, final long steps) {
        if (depth < 1 || steps < 1) {
            throw new IllegalArgumentException("pct needs depth >= 1 and steps >= 1");
        }
        return new SchedulePolicy() {
            private final SplittableRandom rng = new SplittableRandom(seed);
            private final long[] changes = new long[depth - 1];

            @Override
            void register(final List<VirtualCpu> cpus) {
                final int n = cpus.size();
                final int[] perm = new int[n];
                for (int i = 0; i < n; i++) {
                    perm[i] = i;
                }
                for (int i = n - 1; i > 0; i--) { // Fisher-Yates
                    final int j = rng.nextInt(i + 1);
                    final int t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                }
                for (int i = 0; i < n; i++) {
                    cpus.get(i).priority = depth + perm[i];
                }
                for (int i = 0; i < changes.length; i++) {
                    changes[i] = 1 + rng.nextLong(steps);
                }
            }

            @Override
            VirtualCpu choose(final VirtualCpu current, final RunQueue queue, final long step) {
                if (current != null) {
                    for (int i = 0; i < changes.length; i++) {
                        if (changes[i] == step) {
                            current.priority = depth - 1 - i;
                        }
                    }
                }
                VirtualCpu best = current;
                for (int i = 0; i < queue.size(); i++) {
                    final VirtualCpu c = queue.get(i);
                    if (best == null || c.priority > best.priority) {
                        best = c;
                    }
                }
                return best;
            }

            @Override
            public String describe() {
                return "pct(seed=" + seed + ", depth=" + depth + ", steps=" + steps + ")";
            }
        };
    }
}
