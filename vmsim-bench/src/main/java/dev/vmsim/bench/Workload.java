package dev.vmsim.bench;

import java.util.OptionalDouble;

/**
 * A named benchmark workload: what each simulated task of one mm does, round after round.
 *
 * <p>A run calls {@link #start} once on the main thread (shared mappings are made there, untimed),
 * then {@link Instance#task} once per workload thread on that thread, then {@link TaskLoop#round}
 * until the run's bound, then {@link TaskLoop#finish}; finally {@link Instance#finish} on the main
 * thread after every task has finished. After that the mm holds no mapping the workload made.
 */
public interface Workload {
    /** The name used on the command line. */
    String name();

    /** One line saying what the workload does and what it models. */
    String summary();

    /**
     * The frames a machine with PAGE_SIZE {@code pageSize} needs to run it with {@code threads} tasks
     * (data and page tables).
     */
    long frames(int threads, long pageSize);

    /**
     * The memory a run gets when the command line does not say (--mem), in bytes; 0 = {@link #frames},
     * no memory pressure. A memory-pressure workload asks for less than its working set.
     */
    default long memBytes(final int threads, final long pageSize) {
        return 0;
    }

    /** The swap device a run gets when the command line does not say (--swap), in bytes; 0 = none. */
    default long swapBytes(final int threads, final long pageSize) {
        return 0;
    }

    /** Prepares a run on {@code kernel} with {@code threads} tasks. */
    Instance start(SimKernel kernel, int threads, long seed);

    /** One run of the workload. */
    interface Instance {
        /** The loop task {@code index} (0-based) runs; called on the thread that drives it. */
        TaskLoop task(int index, TaskRecorder rec);

        /** Undoes {@link #start}; called once after every task finished. */
        default void finish() {}

        /**
         * The workload's own measure of faults/s when it times itself (pft: the Hmean over its
         * repeats); empty to use pgfault over the run's wall-clock time. Called after every task finished.
         */
        default OptionalDouble faultsPerSec() {
            return OptionalDouble.empty();
        }
    }

    /** What one task does. Confined to one thread. */
    interface TaskLoop {
        /** One round of the workload's loop (one will-it-scale iteration). */
        void round();

        /** Unmaps whatever the task still holds. */
        default void finish() {}
    }
}
