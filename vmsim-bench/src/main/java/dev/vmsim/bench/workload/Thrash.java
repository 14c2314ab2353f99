package dev.vmsim.bench.workload;

import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.bench.Workload;

/**
 * Thrashing: the tasks sweep, sequentially, a working set of {@code percent}% of a fixed memory
 * ({@link #MEMORY_PAGES} pages), each page checked and rewritten ({@link PatternRegion}). Below 100%
 * every sweep after the first is TLB and page-table hits; above it, a sequential sweep over an LRU is
 * the worst case, every page evicted before it is reached again, and the faults/s fall off a cliff
 * (the knee). {@link ThrashSweep} runs it at 50%..200% and tabulates the knee; the registered
 * {@code thrash} is the 150% step.
 */
public final class Thrash implements Workload {
    /** The memory every step runs in, in pages of data (page tables and slack come on top). */
    static final int MEMORY_PAGES = 2048;

    private final int percent;

    public Thrash(final int percent) {
        if (percent < 1) {
            throw new IllegalArgumentException("thrash working set " + percent + "% of memory");
        }
        this.percent = percent;
    }

    public int percent() {
        return percent;
    }

    @Override
    public String name() {
        return "thrash";
    }

    @Override
    public String summary() {
        return "threads sweep a working set of " + percent + "% of memory in order, checking data after swap-in"
                + " (ThrashSweep steps it 50%..200% to show the knee)";
    }

    /** The working set in pages. */
    long workingSet() {
        return (long) MEMORY_PAGES * percent / 100;
    }

    private int regionPages(final int threads) {
        return (int) Math.max(1, workingSet() / threads);
    }

    @Override
    public long frames(final int threads, final long pageSize) {
        return Pages.framesFor((long) regionPages(threads) * threads);
    }

    @Override
    public long memBytes(final int threads, final long pageSize) {
        return (MEMORY_PAGES + MEMORY_PAGES / 256 + SwapStorm.KERNEL_FRAMES) * pageSize;
    }

    @Override
    public long swapBytes(final int threads, final long pageSize) {
        return 2 * Math.max(workingSet(), MEMORY_PAGES) * pageSize;
    }

    @Override
    public Instance start(final SimKernel kernel, final int threads, final long seed) {
        final int pages = regionPages(threads);
        final HeldRegions held = new HeldRegions(kernel, threads);
        return new Instance() {
            @Override
            public TaskLoop task(final int index, final TaskRecorder rec) {
                return new Sweeper(held.hold(index, new PatternRegion(rec, pages, index, "thrash")), pages);
            }

            @Override
            public void finish() {
                held.unmapAll();
            }
        };
    }

    /** Sweeps its share of the working set in address order; the region outlives it ({@link HeldRegions}). */
    private static final class Sweeper implements TaskLoop {
        private final PatternRegion region;
        private final int[] order;

        Sweeper(final PatternRegion region, final int pages) {
            this.region = region;
            this.order = Pages.identity(pages);
        }

        @Override
        public void round() {
            region.sweep(order);
        }
    }
}
