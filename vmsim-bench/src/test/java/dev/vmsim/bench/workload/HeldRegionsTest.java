package dev.vmsim.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.TaskRecorder;
import dev.vmsim.bench.Workload;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.core.lock.LockingMode;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A memory-pressure workload's working set is all its tasks' regions at once, however the host
 * schedules the tasks: with the schedule that hid the pressure on the host clock forced (task 1
 * starts only after task 0 ran all its rounds and finished), the run still swaps.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HeldRegionsTest {
    private static final WorkloadRunner RUNNER = new WorkloadRunner(KernelFactory.simulator());

    @Test
    void swapStormSwapsWhenOneSweeperRunsAfterTheOther() {
        final SwapStorm storm = new SwapStorm(false);
        final RunResult r = RUNNER.run(
                RunConfig.rounds(new OneAfterTheOther(storm), "x86_64", LockingMode.PER_VMA, 3, 3, 7),
                WorkloadRunner.Progress.NONE);
        final long memory = storm.memBytes(3, 4096) / 4096;
        // Both regions stay mapped: the pages beyond memory have to go to swap.
        assertTrue(
                r.counters().vmstat("pswpout") >= SwapStorm.workingSet(3) - memory,
                "pswpout " + r.counters().vmstat("pswpout") + " with a working set of " + SwapStorm.workingSet(3)
                        + " pages in " + memory + " frames: " + r.counters().vmstat());
        assertEquals(0, r.leakedFrames(), "the instance unmapped the regions it held");
        assertEquals(0, r.signals());
    }

    @Test
    void thrashSwapsWhenOneSweeperRunsAfterTheOther() {
        final Thrash thrash = new Thrash(200);
        final RunResult r = RUNNER.run(
                RunConfig.rounds(new OneAfterTheOther(thrash), "x86_64", LockingMode.PER_VMA, 2, 3, 1),
                WorkloadRunner.Progress.NONE);
        assertTrue(
                r.counters().vmstat("pswpout") > 0,
                "pages went to swap: " + r.counters().vmstat());
        assertEquals(0, r.leakedFrames());
    }

    /**
     * The workload with a controlled schedule: task 1's first round waits until task 0 has run all
     * its rounds and its finish (bounded, so a failed task 0 fails the run instead of hanging it).
     */
    private static final class OneAfterTheOther implements Workload {
        private final Workload w;

        OneAfterTheOther(final Workload w) {
            this.w = w;
        }

        @Override
        public String name() {
            return w.name();
        }

        @Override
        public String summary() {
            return w.summary();
        }

        @Override
        public long frames(final int threads, final long pageSize) {
            return w.frames(threads, pageSize);
        }

        @Override
        public long memBytes(final int threads, final long pageSize) {
            return w.memBytes(threads, pageSize);
        }

        @Override
        public long swapBytes(final int threads, final long pageSize) {
            return w.swapBytes(threads, pageSize);
        }

        @Override
        public Instance start(final SimKernel kernel, final int threads, final long seed) {
            final Instance in = w.start(kernel, threads, seed);
            final CountDownLatch task0Done = new CountDownLatch(1);
            return new Instance() {
                @Override
                public TaskLoop task(final int index, final TaskRecorder rec) {
                    final TaskLoop loop = in.task(index, rec);
                    if (index == 0) {
                        return new TaskLoop() {
                            @Override
                            public void round() {
                                loop.round();
                            }

                            @Override
                            public void finish() {
                                loop.finish();
                                task0Done.countDown();
                            }
                        };
                    }
                    if (index == 1) {
                        return new TaskLoop() {
                            @Override
                            public void round() {
                                try {
                                    if (!task0Done.await(60, TimeUnit.SECONDS)) {
                                        throw new IllegalStateException("task 0 did not finish");
                                    }
                                } catch (final InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                    throw new IllegalStateException(e);
                                }
                                loop.round();
                            }

                            @Override
                            public void finish() {
                                loop.finish();
                            }
                        };
                    }
                    return loop;
                }

                @Override
                public void finish() {
                    in.finish();
                }
            };
        }
    }
}
