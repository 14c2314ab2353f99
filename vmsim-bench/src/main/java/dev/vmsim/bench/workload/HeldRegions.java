package dev.vmsim.bench.workload;

import dev.vmsim.bench.SimKernel;

/**
 * The {@link PatternRegion}s of a run's tasks, kept mapped until every task has finished and
 * unmapped together by the instance's finish.
 *
 * <p>Why: a memory-pressure workload's working set is the sum of its tasks' regions, larger than
 * memory only while they are all mapped. Were each task to unmap its region when its own rounds
 * end, a task that ran its rounds before another started (on the host clock, a warm JIT sweeps
 * 1024 resident pages in well under a scheduling quantum) would hand its frames back first, and the
 * run would sweep one region at a time in a memory that holds it: no reclaim, no swap, one fault
 * per page in all. So a region outlives its task, as a thread's memory outlives the thread in a
 * process.
 *
 * <p>Each slot is written once, by its task's thread, before the task's first round; {@link
 * #unmapAll} runs after every task has been joined (host clock) or has ended on the virtual
 * scheduler, which orders those writes before it.
 */
final class HeldRegions {
    private final SimKernel kernel;
    private final PatternRegion[] regions;

    HeldRegions(final SimKernel kernel, final int tasks) {
        this.kernel = kernel;
        this.regions = new PatternRegion[tasks];
    }

    /** Keeps task {@code index}'s region mapped until {@link #unmapAll}; returns it. */
    PatternRegion hold(final int index, final PatternRegion region) {
        regions[index] = region;
        return region;
    }

    /** munmap of every region held: the workload instance's finish. */
    void unmapAll() {
        for (final PatternRegion r : regions) {
            if (r != null) {
                r.unmap(kernel);
            }
        }
    }
}
