package dev.vmsim.core.oom;

import dev.vmsim.core.clock.Platform;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the OOM killer reads and sets for one simulated process (one mm and the tasks that share
 * it): signal_struct's oom_score_adj and oom_mm (a victim), the mm's MMF_OOM_SKIP, and whether the
 * process is already exiting (SIGNAL_GROUP_EXIT / PF_EXITING, what task_will_free_mem checks).
 *
 * <p>The tasks: a simulated task is a platform thread, and a fatal signal is a Java interrupt
 * ({@code FaultOps.signalPending}), so SIGKILL to the process interrupts every thread
 * {@link #addTask registered} with it. A thread that drives the mm without registering is not
 * reached by the signal (the kill then only marks and reaps); the bench runner registers each
 * workload task ({@code SimKernel.newTask}).
 *
 * <p>Fields are volatile: the killer writes them on the allocating thread while the process's
 * tasks and other allocators read them.
 */
public final class OomState {
    /** OOM_SCORE_ADJ_MIN (include/uapi/linux/oom.h): never chosen. */
    public static final short OOM_SCORE_ADJ_MIN = -1000;
    /** OOM_SCORE_ADJ_MAX. */
    public static final short OOM_SCORE_ADJ_MAX = 1000;

    private final Set<Thread> tasks = ConcurrentHashMap.newKeySet();
    private volatile short oomScoreAdj;
    private volatile boolean victim;
    private volatile boolean oomSkip;
    private volatile boolean exiting;
    /** The process's pid and comm, for the kernel's log line. */
    private volatile int pid;

    private volatile String comm = "vmsim";

    /** signal->oom_score_adj (/proc/PID/oom_score_adj): -1000 to 1000. */
    public short oomScoreAdj() {
        return oomScoreAdj;
    }

    /** Writes /proc/PID/oom_score_adj. */
    public void setOomScoreAdj(final int adj) {
        if (adj < OOM_SCORE_ADJ_MIN || adj > OOM_SCORE_ADJ_MAX) {
            throw new IllegalArgumentException("oom_score_adj " + adj + " (-1000..1000)");
        }
        oomScoreAdj = (short) adj;
    }

    /** tsk_is_oom_victim: the killer chose this process (mark_oom_victim). */
    public boolean isOomVictim() {
        return victim;
    }

    /** test_bit(MMF_OOM_SKIP, &mm->flags): the reaper is done with it (or exit_mmap ran); skip it. */
    public boolean oomSkip() {
        return oomSkip;
    }

    /** set_bit(MMF_OOM_SKIP): the oom_reaper finished, or the mm is gone (exit_mmap). */
    public void setOomSkip() {
        oomSkip = true;
    }

    /** PF_EXITING / SIGNAL_GROUP_EXIT: the process is on its way out and will free its memory. */
    public boolean exiting() {
        return exiting;
    }

    /** do_exit / do_group_exit began for the process. */
    public void setExiting() {
        exiting = true;
    }

    /** The pid and comm the log line names. */
    public void setIdentity(final int newPid, final String newComm) {
        pid = newPid;
        comm = newComm;
    }

    public int pid() {
        return pid;
    }

    public String comm() {
        return comm;
    }

    /** A thread that runs as a task of the process and is to receive its signals. */
    public void addTask(final Thread t) {
        tasks.add(t);
    }

    /** The thread stops being a task of the process (it exited). */
    public void removeTask(final Thread t) {
        tasks.remove(t);
    }

    /**
     * mark_oom_victim, then do_send_sig_info(SIGKILL) to every task sharing the mm (__oom_kill_process):
     * each registered thread is interrupted, which fatal_signal_pending reads.
     */
    void killProcess(final Platform platform) {
        victim = true;
        exiting = true; // SIGKILL sets SIGNAL_GROUP_EXIT as it is delivered
        for (final Thread t : tasks) {
            t.interrupt();
            platform.unpark(t); // signal_wake_up: a task asleep in a killable wait sees it now
        }
    }

    /** The threads registered as the process's tasks now (a copy). */
    public java.util.List<Thread> tasks() {
        return java.util.List.copyOf(tasks);
    }
}
