package dev.vmsim.bench.workload;

import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.bench.Workload;
import java.util.SplittableRandom;

/**
 * Memory pressure with swap: every task but the last sweeps a region of its own, together a working
 * set twice the machine's memory, reading back and checking what its last sweep wrote in each page
 * ({@link PatternRegion}), so reclaim (kswapd below the low watermark, direct reclaim below min)
 * swaps pages out and the sweep swaps them back in: major faults (do_swap_page) among the minor
 * ones. The order is sequential ({@code swap-storm-seq}) or a fresh random permutation each sweep
 * ({@code swap-storm}). As in fault-vs-munmap, with more than one thread the last task churns the mm
 * with mmap/mprotect/munmap of small VMAs: the mmap_lock writer that, with mmap-only locking, faults
 * queue behind while another fault waits for swap I/O.
 *
 * <p>Memory defaults to half the working set (plus the page tables and a little slack), swap to twice
 * the working set; --mem and --swap override both.
 */
public final class SwapStorm implements Workload {
    /** Pages in each faulting task's region. */
    static final int REGION_PAGES = 1024;
    /** Frames beyond the data: upper page-table levels, the zero page, the watermark reserve. */
    static final long KERNEL_FRAMES = 256;

    private final boolean random;

    public SwapStorm(final boolean random) {
        this.random = random;
    }

    @Override
    public String name() {
        return random ? "swap-storm" : "swap-storm-seq";
    }

    @Override
    public String summary() {
        return "threads sweep a working set twice memory (" + (random ? "random" : "sequential")
                + " order), checking each page's data after swap-in, while the last thread churns mmap/munmap";
    }

    private static int faulters(final int threads) {
        return threads > 1 ? threads - 1 : 1;
    }

    /** The working set in pages. */
    public static long workingSet(final int threads) {
        return (long) faulters(threads) * REGION_PAGES;
    }

    @Override
    public long frames(final int threads, final long pageSize) {
        return Pages.framesFor(workingSet(threads) + (long) threads * FaultVsMunmap.CHURN_MAX_PAGES);
    }

    @Override
    public long memBytes(final int threads, final long pageSize) {
        return memBytesAt(threads, pageSize, 50);
    }

    /**
     * Memory for {@code percent}% of the working set of a run of {@code threads} tasks, plus the page
     * tables that map the working set and {@link #KERNEL_FRAMES}.
     */
    public static long memBytesAt(final int threads, final long pageSize, final int percent) {
        final long ws = workingSet(threads);
        return (ws * percent / 100 + ws / 256 + KERNEL_FRAMES) * pageSize;
    }

    @Override
    public long swapBytes(final int threads, final long pageSize) {
        return 2 * workingSet(threads) * pageSize;
    }

    @Override
    public Instance start(final SimKernel kernel, final int threads, final long seed) {
        final HeldRegions held = new HeldRegions(kernel, threads);
        return new Instance() {
            @Override
            public TaskLoop task(final int index, final TaskRecorder rec) {
                return threads > 1 && index == threads - 1
                        ? new FaultVsMunmap.Churner(rec, Pages.random(seed, index))
                        : new Sweeper(
                                held.hold(index, new PatternRegion(rec, REGION_PAGES, index, "swap-storm")),
                                random ? Pages.random(seed, index) : null);
            }

            @Override
            public void finish() {
                held.unmapAll();
            }
        };
    }

    /**
     * Sweeps its region: checks and rewrites every page, in order or shuffled. The region stays
     * mapped after the task's rounds ({@link HeldRegions}).
     */
    private static final class Sweeper implements TaskLoop {
        private final PatternRegion region;
        private final SplittableRandom random;
        private final int[] order = Pages.identity(REGION_PAGES);

        Sweeper(final PatternRegion region, final SplittableRandom random) {
            this.region = region;
            this.random = random;
        }

        @Override
        public void round() {
            if (random != null) {
                Pages.shuffle(order, random);
            }
            region.sweep(order);
        }
    }
}
