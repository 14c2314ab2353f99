package dev.vmsim.core.swap;

import dev.vmsim.core.clock.Platform;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The swap device's request queue (the block layer under mm/page_io.c's submit_bio): each request
 * takes a tag (one of {@code queueDepth}; a submitter with none free waits, as blk_mq_get_tag
 * does), is serviced for the modelled latency of a 4 KiB read or write, and then its end_io runs
 * (swap_read_end_io / swap_write_end_io: the folio unlocked or its writeback ended).
 *
 * <p><b>Host clock.</b> A completion thread (the device's interrupt) runs each end_io once the
 * request's latency has passed since it started; tags are a semaphore.
 *
 * <p><b>Virtual clock.</b> Latency is virtual time. A request starts when its submitter's clock
 * and a tag allow (a submitter that must wait for a tag sleeps until one frees) and is done at
 * start + latency. Its end_io runs on the first task that needs it or that touches the device once
 * its time has come ({@link #reap}): a task waiting for a folio under I/O sleeps to the request's
 * completion ({@link #waitIo}) and runs the end_io itself, as the CPU that takes a device interrupt
 * runs its handler. Departure: a completion nobody waits for runs at the next device call after
 * its time, not exactly at it; {@link #drain} completes everything left.
 *
 * <p><b>Synchronous</b> ({@link Mode#SYNCHRONOUS}, an inline machine on the host clock: a vmscript).
 * The device is a SWP_SYNCHRONOUS_IO one (zram, brd, pmem): mm/page_io.c's swap_writepage_bdev_sync
 * and swap_read_folio_bdev_sync submit the bio and wait for it (submit_bio_wait), so its end_io has
 * run in the submitter when {@link #submit} returns, and nothing completes on a host thread. The
 * latency is not waited for: the host clock of a script measures nothing, and the transcript must
 * not depend on it. Departure: do_swap_page's SWP_SYNCHRONOUS_IO path that skips the swap cache for
 * a slot only one PTE holds is not taken; every swap-in still goes through the swap cache.
 *
 * <p><b>Zero latency.</b> A request whose modelled latency is 0 is a RAM disk's (brd, zram): the
 * driver completes the bio inside submit_bio, so its end_io runs in {@link #submit}, on the
 * submitter, on either clock: the folio is uptodate and unlocked (or its writeback ended) when
 * submit returns, and no tag, completion thread or sleep is involved. A fault on such a device
 * finds its folio unlocked and never retries for I/O, which is what lets FaultPathBench's family
 * measure a major fault without device time.
 */
public final class SwapIo {
    /** Where requests complete. */
    public enum Mode {
        /** A completion thread ends each request after its latency in host time. */
        HOST,
        /** Latency is virtual time; end_io runs on a task (see the class comment). */
        VIRTUAL,
        /** SWP_SYNCHRONOUS_IO: end_io runs in the submitter before submit returns. */
        SYNCHRONOUS
    }

    /** REQ_OP_READ / REQ_OP_WRITE. */
    public enum Op {
        READ,
        WRITE
    }

    /** One bio: its end_io, its folio's frame, and when it completes. */
    static final class Request implements Delayed {
        final Op op;
        final long pfn;
        final long seq;
        final Runnable endIo;
        /** Completion time in the platform's ns; written before the request is queued. */
        long doneAtNs;

        Request(final Op op, final long pfn, final long seq, final Runnable endIo) {
            this.op = op;
            this.pfn = pfn;
            this.seq = seq;
            this.endIo = endIo;
        }

        @Override
        public long getDelay(final TimeUnit unit) {
            return unit.convert(doneAtNs - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(final Delayed o) {
            final Request r = (Request) o;
            final int c = Long.compare(doneAtNs, r.doneAtNs);
            return c != 0 ? c : Long.compare(seq, r.seq);
        }
    }

    private final long readNs;
    private final long writeNs;
    private final int queueDepth;
    private final boolean virtual;
    private final boolean synchronous;
    private final AtomicLong seq = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    /** Writes whose end_io has run (host clock): what a writeback-throttled reclaimer waits for. */
    private final AtomicLong writesCompleted = new AtomicLong();

    // host clock
    private final Semaphore tags;
    private final DelayQueue<Request> inFlight = new DelayQueue<>();
    private Thread completionThread;
    private volatile boolean closed;

    // virtual clock: touched only by the task holding the baton
    private final long[] tagBusyUntilNs;
    private final PriorityQueue<Request> pending = new PriorityQueue<>();
    private final Map<Long, Request> byPfn = new HashMap<>();

    /**
     * @param readNs latency of a 4 KiB read
     * @param writeNs latency of a 4 KiB write
     * @param queueDepth requests in flight at once
     * @param virtual the machine runs on the virtual clock
     */
    public SwapIo(final long readNs, final long writeNs, final int queueDepth, final boolean virtual) {
        this(readNs, writeNs, queueDepth, virtual ? Mode.VIRTUAL : Mode.HOST);
    }

    /**
     * @param readNs latency of a 4 KiB read
     * @param writeNs latency of a 4 KiB write
     * @param queueDepth requests in flight at once
     * @param mode where requests complete
     */
    public SwapIo(final long readNs, final long writeNs, final int queueDepth, final Mode mode) {
        if (readNs < 0 || writeNs < 0 || queueDepth < 1) {
            throw new IllegalArgumentException(
                    "swap device: read " + readNs + " ns, write " + writeNs + " ns, queue depth " + queueDepth);
        }
        this.readNs = readNs;
        this.writeNs = writeNs;
        this.queueDepth = queueDepth;
        this.virtual = mode == Mode.VIRTUAL;
        this.synchronous = mode == Mode.SYNCHRONOUS;
        this.tags = new Semaphore(queueDepth);
        this.tagBusyUntilNs = new long[queueDepth];
    }

    public long readNs() {
        return readNs;
    }

    public long writeNs() {
        return writeNs;
    }

    public int queueDepth() {
        return queueDepth;
    }

    /** Requests submitted so far (4 KiB reads). */
    public long reads() {
        return reads.get();
    }

    /** Requests submitted so far (4 KiB writes). */
    public long writes() {
        return writes.get();
    }

    /**
     * submit_bio for one 4 KiB request on {@code pfn}'s folio; {@code endIo} runs at completion, on
     * the completion thread (host) or on a task ({@link #reap}, virtual), or here when the latency
     * is 0. May wait for a tag.
     */
    public void submit(final Op op, final long pfn, final Runnable endIo) {
        (op == Op.READ ? reads : writes).incrementAndGet();
        final long latency = op == Op.READ ? readNs : writeNs;
        if (synchronous || latency == 0) {
            reap(); // virtual clock: earlier completions first, so end_io order stays completion order
            endIo.run(); // submit_bio_wait, or bio_endio from within submit_bio: ended when submit returns
            return;
        }
        final Request r = new Request(op, pfn, seq.incrementAndGet(), endIo);
        if (virtual) {
            submitVirtual(r, latency);
        } else {
            submitHost(r, latency);
        }
    }

    private void submitVirtual(final Request r, final long latency) {
        final Platform p = Platform.current();
        reap();
        int tag = 0;
        for (int t = 1; t < queueDepth; t++) {
            if (tagBusyUntilNs[t] < tagBusyUntilNs[tag]) {
                tag = t;
            }
        }
        long start = p.now();
        if (tagBusyUntilNs[tag] > start) {
            p.sleepUntil(tagBusyUntilNs[tag], "swap_tag"); // blk_mq_get_tag: every tag is busy
            start = Math.max(start, tagBusyUntilNs[tag]);
            reap(); // the requests that freed the tag have ended
        }
        r.doneAtNs = start + latency;
        tagBusyUntilNs[tag] = r.doneAtNs;
        pending.add(r);
        byPfn.put(r.pfn, r);
    }

    private void submitHost(final Request r, final long latency) {
        tags.acquireUninterruptibly(); // blk_mq_get_tag
        r.doneAtNs = System.nanoTime() + latency;
        ensureCompletionThread();
        inFlight.add(r);
    }

    private synchronized void ensureCompletionThread() {
        if (completionThread == null) {
            final Thread t = new Thread(this::completionLoop, "swap-io-completion");
            t.setDaemon(true);
            completionThread = t;
            t.start();
        }
    }

    /** The host's device interrupt: each request's end_io once its latency has passed. */
    private void completionLoop() {
        while (!closed) {
            final Request r;
            try {
                r = inFlight.take();
            } catch (InterruptedException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            try {
                r.endIo.run();
            } finally {
                if (r.op == Op.WRITE) {
                    writesCompleted.incrementAndGet();
                }
                tags.release(); // after end_io, so drain() sees the request whole
            }
        }
    }

    /**
     * Virtual clock: runs the end_io of every request whose completion time the calling task's clock
     * has reached, in completion order. Host clock: nothing (the completion thread does it).
     */
    public void reap() {
        if (!virtual) {
            return;
        }
        final long now = Platform.current().now();
        for (Request r = pending.peek(); r != null && r.doneAtNs <= now; r = pending.peek()) {
            complete(pending.poll());
        }
    }

    private void complete(final Request r) {
        if (byPfn.get(r.pfn) == r) {
            byPfn.remove(r.pfn);
        }
        r.endIo.run();
    }

    /**
     * Before a task sleeps on a folio that may be under I/O (folio_wait_locked / folio_wait_writeback
     * on a swap-cache folio): under the virtual clock, sleeps until that folio's request completes
     * and runs its end_io (and every earlier one). Returns whether there was such a request. Host
     * clock: nothing, the completion thread wakes the waiter.
     */
    public boolean waitIo(final long pfn) {
        if (!virtual) {
            return false;
        }
        final Request r = byPfn.get(pfn);
        if (r == null) {
            return false;
        }
        Platform.current().sleepUntil(r.doneAtNs, "swap_io");
        reap();
        return true;
    }

    /**
     * reclaim_throttle's sleep, seen from the device: the calling task sleeps until {@code
     * deadlineNs} on the machine's clock, or, with {@code wakeOnWrite}, until the first write in
     * flight completes if that is earlier (the kernel's writeback completions wake a
     * VMSCAN_THROTTLE_WRITEBACK sleeper through acct_reclaim_writeback). Under the virtual clock the
     * completions due by the wake-up then run ({@link #reap}), as the device's interrupts would have
     * during the sleep. A fatal signal (an interrupt) ends the sleep early.
     */
    public void throttle(final long deadlineNs, final boolean wakeOnWrite) {
        final Platform p = Platform.current();
        if (virtual) {
            long until = deadlineNs;
            if (wakeOnWrite) {
                for (final Request r : pending) {
                    if (r.op == Op.WRITE && r.doneAtNs < until) {
                        until = r.doneAtNs;
                    }
                }
            }
            if (until > p.now()) {
                p.sleepUntil(until, "reclaim_throttle");
            }
            reap();
            return;
        }
        final long writesDone = writesCompleted.get();
        while (p.now() < deadlineNs && !Thread.currentThread().isInterrupted()) {
            if (wakeOnWrite && (writesCompleted.get() != writesDone || inFlight.isEmpty())) {
                return;
            }
            p.sleepUntil(Math.min(deadlineNs, p.now() + HOST_THROTTLE_POLL_NS), "reclaim_throttle");
        }
    }

    /** How often a host-clock throttle looks for a completed write (the completion thread does not wake it). */
    private static final long HOST_THROTTLE_POLL_NS = 20_000;

    /** Is a request on {@code pfn} still to complete (virtual clock; false on the host)? */
    public boolean inFlight(final long pfn) {
        return virtual && byPfn.containsKey(pfn);
    }

    /**
     * Completes every request left (end of a run, before the invariants are checked): virtual, in
     * completion order without waiting; host, by waiting for the completion thread.
     */
    public void drain() {
        if (virtual) {
            while (!pending.isEmpty()) {
                complete(pending.poll());
            }
            return;
        }
        while (tags.availablePermits() < queueDepth || !inFlight.isEmpty()) {
            Thread.onSpinWait();
            java.util.concurrent.locks.LockSupport.parkNanos(10_000);
        }
    }

    /** Stops the host completion thread (Machine.close). Requests still in flight never complete. */
    public void close() {
        closed = true;
        final Thread t;
        synchronized (this) {
            t = completionThread;
        }
        if (t != null) {
            t.interrupt();
        }
    }
}
