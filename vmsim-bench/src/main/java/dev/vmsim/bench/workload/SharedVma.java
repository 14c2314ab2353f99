package dev.vmsim.bench.workload;

import static dev.vmsim.bench.workload.Pages.ANON;
import static dev.vmsim.bench.workload.Pages.RW;

import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.bench.Workload;
import dev.vmsim.core.mm.Mman;
import java.util.SplittableRandom;

/**
 * Every task faults pages of ONE large VMA: each owns a slice of it, touches the slice's pages in a
 * seeded random order, then MADV_DONTNEEDs the slice so the next round faults again.
 *
 * <p>The per-VMA lock does not help here: all faults read-lock the same VMA (vm_refcnt is one
 * shared cache line) and share its page-table pages; the case where per-VMA locking gains least.
 */
public final class SharedVma implements Workload {
    /** Pages in each task's slice. */
    static final int SLICE_PAGES = 64;

    @Override
    public String name() {
        return "shared-vma";
    }

    @Override
    public String summary() {
        return "every thread faults pages of one large VMA (touch + MADV_DONTNEED its own slice)";
    }

    @Override
    public long frames(final int threads, final long pageSize) {
        return Pages.framesFor((long) threads * SLICE_PAGES);
    }

    @Override
    public Instance start(final SimKernel kernel, final int threads, final long seed) {
        final long page = kernel.pageSize();
        final long len = (long) threads * SLICE_PAGES * page;
        final long vma = Pages.mapped(kernel.mmap(0, len, RW, ANON), name());
        return new Instance() {
            @Override
            public TaskLoop task(final int index, final TaskRecorder rec) {
                return new Slice(rec, vma + (long) index * SLICE_PAGES * page, page, Pages.random(seed, index));
            }

            @Override
            public void finish() {
                kernel.munmap(vma, len);
            }
        };
    }

    private static final class Slice implements TaskLoop {
        private final TaskRecorder rec;
        private final long start;
        private final long page;
        private final SplittableRandom random;
        private final int[] order = Pages.identity(SLICE_PAGES);

        Slice(final TaskRecorder rec, final long start, final long page, final SplittableRandom random) {
            this.rec = rec;
            this.start = start;
            this.page = page;
            this.random = random;
        }

        @Override
        public void round() {
            Pages.shuffle(order, random);
            for (final int p : order) {
                rec.touch(start + p * page);
            }
            rec.madvise(start, SLICE_PAGES * page, Mman.MADV_DONTNEED);
        }
    }
}
