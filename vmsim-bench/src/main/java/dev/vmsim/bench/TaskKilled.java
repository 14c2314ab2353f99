package dev.vmsim.bench;

/**
 * A workload task's exit on SIGKILL: thrown by {@link TaskRecorder} when, on the return to user mode
 * after an access or a system call, the task finds a fatal signal pending (the OOM killer chose its
 * process: oom_kill_process sends SIGKILL to every task of the mm). The kernel would run do_exit at
 * that point; the runner ends the task's rounds, records it as killed and lets the run finish.
 */
public final class TaskKilled extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TaskKilled() {
        super("SIGKILL", null, false, false);
    }
}
