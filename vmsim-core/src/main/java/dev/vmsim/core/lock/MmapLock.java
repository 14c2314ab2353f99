package dev.vmsim.core.lock;

import dev.vmsim.core.clock.CacheLine;
import dev.vmsim.core.sync.LockClass;
import dev.vmsim.core.sync.Lockdep;
import dev.vmsim.core.sync.RwSemaphore;
import dev.vmsim.core.trace.jfr.JfrSites;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The mmap_lock of one mm (include/linux/mmap_lock.h, mm/mmap_lock.c): the rw_semaphore plus
 * {@code mm_lock_seq} (odd while write-locked), {@code vma_writer_wait}, and {@code mm_count}.
 *
 * <p>Every wrapper runs its steps in the exact order of kernel-semantics.md §5:
 *
 * <pre>
 * mmap_write_lock           trace start(W) → down_write → seqcount begin → trace returned(W, ok)
 * mmap_write_lock_killable  trace start(W) → down_write_killable → [seqcount begin] → trace returned
 * mmap_write_unlock         trace released(W) → vma_end_write_all (seq even) → up_write
 * mmap_write_downgrade      trace returned(R, true) → vma_end_write_all → downgrade_write
 * mmap_read_lock            trace start(R) → down_read → trace returned(R, true)
 * mmap_read_lock_killable   trace start(R) → down_read_killable → trace returned(R, ok)
 * mmap_read_trylock         trace start(R) → down_read_trylock → trace returned(R, result)
 * mmap_read_unlock          trace released(R) → up_read
 * </pre>
 *
 * <p>Departures from the kernel: {@code mm_lock_seq}, {@code vma_writer_wait} and {@code mm_count}
 * live here rather than directly in mm_struct, so that all of an mm's lock state is one object; the
 * sequence width is configurable ({@link #setSeqBits}) so that wrap-around (LOCK-10, BUG-05) can be
 * replayed in a few cycles.
 */
public final class MmapLock {
    /** SINGLE_DEPTH_NESTING: the lockdep subclass of a second lock of one class. */
    public static final int SINGLE_DEPTH_NESTING = 1;

    private static final VarHandle MM_LOCK_SEQ;

    static {
        try {
            MM_LOCK_SEQ = MethodHandles.lookup().findVarHandle(MmapLock.class, "mmLockSeq", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The installed tracepoint receiver, or null (tracepoints off). */
    private static volatile MmapLockTraceSink traceSink;

    private final RwSemaphore sem;
    private final LockingMode mode;
    /**
     * mm_lock_seq: written only by the write-lock holder: opaque store + store-store fence at seqcount
     * begin (smp_wmb after), release store at vma_end_write_all on unlock/downgrade (smp_wmb
     * before); read with acquire by others.
     */
    private volatile int mmLockSeq;
    /**
     * Whether {@link #upgradeTrylock} may succeed: false (the default) is the kernel, whose
     * mmap_upgrade_trylock always fails; true is the simulator's atomic upgrade. Set before the mm
     * is shared (volatile, so a later change is seen by the next fault).
     */
    private volatile boolean upgradeEnabled;
    /** Mask applied to mm_lock_seq (all ones = the kernel's 32-bit unsigned wrap). */
    private volatile int seqMask = -1;
    /**
     * vma_writer_wait (rcuwait): the single thread sleeping in vma_start_write / vma_mark_detached.
     * One slot is enough: every such sleeper holds the mmap write lock.
     */
    volatile Thread vmaWriterWait;
    /** mm_count: references to the mm_struct itself (mmgrab / mmdrop); starts at 1. */
    private final AtomicInteger mmCount = new AtomicInteger(1);

    private final LongAdder acquisitions = new LongAdder();

    public MmapLock(final LockingMode mode) {
        this.mode = mode;
        // mm_struct's second line as 6.2 lays it out (see mmLine): count and owner on one line.
        this.sem = new RwSemaphore(LockClass.MMAP_LOCK, this, mmLine, mmLine);
    }

    /**
     * The second cache line of struct mm_struct (bytes 64-127) as 6.2 (Table A's base kernel) lays
     * it out on x86-64 with COMPAT and MEMBARRIER: mm_mt (24 bytes: ma_lock, ma_root, ma_flags),
     * get_unmapped_area, mmap_base, mmap_legacy_base, mmap_compat_base, mmap_compat_legacy_base,
     * task_size @64, pgd @72, membarrier_state @80, mm_users @84, mm_count @88, pgtables_bytes @96,
     * map_count @104, page_table_lock @108, mmap_lock @112: count @112 and owner @120 on this one
     * line, with pgd, which every fault reads (pgd_offset). 5.13 had the rwsem at 120, count and
     * owner on two lines ([FT]); 6.1's maple tree took the place of mmap, mm_rb and vmacache_seqnum
     * (the same 24 bytes) and dropped highest_vm_end (8), and 5.16 dropped has_pinned (4), which
     * moved the rwsem back by 8 bytes, so count and owner share a line, as the comment above
     * mmap_lock warns ("can easily push the 2 fields into one cacheline"). Derived from the field
     * order and sizes, not measured with pahole. Departure: 6.5 moved mm_count to a line of its
     * own and later kernels added mm_cid fields before mmap_lock; the simulator keeps 6.2's layout
     * for every machine.
     */
    private final CacheLine mmLine = new CacheLine("mm+64 (pgd, mmap_lock)");

    /** The line holding mm->pgd, which the fault path reads (pgd_offset): mmap_lock's line in 6.2. */
    public CacheLine pgdLine() {
        return mmLine;
    }

    public LockingMode mode() {
        return mode;
    }

    public RwSemaphore rwsem() {
        return sem;
    }

    /** Installs (or with null removes) the receiver of the mmap_lock tracepoints, globally. */
    public static void setTraceSink(final MmapLockTraceSink sink) {
        traceSink = sink;
    }

    // ---------------------------------------------------------------- mm_lock_seq

    /** mm_lock_seq with acquire ordering; pairs with the release in {@link #writeUnlock}. */
    public int lockSeqAcquire() {
        return (int) MM_LOCK_SEQ.getAcquire(this);
    }

    /** mm_lock_seq, READ_ONCE (opaque): only for lockless checks whose result is not relied on. */
    public int lockSeqOpaque() {
        return (int) MM_LOCK_SEQ.getOpaque(this);
    }

    /** mm_lock_seq, plain read (caller holds the mmap lock). */
    public int lockSeq() {
        return (int) MM_LOCK_SEQ.get(this);
    }

    /**
     * Narrows mm_lock_seq to {@code bits} bits (tests of wrap-around). Only while unlocked and the
     * seq is even; vm_lock_seq's initial UINT_MAX then never matches unless bits == 32.
     */
    public void setSeqBits(final int bits) {
        if (bits < 2 || bits > 32 || sem.isLocked()) {
            throw new IllegalArgumentException("seq bits " + bits);
        }
        seqMask = bits == 32 ? -1 : (1 << bits) - 1;
        MM_LOCK_SEQ.setRelease(this, lockSeq() & seqMask);
    }

    /**
     * mm_lock_seqcount_begin → do_raw_write_seqcount_begin: {@code seq++}, then {@code smp_wmb()}.
     * The fence orders the odd seq before every store of the write section (vm_lock_seq, VMA
     * fields, tree and page-table updates); a release store would order only what came before it,
     * and let those stores pass the seq. Pairs with the smp_rmb (acquire fence) in
     * {@link #speculateRetry} and the acquire loads of {@link #lockSeqAcquire} (vma_start_read,
     * {@link #speculateTryBegin}): a reader that saw any store of the section sees the odd seq.
     */
    private void seqBegin() {
        MM_LOCK_SEQ.setOpaque(this, (lockSeq() + 1) & seqMask);
        VarHandle.storeStoreFence(); // smp_wmb
    }

    /**
     * vma_end_write_all: ends every VMA write lock of this mm at once by making the seq even
     * (mm_lock_seqcount_end, release). Pairs with the acquire reads in vma_start_read.
     */
    private void vmaEndWriteAll() {
        MM_LOCK_SEQ.setRelease(this, (lockSeq() + 1) & seqMask);
    }

    // ---------------------------------------------------------------- wrappers

    /** mmap_read_lock. */
    public void readLock() {
        traceStart(false);
        sem.downRead();
        acquisitions.increment();
        traceReturned(false, true);
    }

    /** mmap_read_lock_killable: true if locked, false on a fatal signal (-EINTR). */
    public boolean readLockKillable() {
        traceStart(false);
        final boolean ok = sem.downReadKillable() == 0;
        if (ok) {
            acquisitions.increment();
        }
        traceReturned(false, ok);
        return ok;
    }

    /** mmap_read_trylock. */
    public boolean readTrylock() {
        traceStart(false);
        final boolean ok = sem.downReadTrylock();
        if (ok) {
            acquisitions.increment();
        }
        traceReturned(false, ok);
        return ok;
    }

    /** mmap_read_unlock. */
    public void readUnlock() {
        traceReleased(false);
        sem.upRead();
    }

    /** mmap_write_lock. */
    public void writeLock() {
        writeLockNested(0);
    }

    /**
     * mmap_write_lock_nested: a second mm's mmap_lock taken on purpose under another's, with a
     * lockdep subclass (dup_mmap passes SINGLE_DEPTH_NESTING for the child).
     */
    public void writeLockNested(final int subclass) {
        traceStart(true);
        sem.downWriteNested(subclass);
        seqBegin();
        acquisitions.increment();
        traceReturned(true, true);
    }

    /** mmap_write_lock_killable: 0 or -EINTR (nothing held, seq unchanged). */
    public int writeLockKillable() {
        traceStart(true);
        final int r = sem.downWriteKillable();
        if (r == 0) {
            seqBegin();
            acquisitions.increment();
        }
        traceReturned(true, r == 0);
        return r;
    }

    /** mmap_write_unlock: every VMA write lock ends with it. */
    public void writeUnlock() {
        traceReleased(true);
        vmaEndWriteAll();
        sem.upWrite();
    }

    /** mmap_write_downgrade: every VMA write lock ends; the mmap lock stays held for read. */
    public void writeDowngrade() {
        traceReturned(false, true);
        vmaEndWriteAll();
        sem.downgradeWrite();
    }

    /**
     * Turns the simulator's atomic mmap_lock upgrade on or off for this mm (off: the kernel, see
     * {@link #upgradeTrylock}).
     */
    public void setUpgradeEnabled(final boolean on) {
        upgradeEnabled = on;
    }

    /** Is the simulator's atomic upgrade on for this mm? */
    public boolean upgradeEnabled() {
        return upgradeEnabled;
    }

    /**
     * mmap_upgrade_trylock. In the kernel (mm/mmap_lock.c) it is a stub that always returns false,
     * and so does this unless {@link #setUpgradeEnabled} turned the simulator's upgrade on: then it
     * CASes the sole read hold into the write lock ({@link RwSemaphore#upgradeTrylock}) and performs
     * the write-lock side effects (owner = current, seqcount begin). The kernel has no tracepoint for
     * an upgrade; this one emits the mmap_lock events with {@code upgrade=true}: start_locking(W),
     * then on success released(R) (the read hold ends) and acquire_returned(W, true), else
     * acquire_returned(W, false).
     */
    public boolean upgradeTrylock() {
        if (!upgradeEnabled) {
            return false;
        }
        final MmapLockTraceSink s = traceSink;
        if (s != null) {
            s.upgradeStartLocking(this);
        }
        final boolean ok = sem.upgradeTrylock();
        if (ok) {
            if (s != null) {
                s.upgradeReleasedRead(this);
            }
            seqBegin();
            acquisitions.increment();
        }
        if (s != null) {
            s.upgradeAcquireReturned(this, ok);
        }
        return ok;
    }

    // ---------------------------------------------------------------- speculation

    /** mmap_lock_speculate_try_begin's failure value. */
    public static final long SPECULATE_FAILED = -1L;

    /**
     * mmap_lock_speculate_try_begin: snapshot of mm_lock_seq (acquire) as an unsigned value, or
     * {@link #SPECULATE_FAILED} if a writer holds the lock (odd seq) or per-VMA locks are off.
     */
    public long speculateTryBegin() {
        if (mode == LockingMode.MMAP_ONLY) {
            return SPECULATE_FAILED;
        }
        final int seq = lockSeqAcquire();
        return (seq & 1) != 0 ? SPECULATE_FAILED : Integer.toUnsignedLong(seq);
    }

    /**
     * mmap_lock_speculate_retry: true if a writer took or released the lock since {@code seq}
     * (read_seqcount_retry: a load fence, then compare). Always true without per-VMA locks.
     */
    public boolean speculateRetry(final long seq) {
        if (mode == LockingMode.MMAP_ONLY || seq == SPECULATE_FAILED) {
            return true;
        }
        VarHandle.acquireFence(); // smp_rmb: order the speculative reads before the re-check
        return Integer.toUnsignedLong((int) MM_LOCK_SEQ.getOpaque(this)) != seq;
    }

    // ---------------------------------------------------------------- mm_count

    /** mmgrab: pin the mm_struct. Fails (AssertionError) on a freed mm: a use-after-free. */
    public void mmgrab() {
        final int old = mmCount.getAndIncrement();
        if (old <= 0) {
            throw new AssertionError("mmgrab on a freed mm (use-after-free)");
        }
    }

    /** mmdrop: unpin; the last drop frees (poisons) the mm. */
    public void mmdrop() {
        final int now = mmCount.decrementAndGet();
        if (now < 0) {
            throw new AssertionError("mmdrop underflow");
        }
    }

    /** mm_count. */
    public int mmCount() {
        return mmCount.get();
    }

    /** Has the mm_struct been freed (mm_count reached 0)? */
    public boolean isFreed() {
        return mmCount.get() <= 0;
    }

    // ---------------------------------------------------------------- queries

    public boolean isWriteLocked() {
        return sem.isWriteLocked();
    }

    /** Successful acquisitions (read, write, trylock) of this mmap lock. */
    public long acquisitions() {
        return acquisitions.sum();
    }

    /** Acquisitions that did not succeed on the rwsem fast path (spun or slept). */
    public long contendedAcquisitions() {
        return sem.contendedCount();
    }

    /** Nanoseconds spent waiting in the rwsem slow paths. */
    public long waitNanos() {
        return sem.waitNanos();
    }

    /** mmap_assert_locked: held in any mode (with lockdep on: by the current thread). */
    public void assertLocked() {
        if (!sem.isLocked() || (Lockdep.active() && !Lockdep.isHeld(LockClass.MMAP_LOCK, sem, null))) {
            throw new AssertionError("mmap_assert_locked: mmap_lock not held");
        }
    }

    /** mmap_assert_write_locked: held for write (with lockdep on: by the current thread). */
    public void assertWriteLocked() {
        if (!sem.isWriteLocked() || (Lockdep.active() && !Lockdep.isHeld(LockClass.MMAP_LOCK, sem, false))) {
            throw new AssertionError("mmap_assert_write_locked: mmap_lock not write-held");
        }
    }

    /** Does the current thread hold this lock (lockdep on), or anybody (lockdep off)? */
    public boolean isHeldByCurrentOrAnyone() {
        return Lockdep.active() ? Lockdep.isHeld(LockClass.MMAP_LOCK, sem, null) : sem.isLocked();
    }

    private void traceStart(final boolean write) {
        final MmapLockTraceSink s = traceSink;
        if (s != null) {
            s.startLocking(this, write);
        }
        JfrSites.mmapLockStartLocking();
    }

    private void traceReturned(final boolean write, final boolean ok) {
        final MmapLockTraceSink s = traceSink;
        if (s != null) {
            s.acquireReturned(this, write, ok);
        }
        JfrSites.mmapLockAcquireReturned(write, ok);
    }

    private void traceReleased(final boolean write) {
        final MmapLockTraceSink s = traceSink;
        if (s != null) {
            s.released(this, write);
        }
        JfrSites.mmapLockReleased(write);
    }
}
