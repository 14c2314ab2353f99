package dev.vmsim.bench.workload;

import static dev.vmsim.bench.workload.Pages.ANON;
import static dev.vmsim.bench.workload.Pages.RW;

import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.bench.Workload;

/**
 * will-it-scale mmap1: each task maps 128 MiB of private anonymous memory and unmaps it without
 * touching it, round after round: the mmap_lock write side and the maple-tree store alone.
 * Deterministic: the seed is not used.
 */
public final class Mmap1 implements Workload {
    @Override
    public String name() {
        return "mmap1";
    }

    @Override
    public String summary() {
        return "each thread maps and unmaps 128 MiB private anon without touching it (will-it-scale mmap1)";
    }

    @Override
    public long frames(final int threads, final long pageSize) {
        return Pages.framesFor(0);
    }

    @Override
    public Instance start(final SimKernel kernel, final int threads, final long seed) {
        return (index, rec) -> () -> round(rec);
    }

    private void round(final TaskRecorder rec) {
        final long addr = Pages.mapped(rec.mmap(0, PageFault1.MEMSIZE, RW, ANON), name());
        rec.munmap(addr, PageFault1.MEMSIZE);
    }
}
