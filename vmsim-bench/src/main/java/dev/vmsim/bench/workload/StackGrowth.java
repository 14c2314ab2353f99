package dev.vmsim.bench.workload;

import static dev.vmsim.bench.workload.Pages.ANON;
import static dev.vmsim.bench.workload.Pages.RW;

import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.bench.Workload;
import dev.vmsim.core.mm.Mman;

/**
 * Each task grows a MAP_GROWSDOWN stack page by page: every touch lands one page below the stack
 * VMA, so the fault path finds no VMA at the address, finds the stack above it and expands it
 * downwards (expand_stack / expand_downwards, which needs the mmap_lock for write). After
 * {@link #DEPTH} pages the stack is reset by munmap and a fresh one-page mmap.
 *
 * <p>Each task's stack sits at a fixed address of its own ({@link #AREA} + index * {@link
 * #STRIDE_PAGES} pages) mapped with MAP_FIXED, so that growth never comes within stack_guard_gap
 * (256 pages) of another mapping, which would make expand_downwards refuse it. Deterministic: the
 * seed is not used.
 */
public final class StackGrowth implements Workload {
    /** Pages each round grows the stack by. */
    static final int DEPTH = 64;
    /**
     * Base of the stacks' area: 128 GiB, far below where top-down mmap places mappings and inside
     * even a 39-bit user address space (1024 tasks * STRIDE_PAGES = 16 GiB above it with 4 KiB
     * pages, 256 GiB with 64 KiB).
     */
    static final long AREA = 0x20_0000_0000L;
    /** Pages between two tasks' stack tops: the grown stack plus a guard gap with room to spare. */
    static final long STRIDE_PAGES = 4096;

    @Override
    public String name() {
        return "stack-growth";
    }

    @Override
    public String summary() {
        return "each thread grows a MAP_GROWSDOWN stack page by page through the fault path, then"
                + " resets it with munmap + mmap";
    }

    @Override
    public long frames(final int threads, final long pageSize) {
        return Pages.framesFor((long) threads * (DEPTH + 1));
    }

    @Override
    public Instance start(final SimKernel kernel, final int threads, final long seed) {
        return (index, rec) -> new Stack(rec, AREA + (index + 1) * STRIDE_PAGES * rec.pageSize());
    }

    private static final class Stack implements TaskLoop {
        private static final int FLAGS = ANON | Mman.MAP_FIXED | Mman.MAP_GROWSDOWN;
        private final TaskRecorder rec;
        /** The stack's top (exclusive); the stack is [top - page, top) after a reset. */
        private final long top;

        private final long page;

        Stack(final TaskRecorder rec, final long top) {
            this.rec = rec;
            this.top = top;
            this.page = rec.pageSize();
            Pages.mapped(rec.mmap(top - page, page, RW, FLAGS), "stack-growth");
        }

        @Override
        public void round() {
            for (int i = 2; i <= DEPTH + 1; i++) {
                rec.touch(top - i * page);
            }
            final long bottom = top - (DEPTH + 1) * page;
            rec.munmap(bottom, top - bottom);
            Pages.mapped(rec.mmap(top - page, page, RW, FLAGS), "stack-growth");
        }

        @Override
        public void finish() {
            rec.munmap(top - (DEPTH + 1) * page, (DEPTH + 1) * page);
        }
    }
}
