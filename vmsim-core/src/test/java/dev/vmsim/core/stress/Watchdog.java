package dev.vmsim.core.stress;

import dev.vmsim.core.lock.MmapLock;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.RwSemaphore;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A hang detector for concurrent tests: every worker brackets each operation with {@link #begin} /
 * {@link #end}; a daemon thread checks the open operations every {@link #POLL_MS} ms and, the first
 * time one has been open longer than the bound, records a report (the operation, every thread's
 * stack with the monitors and ownable synchronizers it holds, and the mm's lock state) and stops.
 * The test then fails with that report ({@link #check}) instead of hanging in join.
 *
 * <p>The simulator's locks are not java.util.concurrent locks, so the thread dump alone does not
 * say who holds an mmap lock or a VMA lock: {@link #lockState} adds the rwsem word, owner and
 * waiter count, mm_lock_seq, and each VMA's vm_refcnt and vm_lock_seq.
 */
public final class Watchdog implements AutoCloseable {
    static final long POLL_MS = 50;

    private final long boundNanos;
    private final MmStruct[] mms;
    /** Open operation per worker thread: name and start time. Written by the worker, read by the watchdog. */
    private final ConcurrentHashMap<Thread, Op> open = new ConcurrentHashMap<>();

    private final AtomicReference<String> report = new AtomicReference<>();
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;

    private record Op(String name, long address, long startNanos) {}

    /** Starts watching: an operation open longer than {@code bound} fires; {@code mms} go into the report. */
    public Watchdog(final long bound, final TimeUnit unit, final MmStruct... mms) {
        this.boundNanos = unit.toNanos(bound);
        this.mms = mms.clone();
        this.thread = new Thread(this::watch, "vmsim-watchdog");
        thread.setDaemon(true);
        thread.start();
    }

    /** The calling thread starts operation {@code name}. */
    public void begin(final String name) {
        begin(name, -1);
    }

    /** The calling thread starts operation {@code name} on user address {@code va} (its walk goes into the report). */
    public void begin(final String name, final long va) {
        open.put(Thread.currentThread(), new Op(name, va, System.nanoTime()));
    }

    /** The calling thread's operation finished. */
    public void end() {
        open.remove(Thread.currentThread());
    }

    /** Whether the watchdog has fired. */
    public boolean fired() {
        return report.get() != null;
    }

    /** Throws an AssertionError carrying the report if the watchdog fired. */
    public void check() {
        final String r = report.get();
        if (r != null) {
            throw new AssertionError(r);
        }
    }

    /**
     * Joins {@code t} for at most the bound; if it is still alive, fires (unless already fired) and
     * throws with the report.
     */
    public void join(final Thread t) throws InterruptedException {
        t.join(TimeUnit.NANOSECONDS.toMillis(boundNanos));
        if (t.isAlive()) {
            fire("thread " + t.getName() + " did not finish within the bound");
        }
        check();
    }

    private void watch() {
        try {
            while (!stop.await(POLL_MS, TimeUnit.MILLISECONDS)) {
                final long now = System.nanoTime();
                for (final var e : open.entrySet()) {
                    final Op op = e.getValue();
                    if (now - op.startNanos() > boundNanos) {
                        fire(e.getKey().getName() + ": operation " + op.name() + " open for "
                                + TimeUnit.NANOSECONDS.toMillis(now - op.startNanos()) + " ms" + walk(op.address()));
                        return;
                    }
                }
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String walk(final long va) {
        if (va < 0) {
            return "";
        }
        final StringBuilder sb = new StringBuilder();
        for (final MmStruct mm : mms) {
            try {
                sb.append("\n  walk of 0x")
                        .append(Long.toHexString(va))
                        .append(": ")
                        .append(mm.pageTables().dumpWalk(va))
                        .append("\n  vma: ")
                        .append(mm.vmaLookup(va));
                final Vma v = mm.vmaLookup(va);
                if (v != null) {
                    sb.append(" vm_flags=0x")
                            .append(Long.toHexString(v.vmFlags))
                            .append(" vm_page_prot=0x")
                            .append(Long.toHexString(v.vmPageProt));
                }
            } catch (final RuntimeException | AssertionError e) {
                sb.append("\n  (walk failed: ").append(e).append(')');
            }
        }
        return sb.toString();
    }

    private void fire(final String why) {
        report.compareAndSet(null, "watchdog: " + why + "\n" + lockState(mms) + threadDump());
    }

    @Override
    public void close() {
        stop.countDown();
    }

    /** Every live thread with its stack, locked monitors and locked ownable synchronizers. */
    public static String threadDump() {
        final StringBuilder sb = new StringBuilder("---- threads ----\n");
        for (final ThreadInfo ti : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
            // ThreadInfo.toString truncates at 8 frames: print the whole stack.
            sb.append('"').append(ti.getThreadName()).append("\" ").append(ti.getThreadState());
            if (ti.getLockName() != null) {
                sb.append(" on ").append(ti.getLockName());
            }
            if (ti.getLockOwnerName() != null) {
                sb.append(" owned by \"").append(ti.getLockOwnerName()).append('"');
            }
            sb.append('\n');
            for (final StackTraceElement f : ti.getStackTrace()) {
                sb.append("\tat ").append(f).append('\n');
            }
            for (final var m : ti.getLockedMonitors()) {
                sb.append("\t- locked monitor ").append(m).append('\n');
            }
            for (final var s : ti.getLockedSynchronizers()) {
                sb.append("\t- locked synchronizer ").append(s).append('\n');
            }
        }
        return sb.toString();
    }

    /** The simulator-level lock state of each mm: mmap_lock and every VMA's lock (read without locks: a snapshot). */
    public static String lockState(final MmStruct... mms) {
        final StringBuilder sb = new StringBuilder();
        for (final MmStruct mm : mms) {
            final MmapLock ml = mm.mmapLock();
            final RwSemaphore sem = ml.rwsem();
            sb.append("---- mm ")
                    .append(System.identityHashCode(mm))
                    .append(" (")
                    .append(ml.mode())
                    .append(") ----\n");
            sb.append("mmap_lock count=0x")
                    .append(Long.toHexString(sem.count()))
                    .append(" writeLocked=")
                    .append(sem.isWriteLocked())
                    .append(" readers=")
                    .append(sem.readerCount())
                    .append(" owner=")
                    .append(sem.owner() == null ? "-" : sem.owner().getName())
                    .append(" waiters=")
                    .append(sem.waiterCount())
                    .append(" mm_lock_seq=")
                    .append(ml.lockSeqOpaque())
                    .append('\n');
            try {
                final List<Vma> vmas = mm.vmas(); // unlocked walk: best effort
                for (final Vma v : vmas) {
                    sb.append("  ")
                            .append(v)
                            .append(" vm_refcnt=0x")
                            .append(Integer.toHexString(v.refcnt()))
                            .append(" vm_lock_seq=")
                            .append(v.lockSeqOpaque())
                            .append('\n');
                }
            } catch (final RuntimeException | AssertionError e) {
                sb.append("  (VMA walk failed: ").append(e).append(")\n");
            }
        }
        return sb.toString();
    }
}
