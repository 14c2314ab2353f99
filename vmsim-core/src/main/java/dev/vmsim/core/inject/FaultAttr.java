package dev.vmsim.core.inject;

import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * struct fault_attr and should_fail() (include/linux/fault-inject.h, lib/fault-inject.c): decides
 * whether one call of an instrumented allocator fails, from the same four knobs the kernel's
 * debugfs files set.
 *
 * <ul>
 *   <li>{@code space}: the first {@code space} units of size pass ({@code size} is the caller's
 *       unit: pages for fail_page_alloc, as {@code should_fail_alloc_page} passes {@code 1 << order});
 *   <li>{@code interval}: then only every {@code interval}-th call is a candidate;
 *   <li>{@code probability}: a candidate fails with this percentage (100: always);
 *   <li>{@code times}: at most this many failures, -1 for no limit.
 * </ul>
 *
 * <p>Two ways to build one: {@link #nth} fails exactly the calls after a chosen point (for a test
 * that makes one particular allocation fail), {@link #random} fails a seeded random share (for a
 * run that explores error paths reproducibly).
 *
 * <p>Departures: no task filter, no stack-trace filter and no per-task {@code fail-nth} (the
 * {@code space} knob gives the same "fail the N-th" on one thread); the random source is seeded,
 * where the kernel's is not, so a failing run can be replayed.
 *
 * <p><b>Thread safety.</b> Any thread may call {@link #shouldFail}. {@code space} and {@code times}
 * are updated atomically; {@code count} is a racy increment in the kernel too, here an atomic so
 * that a single-threaded run is deterministic.
 */
public final class FaultAttr {
    private final long probability;
    private final long interval;
    private final AtomicLong times;
    private final AtomicLong space;
    private final AtomicLong count = new AtomicLong();
    private final Random random;
    private final AtomicLong failures = new AtomicLong();

    /**
     * @param probability percentage of candidate calls that fail, 0..100
     * @param interval every interval-th call is a candidate (1: every call)
     * @param times the most failures to inject, -1 for no limit
     * @param space units of size that pass before any call may fail
     * @param seed seed of the random source behind {@code probability}
     */
    public FaultAttr(final long probability, final long interval, final long times, final long space, final long seed) {
        if (probability < 0 || probability > 100) {
            throw new IllegalArgumentException("probability " + probability + " is not a percentage");
        }
        if (interval < 1 || times < -1 || space < 0) {
            throw new IllegalArgumentException(
                    "interval " + interval + " (>= 1), times " + times + " (>= -1), space " + space + " (>= 0)");
        }
        this.probability = probability;
        this.interval = interval;
        this.times = new AtomicLong(times);
        this.space = new AtomicLong(space);
        this.random = new Random(seed);
    }

    /**
     * Lets {@code skip} calls of size 1 pass, then fails the next {@code failures} calls (-1: every
     * later call). The kernel's space test is {@code space > size}, so skipping n unit calls takes
     * {@code space = n + 1}.
     */
    public static FaultAttr nth(final long skip, final long failures) {
        return new FaultAttr(100, 1, failures, skip + 1, 0);
    }

    /** Fails about {@code percent}% of calls, at most {@code failures} times (-1: no limit), from {@code seed}. */
    public static FaultAttr random(final long seed, final long percent, final long failures) {
        return new FaultAttr(percent, 1, failures, 0, seed);
    }

    /** should_fail(attr, size): whether this call of {@code size} units fails. */
    public boolean shouldFail(final long size) {
        if (probability == 0 || times.get() == 0) {
            return false;
        }
        for (long s = space.get(); s > size; s = space.get()) {
            if (space.compareAndSet(s, s - size)) {
                return false;
            }
        }
        if (interval > 1 && count.incrementAndGet() % interval != 0) {
            return false;
        }
        if (probability <= random.nextInt(100)) {
            return false;
        }
        // atomic_dec_not_zero(&attr->times) unless it is -1.
        for (long t = times.get(); t != -1; t = times.get()) {
            if (t == 0) {
                return false;
            }
            if (times.compareAndSet(t, t - 1)) {
                break;
            }
        }
        failures.incrementAndGet();
        return true;
    }

    /** Failures injected so far. */
    public long failures() {
        return failures.get();
    }
}
