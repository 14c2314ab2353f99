package dev.vmsim.core.fault;

/**
 * A task's min_flt / maj_flt (struct task_struct), the counts getrusage reports as ru_minflt /
 * ru_majflt. A simulated task is a platform thread, so the counters are thread-local: written only
 * by their own thread, read by it (or after it has been joined).
 */
public final class TaskFaultCounters {
    private static final ThreadLocal<TaskFaultCounters> CURRENT = ThreadLocal.withInitial(TaskFaultCounters::new);

    /** Minor faults of this task. */
    public long minFlt;
    /** Major faults of this task (including faults that needed a retry, as the kernel counts them). */
    public long majFlt;

    /** The calling task's counters. */
    public static TaskFaultCounters current() {
        return CURRENT.get();
    }
}
