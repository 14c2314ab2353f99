package dev.vmsim.bench.workload;

import static dev.vmsim.bench.workload.Pages.ANON;
import static dev.vmsim.bench.workload.Pages.RW;

import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.bench.Workload;
import dev.vmsim.core.mm.Mman;
import java.util.SplittableRandom;

/**
 * The speculative-page-fault benchmark shape: each task maps 10 VMAs of 10 pages, faults every page
 * of them in a seeded random order, and unmaps them, round after round. Many small VMAs and many
 * mmap/munmap calls between faults: the VMA tree changes under the faults of other tasks.
 *
 * <p>Adjacent VMAs alternate PROT_READ|PROT_WRITE and PROT_READ|PROT_WRITE|PROT_EXEC so that
 * vma_merge cannot fold them into one VMA when the allocator places them side by side.
 */
public final class Spf implements Workload {
    static final int VMAS = 10;
    static final int PAGES = 10;

    @Override
    public String name() {
        return "spf";
    }

    @Override
    public String summary() {
        return "each thread maps 10 VMAs of 10 pages, faults every page in random order, unmaps them";
    }

    @Override
    public long frames(final int threads, final long pageSize) {
        return Pages.framesFor((long) threads * VMAS * PAGES);
    }

    @Override
    public Instance start(final SimKernel kernel, final int threads, final long seed) {
        return (index, rec) -> new Loop(rec, Pages.random(seed, index));
    }

    private static final class Loop implements TaskLoop {
        private final TaskRecorder rec;
        private final SplittableRandom random;
        private final long[] vmas = new long[VMAS];
        private final int[] order = Pages.identity(VMAS * PAGES);
        private final long page;

        Loop(final TaskRecorder rec, final SplittableRandom random) {
            this.rec = rec;
            this.page = rec.pageSize();
            this.random = random;
        }

        @Override
        public void round() {
            for (int v = 0; v < VMAS; v++) {
                final int prot = (v & 1) == 0 ? RW : RW | Mman.PROT_EXEC;
                vmas[v] = Pages.mapped(rec.mmap(0, PAGES * page, prot, ANON), "spf");
            }
            Pages.shuffle(order, random);
            for (final int p : order) {
                rec.touch(vmas[p / PAGES] + (p % PAGES) * page);
            }
            for (int v = 0; v < VMAS; v++) {
                rec.munmap(vmas[v], PAGES * page);
            }
        }
    }
}
