package dev.vmsim.bench.workload;

import static dev.vmsim.bench.workload.Pages.ANON;
import static dev.vmsim.bench.workload.Pages.RW;

import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.bench.Workload;
import dev.vmsim.core.mm.Mman;
import java.util.SplittableRandom;

/**
 * The per-VMA-lock showcase: every task but the last faults continuously in a region of its own
 * (touch every page, then MADV_DONTNEED the region so the next touch faults again), while the last
 * task churns the same mm with mmap, mprotect and munmap of small VMAs elsewhere.
 *
 * <p>With mmap-only locking each fault takes mmap_lock for read and queues behind the churner's
 * writes; with per-VMA locks a fault locks only its own VMA (lock_vma_under_rcu) and the churner's
 * writes to other VMAs do not stop it. MADV_DONTNEED itself takes mmap_lock for read, as in the
 * kernel. With one thread there is no churner.
 */
public final class FaultVsMunmap implements Workload {
    /** Pages in each faulting task's region. */
    static final int REGION_PAGES = 64;
    /** Largest churned VMA, in pages. */
    static final int CHURN_MAX_PAGES = 8;

    @Override
    public String name() {
        return "fault-vs-munmap";
    }

    @Override
    public String summary() {
        return "threads fault (touch + MADV_DONTNEED) in regions of their own while the last thread"
                + " churns mmap/mprotect/munmap of small VMAs (per-VMA lock showcase)";
    }

    @Override
    public long frames(final int threads, final long pageSize) {
        return Pages.framesFor((long) threads * (REGION_PAGES + CHURN_MAX_PAGES));
    }

    @Override
    public Instance start(final SimKernel kernel, final int threads, final long seed) {
        return (index, rec) -> threads > 1 && index == threads - 1
                ? new Churner(rec, Pages.random(seed, index))
                : new Faulter(rec, Pages.random(seed, index));
    }

    /** Touches its region page by page in a seeded random order, then zaps it with MADV_DONTNEED. */
    private static final class Faulter implements TaskLoop {
        private final TaskRecorder rec;
        private final SplittableRandom random;
        private final long region;
        private final long page;
        private final int[] order = Pages.identity(REGION_PAGES);

        Faulter(final TaskRecorder rec, final SplittableRandom random) {
            this.rec = rec;
            this.random = random;
            this.page = rec.pageSize();
            this.region = Pages.mapped(rec.mmap(0, REGION_PAGES * page, RW, ANON), "fault-vs-munmap");
        }

        @Override
        public void round() {
            Pages.shuffle(order, random);
            for (final int p : order) {
                rec.touch(region + p * page);
            }
            rec.madvise(region, REGION_PAGES * page, Mman.MADV_DONTNEED);
        }

        @Override
        public void finish() {
            rec.munmap(region, REGION_PAGES * page);
        }
    }

    /** Maps a small VMA, makes half of it read-only (a VMA split), touches nothing, unmaps it. */
    static final class Churner implements TaskLoop {
        private final TaskRecorder rec;
        private final SplittableRandom random;

        Churner(final TaskRecorder rec, final SplittableRandom random) {
            this.rec = rec;
            this.random = random;
        }

        @Override
        public void round() {
            final long page = rec.pageSize();
            final long len = (2 + random.nextInt(CHURN_MAX_PAGES - 1)) * page;
            final long addr = Pages.mapped(rec.mmap(0, len, RW, ANON), "fault-vs-munmap churn");
            rec.mprotect(addr, (len / page / 2) * page, Mman.PROT_READ);
            rec.munmap(addr, len);
        }
    }
}
