package dev.vmsim.core.sync;

import dev.vmsim.core.clock.CacheLine;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.clock.VirtualScheduler;
import dev.vmsim.core.lock.LockHooks;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.concurrent.atomic.LongAdder;

/**
 * The kernel's rw_semaphore (kernel/locking/rwsem.c, non-PREEMPT_RT): one 64-bit count word, an
 * owner word, and a FIFO wait list under a small internal lock.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Readers share, a writer excludes all. A reader that finds waiters queues behind them (no
 *       barging past a queued writer), except for "reader lock stealing" while no writer holds
 *       the lock and no handoff is pending.
 *   <li>A waiting writer is not starved: after {@code RWSEM_WAIT_TIMEOUT} (4 ms, per instance
 *       settable for tests) the first waiter sets HANDOFF; from then on no fast path, steal or
 *       trylock succeeds and the next grant goes to that waiter.
 *   <li>Readers at the head of the queue are woken together, up to {@link #MAX_READERS_WAKEUP},
 *       skipping queued writers (rwsem_mark_wake).
 *   <li>The killable forms treat a Java interrupt as the fatal signal: the wait ends with
 *       {@code -EINTR}, the count is exactly as if the caller never came, and the interrupt flag
 *       stays set. The non-killable forms ignore interrupts and restore the flag on return.
 * </ul>
 *
 * <pre>
 * Count word (see the canonical table in kernel-semantics.md §3.1):
 *   bit 0      RWSEM_WRITER_LOCKED
 *   bit 1      RWSEM_FLAG_WAITERS    wait list non-empty
 *   bit 2      RWSEM_FLAG_HANDOFF    first waiter demands the next grant
 *   bits 8-62  reader count, in units of RWSEM_READER_BIAS (0x100)
 *   bit 63     RWSEM_FLAG_READFAIL   reader overflow guard
 * </pre>
 */
public final class RwSemaphore implements VirtualScheduler.Named {
    /*
     * Implementation notes.
     *
     * Memory ordering: every count update is a VarHandle atomic (volatile semantics), which is at
     * least the kernel's acquire on lock and release on unlock. waiter.task is written with a
     * volatile store by the granter after the count adjustment (the kernel's smp_store_release in
     * rwsem_mark_wake) and read by the sleeper with a volatile load (smp_load_acquire).
     *
     * Departures from the kernel, and why:
     *  - The owner word is two fields (owner thread; READER_OWNED / NONSPINNABLE bits) because Java
     *    cannot tag a reference; both are hints written with opaque stores, as in the kernel.
     *  - Optimistic spinning (rwsem_optimistic_spin / rwsem_spin_on_owner) is modelled as the kernel
     *    has it: one spinner at a time (the osq, reduced to a test-and-set word), spinning while the
     *    owner word holds the same running writer and trying the unqueued grab each time it changes;
     *    a reader-owned lock is spun on for the (10 + readers/2) us budget, capped at 25 us, after
     *    which NONSPINNABLE is set. owner_on_cpu(owner) is approximated by "the owner thread is
     *    RUNNABLE" (Thread.getState: a thread parked on this or any other lock, in Object.wait or
     *    blocked on a monitor is not); a JVM thread cannot see whether the OS preempted the owner, so
     *    need_resched() is approximated by a budget (default 20 us, setOptimisticSpinBudgetNanos; 0
     *    turns spinning off) of spinning without the owner word changing, plus one scheduler tick
     *    (1 ms) of spinning in all. The handoff writer spins on the owner (rwsem_spin_on_owner)
     *    before sleeping, as in the kernel.
     *  - wait_lock is a Java monitor; wake_q is a local list of threads unparked after it is dropped.
     *  - Time, parking and spinning go through the Platform (host or virtual clock). Under the
     *    virtual clock the count and owner words sit on the cache lines given at construction
     *    (countLine, ownerLine: one line for both in the 6.4-6.14 vma_lock object); count RMWs
     *    outside the wait_lock are preemption points, those under it are not (raw spinlock).
     *  - RT/DL tasks (which may set HANDOFF at once) do not exist.
     */

    /** Returned by the killable forms when the wait was ended by a fatal signal (Java interrupt). */
    public static final int EINTR = 4;

    public static final long RWSEM_WRITER_LOCKED = 1L;
    public static final long RWSEM_FLAG_WAITERS = 1L << 1;
    public static final long RWSEM_FLAG_HANDOFF = 1L << 2;
    public static final long RWSEM_FLAG_READFAIL = 1L << 63;
    public static final int RWSEM_READER_SHIFT = 8;
    public static final long RWSEM_READER_BIAS = 1L << RWSEM_READER_SHIFT;
    public static final long RWSEM_READER_MASK = ~(RWSEM_READER_BIAS - 1);
    public static final long RWSEM_WRITER_MASK = RWSEM_WRITER_LOCKED;
    public static final long RWSEM_LOCK_MASK = RWSEM_WRITER_MASK | RWSEM_READER_MASK;
    public static final long RWSEM_READ_FAILED_MASK =
            RWSEM_WRITER_MASK | RWSEM_FLAG_WAITERS | RWSEM_FLAG_HANDOFF | RWSEM_FLAG_READFAIL;
    /** Owner-word flag bits. */
    public static final int RWSEM_READER_OWNED = 1;

    public static final int RWSEM_NONSPINNABLE = 2;
    /** MAX_READERS_WAKEUP: readers granted per wakeup pass. */
    public static final int MAX_READERS_WAKEUP = 0x100;
    /** Reader-owned spin budget: (10 + readers/2) us with readers capped at this (rwsem_rspin_threshold). */
    public static final int RWSEM_RSPIN_MAX_READERS = 30;
    /** Default stand-in for need_resched(): total optimistic spin time of one slow path. */
    public static final long DEFAULT_OPT_SPIN_BUDGET_NS = 20_000L;
    /** One scheduler tick (HZ=1000): the longest a writer spins optimistically in all. */
    public static final long SPIN_TICK_NS = 1_000_000L;
    /** RWSEM_WAIT_TIMEOUT, ceil(HZ/250) jiffies = 4 ms. */
    public static final long RWSEM_WAIT_TIMEOUT_NS = 4_000_000L;

    /**
     * When true, {@link #upgradeTrylock()} behaves as the kernel's mmap_upgrade_trylock stub and
     * always fails. Default false: the simulator's CAS upgrade.
     */
    public static volatile boolean upgradeAsKernelStub = false;

    /** enum owner_state (rwsem_owner_state). */
    private enum OwnerState {
        NULL,
        WRITER,
        READER,
        NONSPINNABLE
    }

    private enum WakeType {
        ANY,
        READERS,
        READ_OWNED
    }

    /** struct rwsem_waiter. */
    private static final class Waiter {
        /** Cleared (volatile store) by the granter of a reader; the reader's "got it" signal. */
        volatile Thread task;

        final Thread thread;
        final boolean write;
        /** Platform.now() after which the waiter may ask for handoff. */
        final long timeout;
        /** Guarded by waitList's monitor. */
        boolean handoffSet;

        Waiter(final Thread thread, final boolean write, final long timeout) {
            this.task = thread;
            this.thread = thread;
            this.write = write;
            this.timeout = timeout;
        }
    }

    private static final VarHandle COUNT;
    private static final VarHandle OWNER;
    private static final VarHandle OWNER_FLAGS;
    private static final VarHandle OSQ;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            COUNT = l.findVarHandle(RwSemaphore.class, "count", long.class);
            OWNER = l.findVarHandle(RwSemaphore.class, "owner", Thread.class);
            OWNER_FLAGS = l.findVarHandle(RwSemaphore.class, "ownerFlags", int.class);
            OSQ = l.findVarHandle(RwSemaphore.class, "osq", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused")
    private volatile long count;
    /** Owner hint: the writer, or the last reader to take the lock (opaque). */
    @SuppressWarnings("unused")
    private volatile Thread owner;

    @SuppressWarnings("unused")
    private volatile int ownerFlags;
    /**
     * The osq (optimistic spin queue), reduced to a test-and-set word: the one thread allowed to
     * spin on the owner. CAS acquire in osqLock; release store in osqUnlock.
     */
    @SuppressWarnings("unused")
    private volatile Thread osq;
    /** wait_list, FIFO; guarded by its own monitor (the wait_lock). */
    private final ArrayDeque<Waiter> waitList = new ArrayDeque<>();

    private final LockClass lockClass;
    private final Object lockdepMm;
    /** The line of the count word, and of the owner word (the same object when they share one). */
    private final CacheLine countLine;

    private final CacheLine ownerLine;
    private volatile long waitTimeoutNs = RWSEM_WAIT_TIMEOUT_NS;
    private volatile long optSpinBudgetNs = DEFAULT_OPT_SPIN_BUDGET_NS;
    private final LongAdder contended = new LongAdder();
    /** lockevent rwsem_opt_lock: writers that got the lock by optimistic spinning. */
    private final LongAdder optLock = new LongAdder();
    /** lockevent rwsem_opt_nospin: reader-owned spin budget expired, NONSPINNABLE set. */
    private final LongAdder optNospin = new LongAdder();
    /** Writer slow paths that queued on the wait list (rwsem_wlock). */
    private final LongAdder writersQueued = new LongAdder();

    private final LongAdder waitNanos = new LongAdder();

    public RwSemaphore() {
        this(LockClass.RWSEM, null);
    }

    /**
     * @param lockClass the lockdep class of this rwsem
     * @param lockdepMm the mm (its MmapLock) this lock belongs to, for lockdep's mm rules; or null
     */
    public RwSemaphore(final LockClass lockClass, final Object lockdepMm) {
        this(lockClass, lockdepMm, new CacheLine(lockClass + ".count"), new CacheLine(lockClass + ".owner"));
    }

    /**
     * @param countLine the cache line of the count word
     * @param ownerLine the cache line of the owner word; {@code countLine} when they share a line
     */
    public RwSemaphore(
            final LockClass lockClass, final Object lockdepMm, final CacheLine countLine, final CacheLine ownerLine) {
        this.lockClass = lockClass;
        this.lockdepMm = lockdepMm;
        this.countLine = countLine;
        this.ownerLine = ownerLine;
    }

    /** The lock class's name: what a task parked here waits on, in the virtual clock's attribution. */
    @Override
    public String waitName() {
        return lockClass.name();
    }

    // ---------------------------------------------------------------- readers

    /** down_read: fast path = add READER_BIAS and check READ_FAILED_MASK (rwsem_read_trylock). */
    public void downRead() {
        Lockdep.acquire(lockClass, this, lockdepMm, true, false, null);
        Platform.current().rmw(countLine);
        final long c = (long) COUNT.getAndAdd(this, RWSEM_READER_BIAS) + RWSEM_READER_BIAS;
        if ((c & RWSEM_READ_FAILED_MASK) == 0) {
            setReaderOwned(Thread.currentThread());
            return;
        }
        downReadSlowpath(c, false);
    }

    /** down_read_killable: 0, or -EINTR with the lock not held. */
    public int downReadKillable() {
        Lockdep.acquire(lockClass, this, lockdepMm, true, false, null);
        Platform.current().rmw(countLine);
        final long c = (long) COUNT.getAndAdd(this, RWSEM_READER_BIAS) + RWSEM_READER_BIAS;
        if ((c & RWSEM_READ_FAILED_MASK) == 0) {
            setReaderOwned(Thread.currentThread());
            return 0;
        }
        final int r = downReadSlowpath(c, true);
        if (r != 0) {
            Lockdep.release(lockClass, this);
        }
        return r;
    }

    /**
     * down_read_trylock (__down_read_trylock): never sleeps; fails whenever WAITERS or HANDOFF is
     * set. As the kernel's: a plain read of the count, then an atomic_long_try_cmpxchg_acquire loop
     * from the value read. Under the virtual clock the read takes a shared copy of the count's line
     * and the cmpxchg needs it exclusively: two transfers while other CPUs write the line, where a
     * single locked add would need one ("a load + CAS can cost two cache misses"; the leading load
     * "can get stolen by a competing CPU", machine-profiles.md §6 [PZ]). A cmpxchg that failed
     * because another CPU changed the count in between still took the line and returned the new
     * value, so the retry, the next instruction, finds the line here ({@link Platform#rmwLocked}).
     */
    public boolean downReadTrylock() {
        final Platform p = Platform.current();
        p.load(countLine);
        long c = (long) COUNT.getVolatile(this);
        boolean retry = false;
        while ((c & RWSEM_READ_FAILED_MASK) == 0) {
            if (retry) {
                p.rmwLocked(countLine);
            } else {
                p.rmw(countLine);
            }
            final long w = (long) COUNT.compareAndExchange(this, c, c + RWSEM_READER_BIAS);
            if (w == c) {
                setReaderOwned(Thread.currentThread());
                Lockdep.acquire(lockClass, this, lockdepMm, true, true, null);
                return true;
            }
            c = w;
            retry = true;
        }
        return false;
    }

    /**
     * up_read. An up_read with no reader counted is refused with {@link IllegalStateException} and
     * the count left as it was (DEBUG_RWSEMS_WARN_ON(tmp &lt; 0), where the kernel only warns and the
     * count then underflows into READFAIL).
     */
    public void upRead() {
        if (readersIn((long) COUNT.getVolatile(this)) == 0) {
            throw unbalanced("up_read", "no reader holds it");
        }
        Lockdep.release(lockClass, this, true);
        Platform.current().rmw(countLine);
        final long old = (long) COUNT.getAndAdd(this, -RWSEM_READER_BIAS);
        if (readersIn(old) == 0) { // a racing unbalanced up_read took the last one: put ours back
            COUNT.getAndAdd(this, RWSEM_READER_BIAS);
            throw unbalanced("up_read", "no reader holds it");
        }
        final long tmp = old - RWSEM_READER_BIAS;
        if ((tmp & (RWSEM_LOCK_MASK | RWSEM_FLAG_WAITERS)) == RWSEM_FLAG_WAITERS) {
            clearNonspinnable();
            rwsemWake();
        }
    }

    /** rwsem_down_read_slowpath, entered with our reader bias still added. */
    private int downReadSlowpath(final long countAfterBias, final boolean killable) {
        contended.increment();
        final Platform p = Platform.current();
        final long t0 = p.now();
        long c = countAfterBias;
        long adjustment = -RWSEM_READER_BIAS;
        final long rcnt = (c & ~RWSEM_FLAG_READFAIL) >>> RWSEM_READER_SHIFT;
        final Thread me = Thread.currentThread();
        final ArrayList<Thread> wakeQ = new ArrayList<>(2);
        // 1. Likely reader-owned with other readers and no writer: queue, so that a stream of
        //    readers cannot starve a sleeping writer.
        final boolean readerOwned = ((int) OWNER_FLAGS.getOpaque(this) & RWSEM_READER_OWNED) != 0;
        if (!(readerOwned && rcnt > 1 && (c & RWSEM_WRITER_LOCKED) == 0)) {
            // 2. Reader optimistic lock stealing.
            if ((c & (RWSEM_WRITER_LOCKED | RWSEM_FLAG_HANDOFF)) == 0) {
                setReaderOwned(me);
                if (rcnt == 1 && (c & RWSEM_FLAG_WAITERS) != 0) {
                    synchronized (waitList) {
                        if (!waitList.isEmpty()) {
                            markWake(WakeType.READ_OWNED, wakeQ);
                        }
                    }
                    wake(wakeQ);
                }
                waitNanos.add(p.now() - t0);
                return 0;
            }
        }
        // 3. Queue.
        final Waiter waiter = new Waiter(me, false, p.now() + waitTimeoutNs);
        synchronized (waitList) {
            if (waitList.isEmpty()) {
                if (((long) COUNT.getVolatile(this) & RWSEM_WRITER_LOCKED) == 0) {
                    setReaderOwned(me);
                    waitNanos.add(p.now() - t0);
                    return 0;
                }
                adjustment += RWSEM_FLAG_WAITERS;
            }
            waitList.addLast(waiter);
            p.rmwLocked(countLine);
            c = (long) COUNT.getAndAdd(this, adjustment) + adjustment;
            condWakeWaiter(c, wakeQ);
        }
        wake(wakeQ);
        // 4. Wait to be given the lock.
        boolean interrupted = false;
        int result = 0;
        for (; ; ) {
            if (waiter.task == null) {
                break; // volatile read; pairs with the volatile store in markWake
            }
            if (killable && me.isInterrupted()) {
                boolean stillQueued;
                synchronized (waitList) {
                    stillQueued = waiter.task != null;
                    if (stillQueued) {
                        delWakeWaiter(waiter, wakeQ);
                    }
                }
                if (stillQueued) {
                    wake(wakeQ);
                    result = -EINTR;
                }
                break;
            }
            if (!killable && Thread.interrupted()) {
                interrupted = true;
            }
            p.park(this);
        }
        if (interrupted) {
            me.interrupt();
        }
        waitNanos.add(p.now() - t0);
        return result;
    }

    // ---------------------------------------------------------------- writers

    /** down_write: the fast path sets the owner itself (rwsem_write_trylock); the slow path under the wait lock. */
    public void downWrite() {
        downWriteNested(0);
    }

    /**
     * down_write_nested: down_write with a lockdep subclass, for a second lock of the same class
     * taken on purpose (dup_mmap's child mm: SINGLE_DEPTH_NESTING).
     */
    public void downWriteNested(final int subclass) {
        Lockdep.acquire(lockClass, subclass, this, lockdepMm, false, false, null);
        Platform.current().rmw(countLine);
        if (COUNT.compareAndSet(this, 0L, RWSEM_WRITER_LOCKED)) {
            setOwner();
        } else {
            downWriteSlowpath(false);
        }
    }

    /** down_write_killable: 0, or -EINTR with the lock not held. */
    public int downWriteKillable() {
        Lockdep.acquire(lockClass, this, lockdepMm, false, false, null);
        Platform.current().rmw(countLine);
        if (COUNT.compareAndSet(this, 0L, RWSEM_WRITER_LOCKED)) {
            setOwner();
            return 0;
        }
        final int r = downWriteSlowpath(true);
        if (r != 0) {
            Lockdep.release(lockClass, this);
        }
        return r;
    }

    /** down_write_trylock: only the 0 → WRITER_LOCKED CAS. */
    public boolean downWriteTrylock() {
        Platform.current().rmw(countLine);
        if (COUNT.compareAndSet(this, 0L, RWSEM_WRITER_LOCKED)) {
            setOwner();
            Lockdep.acquire(lockClass, this, lockdepMm, false, true, null);
            return true;
        }
        return false;
    }

    /**
     * up_write. An up_write of a lock that is not write-locked is refused with {@link
     * IllegalStateException}, the count and owner left as they were (the kernel's
     * DEBUG_RWSEMS_WARN_ON; without it the count would lose a bit it never had).
     */
    public void upWrite() {
        if (((long) COUNT.getVolatile(this) & RWSEM_WRITER_LOCKED) == 0) {
            throw unbalanced("up_write", "it is not write-locked");
        }
        Lockdep.release(lockClass, this, false);
        final Platform p = Platform.current();
        p.store(ownerLine);
        OWNER.setOpaque(this, (Thread) null);
        OWNER_FLAGS.setOpaque(this, 0);
        p.rmw(countLine);
        final long tmp = (long) COUNT.getAndAdd(this, -RWSEM_WRITER_LOCKED);
        if ((tmp & RWSEM_WRITER_LOCKED) == 0) { // a racing unbalanced up_write released it first
            COUNT.getAndAdd(this, RWSEM_WRITER_LOCKED);
            throw unbalanced("up_write", "it is not write-locked");
        }
        if ((tmp & RWSEM_FLAG_WAITERS) != 0) {
            rwsemWake();
        }
    }

    /** downgrade_write: writer bit off and one reader on, atomically; wakes only readers. */
    public void downgradeWrite() {
        Lockdep.downgrade(lockClass, this);
        setReaderOwned(Thread.currentThread());
        Platform.current().rmw(countLine);
        final long tmp = (long) COUNT.getAndAdd(this, RWSEM_READER_BIAS - RWSEM_WRITER_LOCKED);
        if ((tmp & RWSEM_FLAG_WAITERS) != 0) {
            final ArrayList<Thread> wakeQ = new ArrayList<>(2);
            synchronized (waitList) {
                if (!waitList.isEmpty()) {
                    markWake(WakeType.READ_OWNED, wakeQ);
                }
            }
            wake(wakeQ);
        }
    }

    /**
     * Turns the caller's read hold into a write hold: CAS count from exactly READER_BIAS (sole
     * reader, no waiters, no handoff) to WRITER_LOCKED and set the owner. Fails without dropping
     * the read hold. The kernel's mmap_upgrade_trylock is a stub that always fails; {@link
     * #upgradeAsKernelStub} reproduces that.
     */
    public boolean upgradeTrylock() {
        if (upgradeAsKernelStub) {
            return false;
        }
        // Without a read hold the CAS below would take another reader's hold as ours. The count shows
        // when nobody reads; lockdep (the debug build, like DEBUG_RWSEMS) shows whether we do.
        if (readersIn((long) COUNT.getVolatile(this)) == 0) {
            throw unbalanced("upgrade", "the caller holds no read lock");
        }
        Lockdep.checkUpgrade(lockClass, this);
        Platform.current().rmw(countLine);
        if (COUNT.compareAndSet(this, RWSEM_READER_BIAS, RWSEM_WRITER_LOCKED)) {
            setOwner();
            Lockdep.upgrade(lockClass, this);
            return true;
        }
        return false;
    }

    /** rwsem_down_write_slowpath. */
    private int downWriteSlowpath(final boolean killable) {
        contended.increment();
        final Platform p = Platform.current();
        final long t0 = p.now();
        final long spinBudget = optSpinBudgetNs;
        if (spinBudget > 0 && canSpinOnOwner() && optimisticSpin(spinBudget, t0 + Math.max(spinBudget, SPIN_TICK_NS))) {
            optLock.increment();
            waitNanos.add(p.now() - t0);
            return 0;
        }
        writersQueued.increment();
        final Thread me = Thread.currentThread();
        final Waiter waiter = new Waiter(me, true, p.now() + waitTimeoutNs);
        final ArrayList<Thread> wakeQ = new ArrayList<>(2);
        synchronized (waitList) {
            waitList.addLast(waiter);
            if (waitList.peekFirst() != waiter) {
                condWakeWaiter((long) COUNT.getVolatile(this), wakeQ);
            } else {
                p.rmwLocked(countLine);
                COUNT.getAndBitwiseOr(this, RWSEM_FLAG_WAITERS);
            }
        }
        wake(wakeQ);
        boolean interrupted = false;
        int result = 0;
        long handoffSpinUntil = 0; // the handoff owner spin shares the need_resched stand-in budget
        for (; ; ) {
            synchronized (waitList) {
                if (tryWriteLock(waiter)) {
                    break;
                }
            }
            if (killable && me.isInterrupted()) {
                synchronized (waitList) {
                    delWakeWaiter(waiter, wakeQ);
                }
                wake(wakeQ);
                result = -EINTR;
                break;
            }
            if (!killable && Thread.interrupted()) {
                interrupted = true;
            }
            // The handoff writer spins on the owner; a released lock (OWNER_NULL) is retried at
            // once instead of sleeping. Only the first waiter ever has handoffSet (read under the
            // wait lock where written; a stale false only means we sleep as before).
            if (waiter.handoffSet && spinBudget > 0) {
                if (handoffSpinUntil == 0) {
                    handoffSpinUntil = p.now() + spinBudget;
                }
                if (p.now() - handoffSpinUntil < 0 && spinOnOwner(spinBudget) == OwnerState.NULL) {
                    continue;
                }
            }
            p.park(this);
        }
        LockHooks.at("rwsem_down_write_slowpath:after_wait_lock");
        if (interrupted) {
            me.interrupt();
        }
        waitNanos.add(p.now() - t0);
        return result;
    }

    /**
     * rwsem_can_spin_on_owner: not NONSPINNABLE, and a writer owner is on a CPU (here: RUNNABLE).
     */
    private boolean canSpinOnOwner() {
        final int flags = (int) OWNER_FLAGS.getOpaque(this);
        if ((flags & RWSEM_NONSPINNABLE) != 0) {
            return false;
        }
        final Thread owner = (Thread) OWNER.getOpaque(this);
        return owner == null || (flags & RWSEM_READER_OWNED) != 0 || ownerOnCpu(owner);
    }

    /**
     * owner_on_cpu: the platform's answer (host: the owner thread has not blocked; the JVM cannot
     * see OS preemption, which the caller's time budget, the need_resched stand-in, bounds instead;
     * virtual: the owner's simulated CPU is not parked).
     */
    private static boolean ownerOnCpu(final Thread owner) {
        return Platform.current().onCpu(owner);
    }

    /** rwsem_owner_state for an owner/flags pair read together. */
    private static OwnerState ownerState(final Thread owner, final int flags) {
        if ((flags & RWSEM_NONSPINNABLE) != 0) {
            return OwnerState.NONSPINNABLE;
        }
        if ((flags & RWSEM_READER_OWNED) != 0) {
            return OwnerState.READER;
        }
        return owner != null ? OwnerState.WRITER : OwnerState.NULL;
    }

    /**
     * rwsem_spin_on_owner: while the owner word holds the same running writer, spin; return the
     * new owner state when it changes, NONSPINNABLE when the owner blocks or has held the lock
     * for {@code budget} ns of our spinning (the need_resched / vcpu_is_preempted stand-in). Reader-owned and NULL states return at once.
     */
    private OwnerState spinOnOwner(final long budget) {
        final Thread owner = (Thread) OWNER.getOpaque(this);
        final int flags = (int) OWNER_FLAGS.getOpaque(this);
        final OwnerState state = ownerState(owner, flags);
        if (state != OwnerState.WRITER) {
            return state;
        }
        final Platform p = Platform.current();
        final long deadline = p.now() + budget;
        for (int loop = 0; ; loop++) {
            final Thread now = (Thread) OWNER.getOpaque(this);
            final int nowFlags = (int) OWNER_FLAGS.getOpaque(this);
            if (now != owner || nowFlags != flags) {
                return ownerState(now, nowFlags);
            }
            // Thread.getState and nanoTime cost tens of ns: check them every 16th pass, as the
            // kernel checks sched_clock in the reader-owned loop.
            if ((loop & 0xf) == 0 && (!ownerOnCpu(owner) || p.now() - deadline > 0)) {
                return OwnerState.NONSPINNABLE;
            }
            p.spinWait();
        }
    }

    /**
     * rwsem_optimistic_spin: take the osq, then spin on the owner and try the unqueued grab each
     * time the owner changes. A reader-owned lock is spun on for rwsem_rspin_threshold, then
     * NONSPINNABLE is set. need_resched() is approximated twice: {@code budget} ns without the
     * owner changing (a preempted owner), and {@code tickDeadline}, a scheduler tick of spinning
     * in all (another runnable task would be switched in then).
     */
    private boolean optimisticSpin(final long budget, final long tickDeadline) {
        final Platform p = Platform.current();
        if (!osqLock(p.now() + budget)) {
            return false;
        }
        boolean taken = false;
        try {
            OwnerState prev = OwnerState.NULL;
            long rspinThreshold = 0;
            long progress = p.now();
            for (int loop = 0; ; ) {
                final OwnerState state = spinOnOwner(budget);
                if (state == OwnerState.NONSPINNABLE) {
                    break;
                }
                if (tryWriteLockUnqueued()) {
                    taken = true;
                    break;
                }
                if (state == OwnerState.READER) {
                    if (prev != OwnerState.READER) {
                        if (((int) OWNER_FLAGS.getOpaque(this) & RWSEM_NONSPINNABLE) != 0) {
                            break;
                        }
                        rspinThreshold = rspinThreshold();
                        loop = 0;
                    } else if ((++loop & 0xf) == 0 && p.now() - rspinThreshold > 0) {
                        setNonspinnable();
                        optNospin.increment();
                        break;
                    }
                }
                final long now = p.now();
                if (now - tickDeadline > 0) {
                    break; // need_resched(): a tick's worth of spinning
                }
                if (state == OwnerState.WRITER || state != prev) {
                    progress = now; // the owner changed: the lock is making progress
                } else if (now - progress > budget) {
                    break; // need_resched(): no progress for a budget's time
                }
                prev = state;
                p.spinWait();
            }
        } finally {
            osqUnlock();
        }
        return taken;
    }

    /** rwsem_rspin_threshold: now + (10 + readers/2) us, readers capped at 30. */
    private long rspinThreshold() {
        final long readers = Math.min(readerCount(), RWSEM_RSPIN_MAX_READERS);
        return Platform.current().now() + (20 + readers) * 1000L / 2;
    }

    /** rwsem_try_write_lock_unqueued: grab while neither LOCK_MASK nor HANDOFF is set. */
    private boolean tryWriteLockUnqueued() {
        Platform.current().rmw(countLine);
        long c = (long) COUNT.getVolatile(this);
        while ((c & (RWSEM_LOCK_MASK | RWSEM_FLAG_HANDOFF)) == 0) {
            final long w = (long) COUNT.compareAndExchange(this, c, c | RWSEM_WRITER_LOCKED);
            if (w == c) {
                setOwner(); // rwsem_set_owner, so that the next spinner sees a running writer
                return true;
            }
            c = w;
        }
        return false;
    }

    /**
     * rwsem_set_nonspinnable: only while the lock is reader-owned, with compare-and-set (the kernel's
     * try_cmpxchg loop), so that a writer's rwsem_set_owner in between is not overwritten with a
     * stale READER_OWNED.
     */
    void setNonspinnable() {
        int f = (int) OWNER_FLAGS.getOpaque(this);
        while ((f & RWSEM_READER_OWNED) != 0 && (f & RWSEM_NONSPINNABLE) == 0) {
            final int w = (int) OWNER_FLAGS.compareAndExchange(this, f, f | RWSEM_NONSPINNABLE);
            if (w == f) {
                return;
            }
            f = w;
        }
    }

    /**
     * osq_lock, reduced to a test-and-set word: wait (spinning) for the current spinner to leave;
     * give up at {@code deadline}, as osq_lock unqueues on need_resched.
     */
    private boolean osqLock(final long deadline) {
        final Thread me = Thread.currentThread();
        final Platform p = Platform.current();
        for (int loop = 0; ; loop++) {
            if (OSQ.getOpaque(this) == null && OSQ.compareAndSet(this, null, me)) {
                return true;
            }
            if ((loop & 0xf) == 0 && p.now() - deadline > 0) {
                return false;
            }
            p.spinWait();
        }
    }

    /** osq_unlock: release store; pairs with the CAS in osqLock. */
    private void osqUnlock() {
        OSQ.setVolatile(this, null);
    }

    /** rwsem_try_write_lock; caller holds the wait lock. */
    private boolean tryWriteLock(final Waiter waiter) {
        final Waiter first = waitList.peekFirst();
        final Platform p = Platform.current();
        p.rmwLocked(countLine);
        long c = (long) COUNT.getVolatile(this);
        long n;
        for (; ; ) {
            final boolean hasHandoff = (c & RWSEM_FLAG_HANDOFF) != 0;
            if (hasHandoff && first.handoffSet && waiter != first) {
                return false;
            }
            n = c;
            if ((c & RWSEM_LOCK_MASK) != 0) {
                if (hasHandoff || p.now() - waiter.timeout <= 0) {
                    return false;
                }
                n |= RWSEM_FLAG_HANDOFF;
            } else {
                n |= RWSEM_WRITER_LOCKED;
                n &= ~RWSEM_FLAG_HANDOFF;
                if (waitList.size() == 1) {
                    n &= ~RWSEM_FLAG_WAITERS;
                }
            }
            final long w = (long) COUNT.compareAndExchange(this, c, n);
            if (w == c) {
                break;
            }
            c = w;
        }
        if ((n & RWSEM_FLAG_HANDOFF) != 0) {
            first.handoffSet = true;
            return false;
        }
        // Fully implies rwsem_del_waiter (the CAS cleared WAITERS and HANDOFF), and the owner is set
        // before the wait lock is dropped, so whoever takes the wait lock next sees this writer.
        waitList.remove(waiter);
        setOwner();
        return true;
    }

    // ---------------------------------------------------------------- waking

    /** rwsem_wake: called when the lock may have become free and WAITERS was set. */
    private void rwsemWake() {
        final ArrayList<Thread> wakeQ = new ArrayList<>(2);
        synchronized (waitList) {
            if (!waitList.isEmpty()) {
                markWake(WakeType.ANY, wakeQ);
            }
        }
        wake(wakeQ);
    }

    /** rwsem_cond_wake_waiter; caller holds the wait lock. */
    private void condWakeWaiter(final long c, final ArrayList<Thread> wakeQ) {
        if ((c & RWSEM_WRITER_LOCKED) != 0) {
            return;
        }
        final WakeType type;
        if ((c & RWSEM_READER_MASK) != 0) {
            type = WakeType.READERS;
        } else {
            type = WakeType.ANY;
            clearNonspinnable();
        }
        markWake(type, wakeQ);
    }

    /** rwsem_mark_wake; caller holds the wait lock and the list is non-empty. */
    private void markWake(final WakeType type, final ArrayList<Thread> wakeQ) {
        final Waiter first = waitList.peekFirst();
        if (first.write) {
            if (type == WakeType.ANY) {
                wakeQ.add(first.thread); // it must still win tryWriteLock
            }
            return;
        }
        if ((long) COUNT.getVolatile(this) < 0) {
            return; // READFAIL: reader overflow
        }
        long adjustment = 0;
        if (type != WakeType.READ_OWNED) {
            adjustment = RWSEM_READER_BIAS;
            Platform.current().rmwLocked(countLine);
            final long old = (long) COUNT.getAndAdd(this, adjustment);
            if ((old & RWSEM_WRITER_LOCKED) != 0) {
                // A writer stole the lock: undo, and ask for handoff if the first waited too long. A
                // HANDOFF already set (by a waiter that has since left) is inherited: handoff_set
                // is set all the same, so that writers behind honour it (rwsem_try_write_lock).
                if (Platform.current().now() - first.timeout > 0) {
                    if ((old & RWSEM_FLAG_HANDOFF) == 0) {
                        adjustment -= RWSEM_FLAG_HANDOFF;
                    }
                    first.handoffSet = true;
                }
                COUNT.getAndAdd(this, -adjustment);
                return;
            }
            setReaderOwned(first.thread);
        }
        // Grant up to MAX_READERS_WAKEUP readers from anywhere in the queue, skipping writers.
        final ArrayList<Waiter> woken = new ArrayList<>();
        for (final Iterator<Waiter> it = waitList.iterator(); it.hasNext(); ) {
            final Waiter w = it.next();
            if (w.write) {
                continue;
            }
            it.remove();
            woken.add(w);
            if (woken.size() >= MAX_READERS_WAKEUP) {
                break;
            }
        }
        adjustment = woken.size() * RWSEM_READER_BIAS - adjustment;
        final long old = (long) COUNT.getVolatile(this);
        if (waitList.isEmpty()) {
            adjustment -= RWSEM_FLAG_WAITERS;
            if ((old & RWSEM_FLAG_HANDOFF) != 0) {
                adjustment -= RWSEM_FLAG_HANDOFF;
            }
        } else if (!woken.isEmpty() && (old & RWSEM_FLAG_HANDOFF) != 0) {
            adjustment -= RWSEM_FLAG_HANDOFF;
        }
        if (adjustment != 0) {
            Platform.current().rmwLocked(countLine);
            COUNT.getAndAdd(this, adjustment);
        }
        for (final Waiter w : woken) {
            wakeQ.add(w.thread);
            w.task = null; // volatile store: the grant; pairs with the waiter's volatile read
        }
    }

    /** rwsem_del_waiter: returns true if the list is still non-empty; caller holds the wait lock. */
    private boolean delWaiter(final Waiter waiter) {
        waitList.remove(waiter);
        if (!waitList.isEmpty()) {
            return true;
        }
        COUNT.getAndBitwiseAnd(this, ~(RWSEM_FLAG_HANDOFF | RWSEM_FLAG_WAITERS));
        return false;
    }

    /** rwsem_del_wake_waiter (the wait-lock part): a killed waiter leaves; wake the rest if it was first. */
    private void delWakeWaiter(final Waiter waiter, final ArrayList<Thread> wakeQ) {
        final boolean first = waitList.peekFirst() == waiter;
        if (delWaiter(waiter) && first) {
            markWake(WakeType.ANY, wakeQ);
        }
    }

    private static void wake(final ArrayList<Thread> wakeQ) {
        if (wakeQ.isEmpty()) {
            return;
        }
        final Platform p = Platform.current();
        for (int i = 0; i < wakeQ.size(); i++) {
            p.unpark(wakeQ.get(i));
        }
        wakeQ.clear();
    }

    // ---------------------------------------------------------------- owner word

    /** rwsem_set_owner: the current thread, no flags. */
    void setOwner() {
        ownerStore();
        OWNER.setOpaque(this, Thread.currentThread());
        OWNER_FLAGS.setOpaque(this, 0);
    }

    /** rwsem_set_reader_owned: owner = t | READER_OWNED, preserving NONSPINNABLE. */
    void setReaderOwned(final Thread t) {
        ownerStore(); // the kernel's store is unconditional
        if (OWNER.getOpaque(this) != t) {
            OWNER.setOpaque(this, t);
        }
        final int f = (int) OWNER_FLAGS.getOpaque(this);
        if ((f & RWSEM_READER_OWNED) == 0) {
            OWNER_FLAGS.setOpaque(this, f | RWSEM_READER_OWNED);
        }
    }

    /**
     * The owner word's store as the virtual clock sees it: a preemption point where the caller may
     * be preempted (a waiter may take the line between the count RMW and this store), none under
     * the wait_lock (a raw spinlock; a Java monitor here).
     */
    private void ownerStore() {
        final Platform p = Platform.current();
        if (!p.isVirtual()) {
            return;
        }
        if (Thread.holdsLock(waitList)) {
            p.storeLocked(ownerLine);
        } else {
            p.store(ownerLine);
        }
    }

    /** clear_nonspinnable: atomic_long_andnot, so that a concurrent change of the other flags is kept. */
    void clearNonspinnable() {
        if (((int) OWNER_FLAGS.getOpaque(this) & RWSEM_NONSPINNABLE) != 0) {
            OWNER_FLAGS.getAndBitwiseAnd(this, ~RWSEM_NONSPINNABLE);
        }
    }

    private static long readersIn(final long count) {
        return (count & ~RWSEM_FLAG_READFAIL) >>> RWSEM_READER_SHIFT;
    }

    private IllegalStateException unbalanced(final String op, final String why) {
        return new IllegalStateException("DEBUG_RWSEMS_WARN_ON: " + op + " of " + lockClass + " rwsem while " + why
                + " (count 0x" + Long.toHexString(count()) + ", left as it was)");
    }

    // ---------------------------------------------------------------- queries and tuning

    /** The count word (volatile read). */
    public long count() {
        return (long) COUNT.getVolatile(this);
    }

    /** The owner hint: the writer, or some reader when {@link #isReaderOwned()}. */
    public Thread owner() {
        return (Thread) OWNER.getOpaque(this);
    }

    /** The owner word's flags (RWSEM_READER_OWNED, RWSEM_NONSPINNABLE) in one load. */
    int ownerFlags() {
        return (int) OWNER_FLAGS.getOpaque(this);
    }

    /** The owner word's READER_OWNED hint. */
    public boolean isReaderOwned() {
        return ((int) OWNER_FLAGS.getOpaque(this) & RWSEM_READER_OWNED) != 0;
    }

    /** Number of readers counted in the count word (may include transient fast-path biases). */
    public long readerCount() {
        return readersIn(count());
    }

    /** Number of queued waiters (takes the wait lock). */
    public int waiterCount() {
        synchronized (waitList) {
            return waitList.size();
        }
    }

    /** Is {@code t} queued, and is it first? -1 not queued, else its position. */
    public int waiterPosition(final Thread t) {
        synchronized (waitList) {
            int i = 0;
            for (final Waiter w : waitList) {
                if (w.thread == t) {
                    return i;
                }
                i++;
            }
            return -1;
        }
    }

    /** The first waiter's handoff_set (takes the wait lock); false with no waiter. For tests of the handoff rules. */
    boolean firstWaiterHandoffSet() {
        synchronized (waitList) {
            final Waiter first = waitList.peekFirst();
            return first != null && first.handoffSet;
        }
    }

    /** rwsem_is_locked. */
    public boolean isLocked() {
        return (count() & RWSEM_LOCK_MASK) != 0;
    }

    public boolean isWriteLocked() {
        return (count() & RWSEM_WRITER_LOCKED) != 0;
    }

    public boolean isWriteLockedByCurrentThread() {
        return isWriteLocked() && owner() == Thread.currentThread();
    }

    /** rwsem_is_contended: the wait list is non-empty (WAITERS bit). */
    public boolean isContended() {
        return (count() & RWSEM_FLAG_WAITERS) != 0;
    }

    /** Acquisitions that left the fast path (spun or slept). */
    public long contendedCount() {
        return contended.sum();
    }

    /** Total nanoseconds spent in the slow paths. */
    public long waitNanos() {
        return waitNanos.sum();
    }

    /** The lockdep class of this rwsem. */
    public LockClass lockClass() {
        return lockClass;
    }

    /** Overrides RWSEM_WAIT_TIMEOUT for waiters queued from now on (tests: 0 = hand off at once). */
    public void setWaitTimeoutNanos(final long ns) {
        this.waitTimeoutNs = ns;
    }

    /**
     * Turns optimistic spinning off (0) or on with the default budget (any positive value). Kept
     * for callers of the old bounded-tries model; see {@link #setOptimisticSpinBudgetNanos}.
     */
    public void setOptimisticSpinTries(final int tries) {
        this.optSpinBudgetNs = tries > 0 ? DEFAULT_OPT_SPIN_BUDGET_NS : 0;
    }

    /**
     * The need_resched() stand-in: how long a writer spins without the owner word changing (on
     * the osq, on one writer owner, on a NULL owner; also the handoff writer's owner spin); the
     * whole spin is further capped at max(this, one tick). 0 turns spinning off.
     */
    public void setOptimisticSpinBudgetNanos(final long ns) {
        this.optSpinBudgetNs = ns;
    }

    /** lockevent rwsem_opt_lock: writer acquisitions won by optimistic spinning (no queueing). */
    public long optLockCount() {
        return optLock.sum();
    }

    /** lockevent rwsem_opt_nospin: reader-owned spins that ran out of budget and set NONSPINNABLE. */
    public long optNospinCount() {
        return optNospin.sum();
    }

    /** Writer slow paths that queued on the wait list (spinning failed or was not tried). */
    public long writersQueuedCount() {
        return writersQueued.sum();
    }

    /** The owner word's NONSPINNABLE bit. */
    public boolean isNonspinnable() {
        return ((int) OWNER_FLAGS.getOpaque(this) & RWSEM_NONSPINNABLE) != 0;
    }

    /** The thread holding the osq (the one optimistic spinner), or null. */
    public Thread optimisticSpinner() {
        return (Thread) OSQ.getVolatile(this);
    }
}
