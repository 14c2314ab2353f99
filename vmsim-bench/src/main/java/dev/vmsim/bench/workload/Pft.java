package dev.vmsim.bench.workload;

import static dev.vmsim.bench.workload.Pages.ANON;
import static dev.vmsim.bench.workload.Pages.RW;

import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.bench.Workload;
import dev.vmsim.core.clock.Barrier;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.mm.Errno;
import java.util.Arrays;
import java.util.OptionalDouble;

/**
 * mmtests pft-threads (pft.c, machine-profiles.md §5): one private anonymous mapping shared by all
 * threads; thread j write-faults its own contiguous slice {@code [j*ceil(pages/N), (j+1)*ceil(pages/N))},
 * one byte at offset 0 of every page (one anonymous write fault per page, all in the same VMA); then
 * the mapping is unmapped and mapped again, and the next repeat starts.
 *
 * <p>Timing as pft's: the threads start each repeat together (pft's {@code comm->go}), each takes
 * the time around its own loop, and the repeat's rate is {@code pages / (latest end - earliest
 * start)}; mapping and teardown are outside it. The run's faults/s is the harmonic mean of the
 * repeats' rates (mmtests' Hmean for a higher-is-better figure). One round of the runner is one
 * repeat.
 *
 * <p>Synchronisation: a platform {@link Barrier} passed twice per repeat (start, end), so that it
 * waits in virtual time under the virtual clock; times are the platform's clock. The last thread to
 * reach a repeat's end records the rate, unmaps and maps the next region in the barrier action,
 * before any thread passes the barrier, so the address and the per-thread times it reads and writes
 * are ordered by the barrier (arrive happens-before the release is observed). It makes those two system calls
 * through its own task's recorder, so they count as the run's system calls (outside pft's timing).
 * A thread whose run ends deregisters, and later repeats go on without its slice (their rate counts
 * only the pages faulted).
 * Deterministic: the seed is not used.
 */
public final class Pft implements Workload {
    /** The default region: 128 MiB (32768 pages), page_fault1's size; pft itself maps MemTotal / 5. */
    public static final long DEFAULT_SIZE = 128L << 20;

    private final long size;

    public Pft() {
        this(DEFAULT_SIZE);
    }

    /** A smaller region, for tests. */
    public Pft(final long size) {
        if (size < 4096 || size % 4096 != 0) {
            throw new IllegalArgumentException("pft size must be a positive multiple of 4096: " + size);
        }
        this.size = size;
    }

    @Override
    public String name() {
        return "pft";
    }

    @Override
    public String summary() {
        return "one " + (size >> 20) + " MiB private anon mapping shared by all threads, each write-faults its own"
                + " slice, then unmap and repeat; faults/s = Hmean over repeats (mmtests pft-threads)";
    }

    @Override
    public long frames(final int threads, final long pageSize) {
        return Pages.framesFor(Math.max(1, size / pageSize));
    }

    @Override
    public Instance start(final SimKernel kernel, final int threads, final long seed) {
        return new Run(kernel, threads, size);
    }

    /** The harmonic mean of the first {@code n} values, n / sum(1/x) (mmtests' calc_hmean). */
    static double hmean(final double[] x, final int n) {
        double inverse = 0;
        for (int i = 0; i < n; i++) {
            inverse += 1 / x[i];
        }
        return n / inverse;
    }

    /** One run: the shared region, the barrier and the repeats' rates. */
    private static final class Run implements Instance {
        private final SimKernel kernel;
        private final long size;
        /** PAGE_SIZE of the run's machine. */
        private final long page;

        private final long pagesPerThread;
        private final Barrier phaser;
        /** Barrier passes so far; odd passes end a repeat. Touched only in the barrier action. */
        private int passes;
        /** Written in onAdvance (or start) and read by the threads after the phaser releases them. */
        private long addr;
        /** Per-thread loop times of the current repeat, ns; -1 for a thread that did not take part. */
        private final long[] begin;

        private final long[] end;
        private final long[] faulted;
        /** Each task thread's recorder, for the system calls the last arriver makes in onAdvance. */
        private final ThreadLocal<TaskRecorder> recorder = new ThreadLocal<>();
        /** Rates of the finished repeats (faults/s), touched only in onAdvance; read after the run. */
        private double[] rates = new double[16];

        private int repeats;

        Run(final SimKernel kernel, final int threads, final long size) {
            this.kernel = kernel;
            this.page = kernel.pageSize();
            if (size % page != 0) {
                throw new IllegalArgumentException("pft size " + size + " is not a multiple of the page size " + page);
            }
            this.size = size;
            final long pages = size / page;
            this.pagesPerThread = (pages + threads - 1) / threads;
            this.begin = new long[threads];
            this.end = new long[threads];
            this.faulted = new long[threads];
            Arrays.fill(begin, -1);
            this.addr = Pages.mapped(kernel.mmap(0, size, RW, ANON), "pft");
            this.phaser = new Barrier(threads, () -> {
                if ((passes++ & 1) == 1) {
                    endRepeat();
                }
            });
        }

        @Override
        public TaskLoop task(final int index, final TaskRecorder rec) {
            recorder.set(rec); // task() runs on the thread that drives the task
            return new TaskLoop() {
                @Override
                public void round() {
                    phaser.arriveAndAwait(); // pft's comm->go: every thread starts together
                    final long from = addr + index * pagesPerThread * page;
                    final long to = Math.min(addr + size, from + pagesPerThread * page);
                    final Platform clock = Platform.current();
                    final long t0 = clock.now();
                    try {
                        for (long va = from; va < to; va += page) {
                            rec.touch(va);
                        }
                    } catch (RuntimeException | Error e) {
                        phaser.arriveAndDeregister(); // the others must not wait for a failed thread
                        throw e;
                    }
                    end[index] = clock.now();
                    begin[index] = t0;
                    faulted[index] = Math.max(0, (to - from) / page);
                    phaser.arriveAndAwait(); // the last one records the repeat and maps the next
                }

                @Override
                public void finish() {
                    phaser.arriveAndDeregister();
                }
            };
        }

        /** The repeat's rate, then a fresh region for the next one. The barrier action: one thread, all others waiting. */
        private void endRepeat() {
            long first = Long.MAX_VALUE;
            long last = Long.MIN_VALUE;
            long pages = 0;
            for (int i = 0; i < begin.length; i++) {
                if (begin[i] >= 0) {
                    first = Math.min(first, begin[i]);
                    last = Math.max(last, end[i]);
                    pages += faulted[i];
                }
            }
            Arrays.fill(begin, -1);
            if (pages > 0) {
                if (repeats == rates.length) {
                    rates = Arrays.copyOf(rates, 2 * repeats);
                }
                rates[repeats++] = pages / (Math.max(1, last - first) / 1e9);
            }
            final TaskRecorder rec = recorder.get();
            check(rec.munmap(addr, size));
            addr = Pages.mapped(rec.mmap(0, size, RW, ANON), "pft");
        }

        private static void check(final int r) {
            if (Errno.isError(r)) {
                throw new IllegalStateException("pft: munmap failed with " + Errno.name(r));
            }
        }

        /** Hmean over the repeats of pages / (latest end - earliest start); empty before the first repeat ends. */
        @Override
        public OptionalDouble faultsPerSec() {
            return repeats == 0 ? OptionalDouble.empty() : OptionalDouble.of(hmean(rates, repeats));
        }

        @Override
        public void finish() {
            check(kernel.munmap(addr, size));
        }
    }
}
