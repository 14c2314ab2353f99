package dev.vmsim.bench.workload;

import static dev.vmsim.bench.workload.Pages.ANON;
import static dev.vmsim.bench.workload.Pages.PAGE;
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
 * <p>Each task's stack sits at a fixed address of its own ({@link #AREA} + index * {@link #STRIDE})
 * mapped with MAP_FIXED, so that growth never comes within stack_guard_gap (256 pages) of another
 * mapping, which would make expand_downwards refuse it. Deterministic: the seed is not used.
 */
public final class StackGrowth implements Workload {
    /** Pages each round grows the stack by. */
    static final int DEPTH = 64;
    /**
     * Base of the stacks' area: 128 GiB, far below where top-down mmap places mappings and inside
     * even a 39-bit user address space (1024 tasks * STRIDE = 16 GiB above it).
     */
    static final long AREA = 0x20_0000_0000L;
    /** Distance between two tasks' stack tops: the grown stack plus a guard gap with room to spare. */
    static final long STRIDE = 1L << 24;

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
    public long frames(final int threads) {
        return Pages.framesFor((long) threads * (DEPTH + 1));
    }

    @Override
    public Instance start(final SimKernel kernel, final int threads, final long seed) {
        return (index, rec) -> new Stack(rec, AREA + (index + 1) * STRIDE);
    }

    private static final class Stack implements TaskLoop {
        private static final int FLAGS = ANON | Mman.MAP_FIXED | Mman.MAP_GROWSDOWN;
        private final TaskRecorder rec;
        /** The stack's top (exclusive); the stack is [top - PAGE, top) after a reset. */
        private final long top;

        Stack(final TaskRecorder rec, final long top) {
            this.rec = rec;
            this.top = top;
            Pages.mapped(rec.mmap(top - PAGE, PAGE, RW, FLAGS), "stack-growth");
        }

        @Override
        public void round() {
            for (int i = 2; i <= DEPTH + 1; i++) {
                rec.touch(top - i * PAGE);
            }
            final long bottom = top - (DEPTH + 1) * PAGE;
            rec.munmap(bottom, top - bottom);
            Pages.mapped(rec.mmap(top - PAGE, PAGE, RW, FLAGS), "stack-growth");
        }

        @Override
        public void finish() {
            rec.munmap(top - (DEPTH + 1) * PAGE, (DEPTH + 1) * PAGE);
        }
    }
}
