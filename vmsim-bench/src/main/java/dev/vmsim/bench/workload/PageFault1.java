package dev.vmsim.bench.workload;

import static dev.vmsim.bench.workload.Pages.ANON;
import static dev.vmsim.bench.workload.Pages.RW;

import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.bench.Workload;

/**
 * will-it-scale page_fault1: each task maps 128 MiB of private anonymous memory, writes one byte to
 * every page (one write fault per page: do_anonymous_page), and unmaps it, round after round. A
 * round is 128 MiB / PAGE_SIZE faults: 32768 with 4 KiB pages, 8192 with 16 KiB, 2048 with 64 KiB.
 *
 * <p>Every task has a mapping of its own, so the tasks share only the mm: its mmap_lock (taken for
 * write by mmap and munmap, for read by faults in mmap-only mode) and its maple tree. Deterministic:
 * the seed is not used.
 */
public final class PageFault1 implements Workload {
    /** The mapping size of will-it-scale's page_fault1.c (MEMSIZE). */
    public static final long MEMSIZE = 128L << 20;

    private final long size;

    public PageFault1() {
        this(MEMSIZE);
    }

    /** A smaller variant for tests. */
    public PageFault1(final long size) {
        this.size = size;
    }

    @Override
    public String name() {
        return "page-fault1";
    }

    @Override
    public String summary() {
        return "each thread maps " + (size >> 20) + " MiB private anon, writes one byte per page, unmaps"
                + " (will-it-scale page_fault1)";
    }

    @Override
    public long frames(final int threads, final long pageSize) {
        return Pages.framesFor(threads * (size / pageSize));
    }

    @Override
    public Instance start(final SimKernel kernel, final int threads, final long seed) {
        return (index, rec) -> () -> round(rec);
    }

    private void round(final TaskRecorder rec) {
        final long addr = Pages.mapped(rec.mmap(0, size, RW, ANON), name());
        final long page = rec.pageSize();
        for (long va = addr; va < addr + size; va += page) {
            rec.touch(va);
        }
        rec.munmap(addr, size);
    }
}
