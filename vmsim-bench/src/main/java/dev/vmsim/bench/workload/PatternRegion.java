package dev.vmsim.bench.workload;

import static dev.vmsim.bench.workload.Pages.ANON;
import static dev.vmsim.bench.workload.Pages.RW;

import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.core.arch.SigInfo;

/**
 * A task's anonymous region whose pages carry a pattern: each sweep reads every page back and checks
 * the byte the previous sweep wrote (a page swapped out in between must come back with its data:
 * do_swap_page), then writes the next sweep's byte. A wrong byte fails the run.
 *
 * <p>Two bytes per page are checked, at the start and in the middle of the page, so that a swap-in
 * that returned another page's data, or a page of zeros, cannot pass.
 */
final class PatternRegion {
    private final TaskRecorder rec;
    private final long base;
    private final long page;
    private final int pages;
    private final int salt;
    /** Sweeps done; the pattern of sweep {@code g} is {@link #pattern}(p, g). */
    private int generation;

    PatternRegion(final TaskRecorder rec, final int pages, final int salt, final String what) {
        this.rec = rec;
        this.page = rec.pageSize();
        this.pages = pages;
        this.salt = salt;
        this.base = Pages.mapped(rec.mmap(0, pages * page, RW, ANON), what);
    }

    int pages() {
        return pages;
    }

    private byte pattern(final int p, final int g, final int half) {
        return (byte) (salt * 977 + p * 131 + g * 29 + half * 71 + 1);
    }

    /** One sweep over the pages in {@code order}: check the last sweep's bytes, write this sweep's. */
    void sweep(final int[] order) {
        final int g = generation;
        for (final int p : order) {
            for (int half = 0; half < 2; half++) {
                final long va = base + p * page + half * (page / 2);
                if (g > 0) {
                    final int got = rec.read(va);
                    final int want = pattern(p, g - 1, half) & 0xff;
                    if (got != want) {
                        throw new IllegalStateException(
                                "data lost: page " + p + (half == 0 ? "" : " (middle)") + " of task " + salt + " read "
                                        + got + " after sweep " + (g - 1) + ", expected " + want);
                    }
                }
                final int sig = rec.write(va, pattern(p, g, half));
                if (sig != SigInfo.OK) {
                    throw new IllegalStateException("signal " + sig + " writing page " + p + " of task " + salt);
                }
            }
        }
        generation = g + 1;
    }

    /** munmap of the region, by the workload instance once every task has finished ({@link HeldRegions}). */
    void unmap(final SimKernel kernel) {
        kernel.munmap(base, pages * page);
    }
}
