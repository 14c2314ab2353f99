package dev.vmsim.core.lock;

import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.sync.LockClass;
import dev.vmsim.core.sync.Lockdep;
import dev.vmsim.core.sync.Rcu;

/**
 * Per-VMA locks: {@code vm_refcnt} and {@code vm_lock_seq} (include/linux/mmap_lock.h,
 * mm/mmap_lock.c).
 *
 * <h2>State</h2>
 * A VMA is <b>write-locked</b> when its vm_lock_seq equals its mm's current (odd) mm_lock_seq; all
 * VMA write locks end together when the mmap write lock is dropped or downgraded
 * (vma_end_write_all). A <b>read lock</b> is one reference in vm_refcnt. The canonical table of
 * vm_refcnt values (kernel-semantics.md §4.2):
 *
 * <pre>
 * 0                 detached                                           new readers: no (EAGAIN)
 * 1                 attached, unlocked or write-locked (see seq)       yes unless write-locked
 * 2 .. LIMIT        attached + (v-1) readers (some may be transient)   yes until LIMIT
 * FLAG              detacher done waiting, about to subtract → 0       no
 * FLAG+1            writer excluded all readers / detacher, 1 left     no
 * > FLAG+1          writer or detacher waiting for readers to leave    no
 * </pre>
 *
 * <p>Assumptions: vm_lock_seq is written only under the mmap write lock with FLAG set (or the VMA
 * detached); attach/detach happen only under the mmap write lock with the VMA write-locked.
 *
 * <p>In the rw_semaphore modes (6.4-6.14) the read, write and assert calls go to {@link VmaRwsem}.
 *
 * <p>Departures: in {@link LockingMode#MMAP_ONLY} the read/write calls are no-ops and {@link
 * #startRead} always fails, as with CONFIG_PER_VMA_LOCK=n, but attach/detach still keep vm_refcnt
 * at 1/0 so that attachment assertions work in every mode. mm lifetime (mm_count) is modelled on
 * the {@link MmapLock} ({@link MmapLock#mmgrab}); a wake-up on a freed mm fails as a use-after-free.
 */
public final class VmaLock {
    public static final int VM_REFCNT_EXCLUDE_READERS_FLAG = 0x4000_0000;
    public static final int VM_REFCNT_LIMIT = VM_REFCNT_EXCLUDE_READERS_FLAG - 1;
    /** How long vma_start_write polls for readers to leave before it sleeps (see spinForReaders). */
    public static final long VMA_WRITER_SPIN_NS = 500L;
    /** -EINTR. */
    public static final int EINTR = 4;
    /** vma_start_read result: the VMA was detached under us (-EAGAIN). */
    public static final Vma EAGAIN = new Vma();

    /** TEST ONLY: skip the vm_mm re-validation in vma_start_read (shows why it is needed). */
    public static volatile boolean skipRevalidation = false;

    /** struct vma_exclude_readers_state: inputs and outputs of the exclude-readers helpers. */
    public static final class ExcludeReadersState {
        public final Vma vma;
        /** TASK_KILLABLE (true) or TASK_UNINTERRUPTIBLE (false). */
        public final boolean killable;

        public final boolean detaching;
        public boolean detached;
        /** Are we exclusively locked (FLAG added and readers drained)? */
        public boolean exclusive;

        public ExcludeReadersState(final Vma vma, final boolean killable, final boolean detaching) {
            this.vma = vma;
            this.killable = killable;
            this.detaching = detaching;
        }
    }

    private VmaLock() {}

    private static boolean perVma(final MmStruct mm) {
        return mm.mmapLock().mode() != LockingMode.MMAP_ONLY;
    }

    /**
     * vma_lock_init: optionally vm_refcnt := 0; vm_lock_seq := UINT_MAX; in the rw_semaphore modes a
     * fresh vm_lock as well ({@link VmaRwsem#init}). Context: vm_mm already set, VMA detached.
     */
    public static void lockInit(final Vma vma, final boolean resetRefcnt) {
        if (resetRefcnt) {
            vma.refcntSetRelease(0);
        }
        vma.setLockSeq(-1);
        final MmStruct mm = vma.vmMm;
        if (mm != null && mm.mmapLock().mode().vmaLockIsRwsem()) {
            VmaRwsem.init(vma, mm);
        } else {
            vma.vmLock = null;
        }
    }

    // ---------------------------------------------------------------- readers

    /**
     * vma_start_read. Context: inside an RCU read section; on failure RCU has been dropped.
     *
     * <p>Returns the VMA (read-locked, RCU still held), null (write-locked, at the reader limit,
     * false-locked, or recycled to another mm), or {@link #EAGAIN} (detached). False "locked"
     * results are allowed; false "unlocked" results are not.
     */
    public static Vma startRead(final MmStruct mm, final Vma vma) {
        if (Lockdep.active() && !Rcu.readLockHeld()) {
            throw new AssertionError("vma_start_read: no rcu lock held");
        }
        final MmapLock ml = mm.mmapLock();
        if (ml.mode() == LockingMode.MMAP_ONLY) {
            Rcu.readUnlock();
            return null;
        }
        if (ml.mode().vmaLockIsRwsem()) {
            return VmaRwsem.startRead(mm, ml, vma);
        }
        // 1. Lockless pessimistic check; READ_ONCE on both sides, the result is not relied on.
        Platform.current().load(vma.line0);
        if (vma.lockSeqOpaque() == ml.lockSeqOpaque()) {
            Rcu.readUnlock();
            return null;
        }
        LockHooks.at("vma_start_read:after_early_check");
        // 2. __refcount_inc_not_zero_limited_acquire: FLAG > LIMIT, so a set flag refuses us too.
        //    refcount_read, then atomic_try_cmpxchg_acquire from the value read; a failed cmpxchg
        //    returns the value it found and leaves the line here for the retry.
        int old = vma.refcntLoad();
        for (boolean retry = false; ; retry = true) {
            if (old == 0 || old >= VM_REFCNT_LIMIT) {
                Rcu.readUnlock();
                return old == 0 ? EAGAIN : null;
            }
            final int found = vma.refcntCompareAndExchange(old, old + 1, retry);
            if (found == old) {
                break;
            }
            old = found;
        }
        // 3. lockdep: a read acquisition that never waits (trylock, no order check).
        Lockdep.acquire(LockClass.VMA_LOCK, vma, ml, true, true, null);
        LockHooks.at("vma_start_read:after_inc");
        // 4. Recycled into another mm (type-safe-by-RCU): pin that mm across the put (BUG-03).
        final MmStruct other = vma.vmMm;
        if (other != mm && !skipRevalidation) {
            mm.machine().vmstat().count(VmEvent.VMA_RECHECK_VM_MM);
            Rcu.readUnlock();
            final MmapLock otherLock = other.mmapLock();
            final boolean pin = !BugSwitches.on(Bug.BUG_03); // the BUG-03 fix: mmgrab before the put
            if (pin) {
                otherLock.mmgrab();
            }
            refcountPut(otherLock, vma);
            if (pin) {
                otherLock.mmdrop();
            }
            return null;
        }
        LockHooks.at("vma_start_read:before_recheck");
        // 5. Re-check with ACQUIRE on mm_lock_seq; pairs with the RELEASE in vma_end_write_all. The
        //    reference now held keeps any later writer waiting, so a false "unlocked" is impossible
        //    (BUG-05: turning this re-check off lets a reader in beside a writer).
        if (!BugSwitches.on(Bug.BUG_05) && vma.lockSeq() == ml.lockSeqAcquire()) {
            refcountPut(ml, vma);
            Rcu.readUnlock();
            return null;
        }
        return vma;
    }

    /**
     * vma_start_read_locked: turn an mmap lock hold into a VMA read lock. Context: mmap lock held.
     * Fails only at the reader limit (or on a detached VMA, or in MMAP_ONLY mode).
     */
    public static boolean startReadLocked(final Vma vma) {
        final MmStruct mm = vma.vmMm;
        final MmapLock ml = mm.mmapLock();
        if (Lockdep.active()) {
            ml.assertLocked();
        }
        if (ml.mode() == LockingMode.MMAP_ONLY) {
            return false;
        }
        if (ml.mode().vmaLockIsRwsem()) {
            return VmaRwsem.startReadLocked(vma);
        }
        int old = vma.refcnt();
        for (; ; ) {
            if (old == 0 || old >= VM_REFCNT_LIMIT) {
                return false;
            }
            if (vma.refcntCompareAndSet(old, old + 1)) {
                break;
            }
            old = vma.refcnt();
        }
        Lockdep.acquire(LockClass.VMA_LOCK, vma, ml, true, true, null);
        return true;
    }

    /** vma_end_read = vma_refcount_put. */
    public static void endRead(final Vma vma) {
        final MmStruct mm = vma.vmMm; // copy first: the VMA may be freed once the count drops
        final MmapLock ml = mm.mmapLock();
        if (ml.mode() == LockingMode.MMAP_ONLY) {
            return;
        }
        if (ml.mode().vmaLockIsRwsem()) {
            VmaRwsem.endRead(vma);
            return;
        }
        refcountPut(ml, vma);
    }

    /** vma_refcount_put: decrement; wake the writer if it now has readers excluded. */
    private static void refcountPut(final MmapLock ml, final Vma vma) {
        Lockdep.release(LockClass.VMA_LOCK, vma);
        final int newcnt = vma.refcntAddAndGet(-1);
        LockHooks.at("vma_refcount_put:after_dec");
        if (newcnt != 0 && areReadersExcluded(newcnt)) {
            rcuwaitWakeUp(ml);
        }
    }

    /** __vma_are_readers_excluded: FLAG set and at most one base reference left. */
    public static boolean areReadersExcluded(final int refcnt) {
        return (refcnt & VM_REFCNT_EXCLUDE_READERS_FLAG) != 0 && refcnt <= VM_REFCNT_EXCLUDE_READERS_FLAG + 1;
    }

    /** rcuwait_wake_up(&mm->vma_writer_wait). Spurious wake-ups are harmless. */
    private static void rcuwaitWakeUp(final MmapLock ml) {
        if (ml.isFreed()) {
            throw new AssertionError("use-after-free: rcuwait_wake_up on a freed mm (BUG-03)");
        }
        final Thread t = ml.vmaWriterWait; // volatile; Dekker pair with the sleeper's refcnt read
        if (t != null) {
            Platform.current().unpark(t);
        }
    }

    // ---------------------------------------------------------------- writers

    /** vma_start_write. Context: mmap write lock held; may sleep uninterruptibly for readers. */
    public static void startWrite(final Vma vma) {
        startWriteState(vma, false);
    }

    /**
     * vma_start_write_killable. Context: mmap write lock held. Return: 0, or -EINTR if interrupted
     * while readers drained; then vm_refcnt is exactly as before and vm_lock_seq is unchanged.
     */
    public static int startWriteKillable(final Vma vma) {
        return startWriteState(vma, true);
    }

    private static int startWriteState(final Vma vma, final boolean killable) {
        final MmapLock ml = vma.vmMm.mmapLock();
        if (Lockdep.active()) {
            ml.assertWriteLocked();
        }
        if (ml.mode() == LockingMode.MMAP_ONLY) {
            return 0;
        }
        final int seq = ml.lockSeq();
        if (vma.lockSeq() == seq) {
            return 0; // already write-locked in this mmap write section
        }
        if (ml.mode().vmaLockIsRwsem()) {
            return VmaRwsem.startWrite(vma, seq, killable);
        }
        return vmaStartWrite(vma, seq, killable);
    }

    /** __vma_start_write. */
    private static int vmaStartWrite(final Vma vma, final int mmLockSeq, final boolean killable) {
        final ExcludeReadersState ves = new ExcludeReadersState(vma, killable, false);
        final int err = startExcludeReaders(ves);
        if (err != 0) {
            return err;
        }
        // WRITE_ONCE: concurrent lockless readers of the early check may race with this store.
        vma.setLockSeq(mmLockSeq);
        if (ves.exclusive) {
            endExcludeReaders(ves);
            if (ves.detached) {
                throw new AssertionError("__vma_start_write: VMA detached while write-locking " + vma);
            }
        }
        return 0;
    }

    /**
     * __vma_start_exclude_readers: add FLAG unless detached, then sleep on vma_writer_wait until
     * vm_refcnt == FLAG + (detaching ? 0 : 1). Pairs with the wake-up in vma_refcount_put. On
     * -EINTR the flag is removed again (__vma_end_exclude_readers) before returning.
     */
    public static int startExcludeReaders(final ExcludeReadersState ves) {
        final Vma vma = ves.vma;
        final MmapLock ml = vma.vmMm.mmapLock();
        if (Lockdep.active()) {
            ml.assertWriteLocked();
        }
        final int target = VM_REFCNT_EXCLUDE_READERS_FLAG | (ves.detaching ? 0 : 1);
        // refcount_add_not_zero: only vma_mark_attached raises a zero count, and it needs our lock.
        int old = vma.refcnt();
        for (; ; ) {
            if (old == 0) {
                ves.detached = true;
                return 0;
            }
            if (vma.refcntCompareAndSet(old, old + VM_REFCNT_EXCLUDE_READERS_FLAG)) {
                break;
            }
            old = vma.refcnt();
        }
        try {
            Lockdep.acquire(LockClass.VMA_LOCK, vma, ml, false, false, null);
        } catch (final Lockdep.LockdepSplat e) {
            vma.refcntAddAndGet(-VM_REFCNT_EXCLUDE_READERS_FLAG); // a report leaves vm_refcnt as it was
            throw e;
        }
        LockHooks.at("__vma_start_exclude_readers:before_wait");
        final int err = rcuwaitWaitEvent(ml, vma, target, ves.killable);
        if (err != 0) {
            if (BugSwitches.on(Bug.BUG_06)) { // the BUG-06 fix is the endExcludeReaders below
                Lockdep.release(LockClass.VMA_LOCK, vma);
            } else {
                endExcludeReaders(ves);
            }
            return err;
        }
        ves.exclusive = true;
        return 0;
    }

    /** __vma_end_exclude_readers: subtract FLAG; detached := the count reached 0. */
    public static void endExcludeReaders(final ExcludeReadersState ves) {
        ves.detached = ves.vma.refcntAddAndGet(-VM_REFCNT_EXCLUDE_READERS_FLAG) == 0;
        Lockdep.release(LockClass.VMA_LOCK, ves.vma);
    }

    /** __vma_exclude_readers_for_detach: uninterruptible; wait until vm_refcnt == FLAG, then 0. */
    public static void excludeReadersForDetach(final Vma vma) {
        final ExcludeReadersState ves = new ExcludeReadersState(vma, false, true);
        final int err = startExcludeReaders(ves);
        if (err == 0 && ves.exclusive) {
            endExcludeReaders(ves);
        }
        if (!ves.detached) {
            throw new AssertionError("__vma_exclude_readers_for_detach: not detached " + vma);
        }
    }

    /**
     * Departure from the kernel: before sleeping on vma_writer_wait, poll vm_refcnt for up to
     * {@link #VMA_WRITER_SPIN_NS}. The kernel's rcuwait_wait_event goes straight to sleep, but a
     * kernel sleep+wake costs about what a JVM park+unpark does, and a page-fault reader holds the
     * VMA lock for well under a microsecond; without the poll almost every write-lock against a
     * faulting reader costs a park. The slot is not published while polling, so readers leaving
     * meanwhile skip the wake-up; the caller publishes it and re-reads vm_refcnt before parking.
     * Acquire: the volatile read of vm_refcnt pairs with the reader's atomic decrement.
     *
     * @return true if vm_refcnt reached {@code target} while polling
     */
    private static boolean spinForReaders(final Vma vma, final int target) {
        final Platform p = Platform.current();
        final long deadline = p.now() + VMA_WRITER_SPIN_NS;
        for (int loop = 1; ; loop++) {
            if (vma.refcnt() == target) {
                return true;
            }
            if ((loop & 0x7) == 0 && p.now() - deadline > 0) {
                return false;
            }
            p.spinWait();
        }
    }

    /**
     * rcuwait_wait_event(&mm->vma_writer_wait, vm_refcnt == target, state). The slot is published
     * (volatile) before the count is read; a reader decrements (atomic) before reading the slot,
     * so one of the two sees the other.
     */
    private static int rcuwaitWaitEvent(final MmapLock ml, final Vma vma, final int target, final boolean killable) {
        // The poll is the host clock's departure (a JVM park costs more than the reader's hold); the
        // virtual clock charges sleep and wake-up as the profile says, so it sleeps at once, as the
        // kernel's rcuwait_wait_event does.
        if (!Platform.current().isVirtual() && spinForReaders(vma, target)) {
            return 0;
        }
        final Thread me = Thread.currentThread();
        ml.vmaWriterWait = me;
        boolean interrupted = false;
        try {
            while (vma.refcnt() != target) {
                if (killable && me.isInterrupted()) {
                    return -EINTR;
                }
                if (!killable && Thread.interrupted()) {
                    interrupted = true;
                }
                Platform.current().park("vma_writer_wait");
            }
            return 0;
        } finally {
            ml.vmaWriterWait = null;
            if (interrupted) {
                me.interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- attach / detach

    /** vma_mark_attached: precondition write-locked and detached; store 1 with release. */
    public static void markAttached(final Vma vma) {
        if (Lockdep.active()) {
            assertDetached(vma);
        }
        vma.refcntSetRelease(1);
    }

    /**
     * vma_mark_detached: precondition write-locked and attached. Fast path: the decrement reaches
     * 0. Slow path: transient readers raced in (BUG-04); wait until they leave. Returns with
     * vm_refcnt == 0.
     */
    public static void markDetached(final Vma vma) {
        if (Lockdep.active()) {
            assertWriteLocked(vma);
            assertAttached(vma);
        }
        if (vma.refcntAddAndGet(-1) == 0) {
            return;
        }
        LockHooks.at("vma_mark_detached:after_dec");
        if (BugSwitches.on(Bug.BUG_04)) {
            return; // before the BUG-04 fix: returns with a spurious reader still counted
        }
        excludeReadersForDetach(vma);
    }

    // ---------------------------------------------------------------- assertions

    /** __is_vma_write_locked: vm_lock_seq == mm_lock_seq (caller holds the mmap write lock). */
    public static boolean isWriteLocked(final Vma vma) {
        final MmapLock ml = vma.vmMm.mmapLock();
        return ml.isWriteLocked() && vma.lockSeq() == ml.lockSeq();
    }

    /** vma_assert_write_locked. */
    public static void assertWriteLocked(final Vma vma) {
        final MmapLock ml = vma.vmMm.mmapLock();
        ml.assertWriteLocked();
        if (ml.mode() != LockingMode.MMAP_ONLY && vma.lockSeq() != ml.lockSeq()) {
            throw new AssertionError("vma_assert_write_locked: " + vma);
        }
    }

    /**
     * vma_assert_locked: read- or write-locked. With lockdep the current thread must hold a VMA read
     * lock, else the VMA must be write-locked; without, refcnt > 1 passes, 0 fails, 1 needs the write
     * lock.
     */
    public static void assertLocked(final Vma vma) {
        final MmapLock ml = vma.vmMm.mmapLock();
        if (ml.mode() == LockingMode.MMAP_ONLY) {
            ml.assertLocked();
            return;
        }
        final int r = vma.refcnt();
        if (r == 0) {
            throw new AssertionError("vma_assert_locked: detached " + vma);
        }
        if (ml.mode().vmaLockIsRwsem()) {
            if (!VmaRwsem.readLocked(vma)) {
                assertWriteLocked(vma);
            }
            return;
        }
        if (Lockdep.active() ? Lockdep.isHeld(LockClass.VMA_LOCK, vma, true) : r > 1) {
            return;
        }
        assertWriteLocked(vma);
    }

    /** vma_assert_stabilised: the mmap lock is held (by us with lockdep), else vma_assert_locked. */
    public static void assertStabilised(final Vma vma) {
        if (vma.vmMm.mmapLock().isHeldByCurrentOrAnyone()) {
            return;
        }
        assertLocked(vma);
    }

    /** vma_assert_attached. */
    public static void assertAttached(final Vma vma) {
        if (vma.refcnt() == 0) {
            throw new AssertionError("vma_assert_attached: " + vma);
        }
    }

    /** vma_assert_detached. */
    public static void assertDetached(final Vma vma) {
        if (vma.refcnt() != 0) {
            throw new AssertionError("vma_assert_detached: refcnt " + vma.refcnt() + " " + vma);
        }
    }
}
