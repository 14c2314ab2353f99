package dev.vmsim.bench.jmh;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.Control;

/**
 * The host's cache-line figures for a machine profile, measured apart from any pft table
 * (machine-profiles.md §4, "Keep the tables out of the fit"):
 *
 * <ul>
 *   <li>{@code atomicLocal}: one thread increments a line it owns: {@code atomic_local} = the score.
 *   <li>{@code pingPong}: two threads take turns on one line, each waiting (spinning) for the other's
 *       increment; each op is a round trip, so one ownership transfer ({@code c2c_*}) = score / 2,
 *       the same round-trip/2 that core-to-core-latency reports.
 *   <li>{@code queued}: two threads increment one line back to back without waiting for each other;
 *       the line serves both, so the interval between increments ({@code handoff_queued}) = score /
 *       threads. With more host CPUs run it with {@code -t N} and divide by N.
 * </ul>
 *
 * <pre>
 * java -jar vmsim-bench/target/benchmarks.jar CacheLineHandoffBench -f 1 -wi 3 -w 1s -i 5 -r 1s
 * </pre>
 *
 * <p>The line is padded on both sides (64 bytes each way, as Agrona pads) so that nothing else
 * shares it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CacheLineHandoffBench {
    /** One contended word on a line of its own. */
    @State(Scope.Group)
    public static class Line {
        long p01, p02, p03, p04, p05, p06, p07, p08;
        final AtomicLong word = new AtomicLong();
        long q01, q02, q03, q04, q05, q06, q07, q08;
    }

    /** A word shared by every thread of the benchmark. */
    @State(Scope.Benchmark)
    public static class Shared {
        long p01, p02, p03, p04, p05, p06, p07, p08;
        final AtomicLong word = new AtomicLong();
        long q01, q02, q03, q04, q05, q06, q07, q08;
    }

    /** A word of the thread's own. */
    @State(Scope.Thread)
    public static class Own {
        final AtomicLong word = new AtomicLong();
    }

    @Benchmark
    @Threads(1)
    public long atomicLocal(final Own own) {
        return own.word.incrementAndGet();
    }

    @Benchmark
    @Threads(2)
    public long queued(final Shared s) {
        return s.word.incrementAndGet();
    }

    @Benchmark
    @Group("pingPong")
    @GroupThreads(1)
    public void ping(final Line line, final Control control) {
        turn(line.word, 0, control);
    }

    @Benchmark
    @Group("pingPong")
    @GroupThreads(1)
    public void pong(final Line line, final Control control) {
        turn(line.word, 1, control);
    }

    /** Waits for the word's parity to be {@code parity}, then increments it (the other side's turn). */
    private static void turn(final AtomicLong w, final long parity, final Control control) {
        for (; ; ) {
            final long v = w.get();
            if ((v & 1) == parity && w.compareAndSet(v, v + 1)) {
                return;
            }
            if (control.stopMeasurement) {
                return; // the partner has left the iteration: do not wait for it
            }
            Thread.onSpinWait();
        }
    }
}
