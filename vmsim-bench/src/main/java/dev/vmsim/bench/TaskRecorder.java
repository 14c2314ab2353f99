package dev.vmsim.bench;

import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.clock.Platform;
import org.HdrHistogram.Histogram;

/**
 * One workload thread's view of the kernel: it makes the task's accesses and system calls and
 * records their latencies in histograms of its own, in the machine's time (host or virtual ns).
 *
 * <p>Confined to the thread that drives the task: nothing here is shared, so recording takes no
 * lock and no atomic. The runner reads the histograms and counts only after joining the thread
 * (the join is the happens-before edge).
 */
public final class TaskRecorder {
    /** Latencies are recorded in ns with 3 significant digits, auto-resizing up to any value. */
    private static final int DIGITS = 3;

    private final SimKernel kernel;
    private final SimTask task;
    private final Histogram faultNs = new Histogram(DIGITS);
    private final Histogram syscallNs = new Histogram(DIGITS);
    private long touches;
    private long syscalls;
    private long signals;
    private long syscallErrors;
    private int firstSignal = SigInfo.OK;
    private boolean killed;

    public TaskRecorder(final SimKernel kernel, final SimTask task) {
        this.kernel = kernel;
        this.task = task;
    }

    /** PAGE_SIZE of the task's machine ({@link SimKernel#pageSize()}). */
    public long pageSize() {
        return kernel.pageSize();
    }

    /**
     * A store of one byte to {@code va} that the workload expects to fault (a first touch, or a touch
     * after MADV_DONTNEED): its whole duration — TLB miss, walk, fault handling, retry — is recorded
     * as a fault latency. Returns {@link SigInfo#OK} or the signal.
     */
    public int touch(final long va) {
        final Platform p = Platform.current();
        final long t0 = p.now();
        final int sig = task.store(va, (byte) 1);
        faultNs.recordValue(Math.max(0, p.now() - t0));
        touches++;
        exitToUserMode(); // a kill ends the access with SIGKILL alone
        if (sig != SigInfo.OK) {
            signal(sig);
        }
        return sig;
    }

    /**
     * A store of {@code value} to {@code va} that may or may not fault (minor, or major for a page
     * swapped out): its duration goes into the fault latencies, but it is not a {@link #touches touch},
     * which is an access expected to fault. Returns {@link SigInfo#OK} or the signal.
     */
    public int write(final long va, final byte value) {
        final Platform p = Platform.current();
        final long t0 = p.now();
        final int sig = task.store(va, value);
        faultNs.recordValue(Math.max(0, p.now() - t0));
        exitToUserMode(); // a kill ends the access with SIGKILL alone
        if (sig != SigInfo.OK) {
            signal(sig);
        }
        return sig;
    }

    /** A load from {@code va} that may fault, recorded as {@link #write} is: the byte (0..255), or -1 after a signal. */
    public int read(final long va) {
        final Platform p = Platform.current();
        final long t0 = p.now();
        final int v = task.load(va);
        faultNs.recordValue(Math.max(0, p.now() - t0));
        exitToUserMode();
        if (v < 0) {
            signal(SigInfo.SIGSEGV);
        }
        return v;
    }

    /** mmap(2), timed. */
    public long mmap(final long addr, final long len, final int prot, final int flags) {
        final long t0 = Platform.current().now();
        final long ret = kernel.mmap(addr, len, prot, flags);
        syscallDone(t0, ret);
        return ret;
    }

    /** munmap(2), timed. */
    public int munmap(final long addr, final long len) {
        final long t0 = Platform.current().now();
        final int ret = kernel.munmap(addr, len);
        syscallDone(t0, ret);
        return ret;
    }

    /** mprotect(2), timed. */
    public int mprotect(final long addr, final long len, final int prot) {
        final long t0 = Platform.current().now();
        final int ret = kernel.mprotect(addr, len, prot);
        syscallDone(t0, ret);
        return ret;
    }

    /** madvise(2), timed. */
    public int madvise(final long addr, final long len, final int advice) {
        final long t0 = Platform.current().now();
        final int ret = kernel.madvise(addr, len, advice);
        syscallDone(t0, ret);
        return ret;
    }

    private void syscallDone(final long t0, final long ret) {
        syscallNs.recordValue(Math.max(0, Platform.current().now() - t0));
        syscalls++;
        if (dev.vmsim.core.mm.Errno.isError(ret)) {
            syscallErrors++;
        }
        exitToUserMode();
    }

    /**
     * exit_to_user_mode's signal delivery: a task with a fatal signal pending (SIGKILL from the OOM
     * killer; a Java interrupt is the simulator's fatal signal) does not return to its user code. The
     * kill is counted as the task's signal and the task exits ({@link TaskKilled}).
     */
    private void exitToUserMode() {
        if (Thread.currentThread().isInterrupted()) {
            killed = true;
            signal(SigInfo.make(SigInfo.SIGKILL, 0));
            throw new TaskKilled();
        }
    }

    /** Did SIGKILL end this task? */
    public boolean killed() {
        return killed;
    }

    private void signal(final int sig) {
        if (signals++ == 0) {
            firstSignal = sig;
        }
    }

    public Histogram faultNs() {
        return faultNs;
    }

    public Histogram syscallNs() {
        return syscallNs;
    }

    public long touches() {
        return touches;
    }

    public long syscalls() {
        return syscalls;
    }

    /** Accesses that ended in a signal instead of a resolved fault. */
    public long signals() {
        return signals;
    }

    /** The first signal raised, {@link SigInfo#OK} if none. */
    public int firstSignal() {
        return firstSignal;
    }

    /** System calls that returned {@code -errno}. */
    public long syscallErrors() {
        return syscallErrors;
    }
}
