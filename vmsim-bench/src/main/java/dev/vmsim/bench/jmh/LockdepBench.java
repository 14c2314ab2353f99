package dev.vmsim.bench.jmh;

import dev.vmsim.core.sync.LockClass;
import dev.vmsim.core.sync.RwSemaphore;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * What lockdep costs per acquisition: an uncontended down_read + up_read, and a nested pair (an
 * outer write hold, then an inner read of another class: one order-graph look-up), each with
 * lockdep off, on (the default of every test run), and on with every acquisition's stack
 * recorded ({@code -Dvmsim.lockdep.stacks=true}). The property is read once per JVM, so each
 * variant forks its own.
 *
 * <pre>
 * java -jar vmsim-bench/target/benchmarks.jar LockdepBench -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LockdepBench {
    private static final String ON = "-Dvmsim.lockdep=true";
    private static final String STACKS = "-Dvmsim.lockdep.stacks=true";

    private final RwSemaphore outer = new RwSemaphore(LockClass.of("bench_outer"), null);
    private final RwSemaphore inner = new RwSemaphore(LockClass.of("bench_inner"), null);

    private void read() {
        inner.downRead();
        inner.upRead();
    }

    private void nested() {
        outer.downWrite();
        inner.downRead();
        inner.upRead();
        outer.upWrite();
    }

    @Benchmark
    @Fork(1)
    public void readLockdepOff() {
        read();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = ON)
    public void readLockdepOn() {
        read();
    }

    @Benchmark
    @Fork(
            value = 1,
            jvmArgsAppend = {ON, STACKS})
    public void readLockdepStacks() {
        read();
    }

    @Benchmark
    @Fork(1)
    public void nestedLockdepOff() {
        nested();
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = ON)
    public void nestedLockdepOn() {
        nested();
    }

    @Benchmark
    @Fork(
            value = 1,
            jvmArgsAppend = {ON, STACKS})
    public void nestedLockdepStacks() {
        nested();
    }
}
