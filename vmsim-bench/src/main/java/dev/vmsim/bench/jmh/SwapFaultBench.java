package dev.vmsim.bench.jmh;

import dev.vmsim.core.lock.LockingMode;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * ns per fault through do_swap_page, modelled device time excluded: {@link #majorFault} loads from
 * a page whose PTE holds a swap entry and whose folio is not in the swap cache (swap_cache miss,
 * swapin_readahead, the read, VM_FAULT_MAJOR, pgmajfault), {@link #swapCacheHitFault} from one whose
 * folio is still in the swap cache (the minor fault of do_swap_page: no read, no major fault). Both
 * through the arch MMU and fault handler, as {@link FaultPathBench}'s faults.
 *
 * <p>Device time: the swap device's modelled latency is 0, and a zero-latency request completes
 * inside submit (SwapIo), so the fault neither sleeps nor retries; what remains of the device is
 * the 4 KiB copy from the slot (a RAM disk's memcpy). See {@link SwapFaultState}.
 *
 * <p>Each invocation faults {@link #PAGES} pages back (one op each); the per-invocation setup,
 * outside the measurement, reclaims them to swap first (and, for the swap-cache hit, reads them
 * into the swap cache). Level.Invocation is sound here: an invocation takes milliseconds, so its
 * timestamps add well under 0.1%.
 *
 * <p>Run: {@code java -jar vmsim-bench/target/benchmarks.jar SwapFaultBench}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class SwapFaultBench {
    /** Faults per invocation: 8 MiB of 4 KiB pages. */
    static final int PAGES = 2048;

    /** The machine of either state: its parameters, built once per trial. */
    @State(Scope.Thread)
    public abstract static class SwapMachine {
        @Param({"x86_64", "arm64"})
        public String arch;

        @Param({"per-vma"})
        public String locking;

        SwapFaultState s;

        @Setup(Level.Trial)
        public void setUp() {
            s = new SwapFaultState(arch, LockingMode.fromCliName(locking), PAGES);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            s.close();
        }
    }

    /** The machine, with the region swapped out before each invocation. */
    @State(Scope.Thread)
    public static class SwappedOut extends SwapMachine {
        @Setup(Level.Invocation)
        public void swapOut() {
            s.swapOutAll();
        }
    }

    /** The machine, with the region swapped out and read back into the swap cache before each invocation. */
    @State(Scope.Thread)
    public static class InSwapCache extends SwapMachine {
        @Setup(Level.Invocation)
        public void swapOutAndReadBack() {
            s.swapOutAll();
            s.readIntoSwapCache();
        }
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long majorFault(final SwappedOut state) {
        return state.s.faultAll();
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long swapCacheHitFault(final InSwapCache state) {
        return state.s.faultAll();
    }
}
