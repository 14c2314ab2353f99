package dev.vmsim.core.lock;

import static dev.vmsim.core.lock.VmaFixture.attached;
import static dev.vmsim.core.lock.VmaFixture.tryRead;
import static dev.vmsim.core.lock.VmaLock.VM_REFCNT_EXCLUDE_READERS_FLAG;
import static dev.vmsim.core.lock.VmaLock.VM_REFCNT_LIMIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.lock.Schedule.Actor;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.Lockdep;
import dev.vmsim.core.sync.Rcu;
import dev.vmsim.core.testing.LeakCheck;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-VMA lock protocol (kernel-semantics.md §4) under a controlled schedule: LOCK-01..10,
 * SIG-02/03, BUG-03..06, and every row of the §4.2 vm_refcnt table.
 */
class VmaLockTest {
    private static final int FLAG = VM_REFCNT_EXCLUDE_READERS_FLAG;
    private final MmStruct mm = VmaFixture.mm();
    private final Vma v = attached(mm, 0x1000, 0x5000);

    @AfterEach
    void tearDown() {
        LockHooks.install(null);
        VmaLock.skipRevalidation = false;
        Lockdep.resetCurrentThread();
        Thread.interrupted();
    }

    /** §4.2 rows 0 and 1, LOCK-05: a detached VMA gives EAGAIN and RCU is dropped. */
    @Test
    void detachedVmaGivesEagainAndDropsRcu() {
        final Vma d = new Vma();
        d.vmMm = mm;
        VmaLock.lockInit(d, true);
        assertEquals(0, d.refcnt());
        Rcu.readLock();
        assertSame(VmaLock.EAGAIN, VmaLock.startRead(mm, d));
        assertFalse(Rcu.readLockHeld(), "vma_start_read drops RCU on failure");
        assertEquals(0, d.refcnt());
    }

    /** §4.2 rows 1 and 2..LIMIT: a reader takes one reference and keeps RCU. */
    @Test
    void readLockIsOneReference() {
        assertEquals(1, v.refcnt());
        Rcu.readLock();
        assertSame(v, VmaLock.startRead(mm, v));
        assertTrue(Rcu.readLockHeld(), "RCU still held on success");
        Rcu.readUnlock();
        assertEquals(2, v.refcnt());
        VmaLock.assertLocked(v);
        VmaLock.endRead(v);
        assertEquals(1, v.refcnt());
    }

    /** LOCK-01, and §4.2 rows FLAG+1 and > FLAG+1. */
    @Test
    void writerWaitsForReaderAndNewReadersFailUntilUnlock() {
        try (Schedule s = new Schedule()) {
            final CountDownLatch readDone = new CountDownLatch(1);
            final Actor r = new Actor("R", () -> {
                assertSame(v, tryRead(mm, v));
                Schedule.await(readDone);
                VmaLock.endRead(v);
                return null;
            });
            final CountDownLatch writeLocked = new CountDownLatch(1);
            final CountDownLatch unlock = new CountDownLatch(1);
            final Actor w = new Actor("W", () -> {
                mm.mmapLock().writeLock();
                VmaLock.startWrite(v);
                writeLocked.countDown();
                Schedule.await(unlock);
                mm.mmapLock().writeUnlock();
                return null;
            });
            final Schedule.Gate rPut = s.stopAt(r, "vma_refcount_put:after_dec");
            r.start();
            Schedule.until("reader holds", () -> v.refcnt() == 2);
            w.start();
            Schedule.untilParked(w);
            assertEquals(FLAG + 2, v.refcnt(), "> FLAG+1: writer waits for one reader");
            assertNull(tryRead(mm, v), "a new reader's increment is refused while FLAG is set");
            assertEquals(FLAG + 2, v.refcnt());
            readDone.countDown();
            rPut.awaitArrived();
            assertEquals(FLAG + 1, v.refcnt(), "FLAG+1: readers excluded");
            assertTrue(VmaLock.areReadersExcluded(v.refcnt()));
            rPut.release();
            Schedule.await(writeLocked);
            assertEquals(1, v.refcnt(), "exclusion ended");
            assertEquals(mm.mmapLock().lockSeq(), v.lockSeq());
            assertNull(tryRead(mm, v), "seq == mm seq: write-locked");
            assertEquals(1, v.refcnt());
            unlock.countDown();
            w.joinResult();
            r.joinResult();
            assertSame(v, tryRead(mm, v), "after mmap_write_unlock readers succeed");
            VmaLock.endRead(v);
            assertEquals(1, v.refcnt());
        }
    }

    /** LOCK-02: a second vma_start_write in one write section is a no-op and does not wait. */
    @Test
    void secondStartWriteIsANoOp() {
        mm.mmapLock().writeLock();
        VmaLock.startWrite(v);
        v.refcntAddAndGet(1); // a transient reader: a real second exclusion would wait for it forever
        VmaLock.startWrite(v);
        assertEquals(2, v.refcnt());
        assertEquals(0, VmaLock.startWriteKillable(v));
        v.refcntAddAndGet(-1);
        VmaLock.assertWriteLocked(v);
        mm.mmapLock().writeUnlock();
    }

    /** LOCK-03: downgrade releases every VMA write lock; the downgraded lock admits readers only. */
    @Test
    void downgradeReleasesEveryVmaWriteLock() {
        final Vma v2 = attached(mm, 0x6000, 0x7000);
        final MmapLock ml = mm.mmapLock();
        ml.writeLock();
        VmaLock.startWrite(v);
        VmaLock.startWrite(v2);
        assertTrue(VmaLock.isWriteLocked(v) && VmaLock.isWriteLocked(v2));
        final int seq = ml.lockSeq();
        ml.writeDowngrade();
        assertEquals(seq + 1, ml.lockSeq());
        assertEquals(0, ml.lockSeq() & 1);
        assertFalse(ml.isWriteLocked());
        assertSame(v, tryRead(mm, v));
        assertSame(v2, tryRead(mm, v2));
        VmaLock.endRead(v);
        VmaLock.endRead(v2);
        assertFalse(ml.rwsem().downWriteTrylock(), "excludes writers");
        assertTrue(ml.readTrylock(), "admits readers");
        ml.readUnlock();
        ml.readUnlock();
        assertEquals(0, ml.rwsem().count());
    }

    /** LOCK-04: mmap_lock under a VMA read lock of the same mm is flagged at once; trylock is allowed. */
    @Test
    void mmapLockUnderVmaReadLockIsFlagged() {
        assertTrue(Lockdep.ENABLED, "surefire runs with -Dvmsim.lockdep=true");
        assertSame(v, tryRead(mm, v));
        final Lockdep.LockdepSplat splat =
                assertThrows(Lockdep.LockdepSplat.class, () -> mm.mmapLock().readLock());
        assertTrue(splat.getMessage().contains("mmap_lock taken while holding a VMA read lock"), splat.getMessage());
        assertTrue(splat.getMessage().contains("VmaLockTest"), "names the acquisition sites: " + splat.getMessage());
        assertEquals(0, mm.mmapLock().rwsem().count(), "the lock was not taken");
        assertTrue(mm.mmapLock().readTrylock(), "__vmf_anon_prepare's trylock is allowed");
        mm.mmapLock().readUnlock();
        VmaLock.endRead(v);
        mm.mmapLock().readLock(); // fine once the VMA lock is dropped
        mm.mmapLock().readUnlock();
    }

    /** Lockdep recursion: vma_start_write on a VMA this thread holds for read would wait for itself. */
    @Test
    void vmaStartWriteOnOwnReadLockIsRecursion() {
        final MmapLock ml = mm.mmapLock();
        ml.writeLock();
        assertTrue(VmaLock.startReadLocked(v), "vma_start_read_locked under the mmap lock");
        final Lockdep.LockdepSplat s = assertThrows(Lockdep.LockdepSplat.class, () -> VmaLock.startWrite(v));
        assertTrue(s.getMessage().contains("possible recursive locking detected"), s.getMessage());
        assertTrue(s.getMessage().contains("which it already holds"), s.getMessage());
        assertTrue(s.getMessage().contains("VmaLockTest"), "the requesting stack: " + s.getMessage());
        // Reported before the flag went in: vm_refcnt shows our one reader, no writer.
        assertEquals(2, v.refcnt());
        VmaLock.endRead(v);
        VmaLock.startWrite(v);
        assertTrue(VmaLock.isWriteLocked(v));
        ml.writeUnlock();
    }

    /** Lockdep recursion: the mmap_lock taken under itself (read, then write) is reported, not hung on. */
    @Test
    void mmapLockUnderItselfIsRecursion() {
        final MmapLock ml = mm.mmapLock();
        ml.readLock();
        final Lockdep.LockdepSplat s = assertThrows(Lockdep.LockdepSplat.class, ml::writeLock);
        assertTrue(s.getMessage().contains("possible recursive locking detected"), s.getMessage());
        assertTrue(s.getMessage().contains("mmap_lock"), s.getMessage());
        assertEquals(
                dev.vmsim.core.sync.RwSemaphore.RWSEM_READER_BIAS, ml.rwsem().count(), "nothing taken");
        ml.readUnlock();
    }

    /** ISO-04: each mm has its own mm_lock_seq: ending mm A's write section unlocks A's VMAs only. */
    @Test
    void writeUnlockOfOneMmLeavesAnotherMmsVmasLocked() {
        final MmStruct other = VmaFixture.mm();
        final Vma ov = attached(other, 0x1000, 0x2000);
        final CountDownLatch locked = new CountDownLatch(1);
        final CountDownLatch done = new CountDownLatch(1);
        final Actor wb = new Actor("W-B", () -> {
            other.mmapLock().writeLock();
            VmaLock.startWrite(ov);
            locked.countDown();
            Schedule.await(done);
            other.mmapLock().writeUnlock();
            return null;
        });
        wb.start();
        Schedule.await(locked);
        mm.mmapLock().writeLock();
        VmaLock.startWrite(v);
        mm.mmapLock().writeUnlock();
        assertSame(v, tryRead(mm, v), "A's VMA is unlocked with A's write section");
        VmaLock.endRead(v);
        assertNull(tryRead(other, ov), "B's VMA stays write-locked: A's seq is not B's");
        done.countDown();
        wb.joinResult();
        assertSame(ov, tryRead(other, ov));
        VmaLock.endRead(ov);
    }

    /** LOCK-07 / BUG-03 with the fix: the other mm is pinned across the put and freed only after it. */
    @Test
    void recycledVmaPinsTheOtherMm() {
        final Replay r = replayBug03();
        assertNull(r.reader.joinResult());
        assertTrue(r.other.mmapLock().isFreed(), "the reader dropped the last reference");
    }

    /** BUG-03 reintroduced: without mmgrab the reader wakes a freed mm. */
    @Test
    void bug03SwitchShowsTheUseAfterFree() {
        try (var bug = BugSwitches.reintroduce(Bug.BUG_03)) {
            final Replay r = replayBug03();
            final AssertionError e = assertThrows(AssertionError.class, r.reader::joinResult);
            assertTrue(e.getMessage().contains("use-after-free"), e.getMessage());
        }
    }

    private record Replay(Actor reader, MmStruct other) {}

    private Replay replayBug03() {
        final MmStruct b = VmaFixture.mm();
        final VmaCache cache = new VmaCache();
        // T2: munmap v from mm A and free it; T3: mmap in mm B reuses the same object.
        final MmapLock a = mm.mmapLock();
        a.writeLock();
        VmaLock.startWrite(v);
        VmaLock.markDetached(v);
        a.writeUnlock();
        cache.free(v);
        final Vma reused = cache.alloc(b, 0x9000, 0xa000);
        assertSame(v, reused, "type-safe-by-RCU: the object is reused at once");
        b.mmapLock().writeLock();
        VmaLock.startWrite(reused);
        VmaLock.markAttached(reused);
        b.mmapLock().writeUnlock();
        try (Schedule s = new Schedule()) {
            // T1 (mm A) still holds the pointer from its RCU walk.
            final Actor t1 = new Actor("T1", () -> tryRead(mm, v));
            final Schedule.Gate inc = s.stopAt(t1, "vma_start_read:after_inc");
            final Schedule.Gate put = s.stopAt(t1, "vma_refcount_put:after_dec");
            final Actor t3 = new Actor("T3", () -> {
                b.mmapLock().writeLock();
                VmaLock.startWrite(reused);
                VmaLock.markDetached(reused);
                b.mmapLock().writeUnlock();
                b.mmapLock().mmdrop(); // exit: mm B's last own reference
                return null;
            });
            final Schedule.Gate excl = s.stopAt(t3, "__vma_start_exclude_readers:before_wait");
            t1.start();
            inc.awaitArrived();
            assertEquals(2, v.refcnt());
            t3.start();
            excl.awaitArrived();
            assertEquals(FLAG + 2, v.refcnt());
            inc.release();
            put.awaitArrived();
            assertEquals(FLAG + 1, v.refcnt());
            excl.release(); // its wait condition already holds: no sleep, finishes, mm B exits
            t3.joinResult();
            assertEquals(0, v.refcnt());
            put.release();
            t1.join(20_000);
            return new Replay(t1, b);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** LOCK-08 / BUG-04, and §4.2 row FLAG: detach waits for a spurious reader; returns at refcnt 0. */
    @Test
    void detachWaitsForASpuriousReader() {
        try (Schedule s = new Schedule()) {
            final CountDownLatch wLocked = new CountDownLatch(1);
            final CountDownLatch goWrite = new CountDownLatch(1);
            final CountDownLatch detached = new CountDownLatch(1);
            final CountDownLatch goDetach = new CountDownLatch(1);
            final Actor w = new Actor("W", () -> {
                mm.mmapLock().writeLock();
                wLocked.countDown();
                Schedule.await(goWrite);
                VmaLock.startWrite(v);
                Schedule.await(goDetach);
                VmaLock.markDetached(v);
                detached.countDown();
                mm.mmapLock().writeUnlock();
                return null;
            });
            final Actor r = new Actor("R", () -> tryRead(mm, v));
            final Schedule.Gate early = s.stopAt(r, "vma_start_read:after_early_check");
            final Schedule.Gate inc = s.stopAt(r, "vma_start_read:after_inc");
            final Schedule.Gate put = s.stopAt(r, "vma_refcount_put:after_dec");
            final Schedule.Gate dec = s.stopAt(w, "vma_mark_detached:after_dec");
            w.start();
            Schedule.await(wLocked);
            r.start();
            early.awaitArrived(); // the early seq check passed before the write lock
            goWrite.countDown();
            Schedule.until("V write-locked", () -> {
                if (w.failure != null) {
                    throw new AssertionError("W failed", w.failure);
                }
                return v.lockSeq() == mm.mmapLock().lockSeqAcquire();
            });
            early.release();
            inc.awaitArrived();
            assertEquals(2, v.refcnt(), "spurious reader");
            goDetach.countDown();
            dec.awaitArrived();
            assertEquals(1, v.refcnt(), "decremented, but a reader is still counted");
            dec.release();
            Schedule.untilParked(w);
            assertEquals(FLAG + 1, v.refcnt(), "the detacher waits for the straggler");
            inc.release(); // R sees seq == mm seq and backs out
            put.awaitArrived();
            assertEquals(FLAG, v.refcnt());
            assertEquals(1, detached.getCount(), "vma_mark_detached has not returned yet");
            put.release();
            r.joinResult();
            w.joinResult();
            assertEquals(0, v.refcnt(), "vma_mark_detached returns only at 0");
            assertNull(r.result);
        }
    }

    /**
     * BUG-04 reintroduced: vma_mark_detached returns while the spurious reader still counts, the
     * mmap lock is dropped, and the reader's re-check then passes: it holds a read lock on a
     * detached VMA (which the kernel may already have freed and reused).
     */
    @Test
    void bug04SwitchLeavesAReaderInADetachedVma() {
        try (var bug = BugSwitches.reintroduce(Bug.BUG_04);
                Schedule s = new Schedule()) {
            final CountDownLatch goWrite = new CountDownLatch(1);
            final CountDownLatch vLocked = new CountDownLatch(1);
            final CountDownLatch goDetach = new CountDownLatch(1);
            final CountDownLatch detached = new CountDownLatch(1);
            final int[] refcntAtReturn = new int[1];
            final Actor w = new Actor("W", () -> {
                mm.mmapLock().writeLock();
                Schedule.await(goWrite);
                VmaLock.startWrite(v);
                vLocked.countDown();
                Schedule.await(goDetach);
                VmaLock.markDetached(v);
                refcntAtReturn[0] = v.refcnt();
                mm.mmapLock().writeUnlock();
                detached.countDown();
                return null;
            });
            final Actor r = new Actor("R", () -> {
                final Vma got = tryRead(mm, v);
                if (got == null) {
                    return "backed out";
                }
                final String held = "read-locked " + (v.refcnt() == 1 ? "a detached VMA" : "refcnt " + v.refcnt());
                VmaLock.endRead(got);
                return held;
            });
            final Schedule.Gate early = s.stopAt(r, "vma_start_read:after_early_check");
            final Schedule.Gate inc = s.stopAt(r, "vma_start_read:after_inc");
            w.start();
            r.start();
            early.awaitArrived(); // the early check passed before the write lock
            goWrite.countDown();
            Schedule.await(vLocked);
            early.release();
            inc.awaitArrived(); // R counted: the spurious reader
            goDetach.countDown();
            Schedule.await(detached);
            w.joinResult();
            assertEquals(1, refcntAtReturn[0], "vma_mark_detached returned with the reader still counted");
            inc.release();
            assertEquals(
                    "read-locked a detached VMA", r.joinResult(), "the re-check passes once the mmap lock is gone");
            assertEquals(0, v.refcnt());
        }
    }

    /**
     * BUG-05: a reader whose early check passed before a writer locked V takes its reference after;
     * the re-check under vm_refcnt makes it back out (fix), or without it lets it in beside the
     * writer: a false "unlocked" result.
     */
    @Test
    void bug05SwitchGivesAFalseUnlockedResult() {
        assertNull(replayReaderAfterWriteLock(), "fix: the reader backs out");
        try (var bug = BugSwitches.reintroduce(Bug.BUG_05)) {
            assertSame(v, replayReaderAfterWriteLock(), "bug: read-locked while write-locked");
        }
    }

    /** R passes the early check, W write-locks V, R takes its reference; returns what R got (with W's lock still held). */
    private Vma replayReaderAfterWriteLock() {
        try (Schedule s = new Schedule()) {
            final MmapLock ml = mm.mmapLock();
            final boolean[] beside = new boolean[1];
            final Actor r = new Actor("R", () -> {
                final Vma got = tryRead(mm, v);
                if (got != null) {
                    beside[0] = VmaLock.isWriteLocked(v) && v.refcnt() == 2;
                    VmaLock.endRead(got);
                }
                return got;
            });
            final Schedule.Gate early = s.stopAt(r, "vma_start_read:after_early_check");
            r.start();
            early.awaitArrived();
            ml.writeLock();
            VmaLock.startWrite(v); // no reader counted yet: no wait
            early.release();
            final Vma got = (Vma) r.joinResult();
            ml.writeUnlock();
            assertEquals(got != null, beside[0], "a reader that got V held it while W held V");
            return got;
        }
    }

    /** §4.2 row FLAG seen directly: the detacher has finished waiting and subtracts FLAG next. */
    @Test
    void detacherSeesFlagThenZero() {
        try (Schedule s = new Schedule()) {
            final Actor w = new Actor("W", () -> {
                mm.mmapLock().writeLock();
                VmaLock.startWrite(v);
                v.refcntAddAndGet(1); // a transient reader that has not backed out yet
                VmaLock.markDetached(v);
                mm.mmapLock().writeUnlock();
                return null;
            });
            final Schedule.Gate dec = s.stopAt(w, "vma_mark_detached:after_dec");
            w.start();
            dec.awaitArrived();
            final Schedule.Gate wait = s.stopAt(w, "__vma_start_exclude_readers:before_wait");
            dec.release();
            wait.awaitArrived();
            assertEquals(FLAG + 1, v.refcnt(), "detacher waiting on one straggler");
            final int seen = v.refcntAddAndGet(-1); // the straggler leaves (vma_refcount_put)
            assertEquals(FLAG, seen, "row FLAG");
            wait.release();
            w.joinResult();
            assertEquals(0, v.refcnt());
        }
    }

    /** LOCK-09: at VM_REFCNT_LIMIT the increment fails (NULL, no wrap), and so does the locked form. */
    @Test
    void readerLimit() {
        v.refcntSetRelease(VM_REFCNT_LIMIT - 1);
        assertSame(v, tryRead(mm, v));
        assertEquals(VM_REFCNT_LIMIT, v.refcnt());
        assertNull(tryRead(mm, v), "at the limit: NULL, not EAGAIN");
        assertEquals(VM_REFCNT_LIMIT, v.refcnt());
        VmaLock.endRead(v);
        v.refcntSetRelease(VM_REFCNT_LIMIT); // LIMIT - 1 readers held elsewhere
        mm.mmapLock().readLock();
        assertFalse(VmaLock.startReadLocked(v), "vma_start_read_locked fails at the limit");
        v.refcntSetRelease(VM_REFCNT_LIMIT - 1);
        assertTrue(VmaLock.startReadLocked(v));
        assertEquals(VM_REFCNT_LIMIT, v.refcnt());
        VmaLock.endRead(v);
        mm.mmapLock().readUnlock();
        v.refcntSetRelease(1);
    }

    /** LOCK-10 / BUG-05(a): with a 4-bit seq, wrap gives false "locked", never false "unlocked". */
    @Test
    void seqWrapGivesFalseLockedNeverFalseUnlocked() {
        final MmapLock ml = mm.mmapLock();
        ml.setSeqBits(4);
        ml.writeLock();
        VmaLock.startWrite(v);
        final int s = v.lockSeq();
        ml.writeUnlock();
        int falseLocked = 0;
        for (int cycle = 1; cycle <= 40; cycle++) {
            ml.writeLock();
            final boolean lockV = cycle == 3 || cycle == 30;
            if (lockV) {
                VmaLock.startWrite(v);
            }
            final Vma got = tryRead(mm, v);
            if (lockV) {
                assertNull(got, "a reader never succeeds while the writer holds the VMA");
            } else if (got == null) {
                assertEquals(ml.lockSeq(), v.lockSeq(), "only a wrapped seq may look locked");
                falseLocked++;
            } else {
                VmaLock.endRead(v);
            }
            ml.writeUnlock();
            assertSame(v, tryRead(mm, v), "after unlock");
            VmaLock.endRead(v);
        }
        assertTrue(falseLocked > 0, "the 4-bit seq wrapped onto vm_lock_seq (" + s + ")");
    }

    /** BUG-05(b): a VMA reused before re-initialisation with a stale seq equal to the new mm's: false locked. */
    @Test
    @LeakCheck.Skip("actor W ends holding b's mmap write lock, which exit_mmap needs")
    void reusedVmaWithStaleSeqLooksLocked() {
        final MmStruct b = VmaFixture.mm();
        final Actor w = new Actor("W", () -> {
            b.mmapLock().writeLock();
            return b.mmapLock().lockSeq();
        });
        w.start();
        final int bSeq = (Integer) w.joinResult();
        final Vma stale = new Vma();
        stale.vmMm = b;
        stale.refcntSetRelease(1);
        stale.setLockSeq(bSeq); // last write-locked in mm A at the same seq value
        assertNull(tryRead(b, stale), "false locked: fallback");
        VmaLock.lockInit(stale, false); // what vm_area_alloc does: UINT_MAX never matches
        assertEquals(-1, stale.lockSeq());
        assertEquals(1, stale.refcnt());
    }

    /** SIG-02 / BUG-06 fixed: an interrupted killable writer restores vm_refcnt and leaves the seq. */
    @Test
    void killableWriterInterruptedRestoresRefcnt() {
        final Sig02 o = replaySig02();
        o.check();
    }

    /** BUG-06 reintroduced: the flag stays and every later reader fails. */
    @Test
    void bug06SwitchLeavesTheFlag() {
        try (var bug = BugSwitches.reintroduce(Bug.BUG_06)) {
            final Sig02 o = replaySig02();
            assertThrows(AssertionError.class, o::check);
            assertEquals(FLAG + 1, v.refcnt());
            assertNull(tryRead(mm, v), "readers fail forever");
            v.refcntSetRelease(1);
        }
    }

    private record Sig02(
            int ret,
            int refcntBefore,
            int refcntAfter,
            int seqBefore,
            int seqAfter,
            boolean otherLocked,
            boolean mmapHeld) {
        void check() {
            assertEquals(-VmaLock.EINTR, ret);
            assertEquals(refcntBefore, refcntAfter, "vm_refcnt back to its value before the call");
            assertEquals(seqBefore, seqAfter, "vm_lock_seq not updated");
            assertTrue(otherLocked, "VMAs write-locked earlier stay locked");
            assertTrue(mmapHeld, "the mmap write lock is still held");
        }
    }

    private Sig02 replaySig02() {
        final Vma earlier = attached(mm, 0x8000, 0x9000);
        assertSame(v, tryRead(mm, v));
        final int before = v.refcnt();
        final int seqBefore = v.lockSeq();
        final Actor w = new Actor("W", () -> {
            final MmapLock ml = mm.mmapLock();
            ml.writeLock();
            VmaLock.startWrite(earlier);
            final int ret = VmaLock.startWriteKillable(v);
            final boolean interrupted = Thread.interrupted();
            final Object[] o = {
                ret, v.refcnt(), v.lockSeq(), VmaLock.isWriteLocked(earlier), ml.isWriteLocked(), interrupted
            };
            ml.writeUnlock();
            return o;
        });
        w.start();
        Schedule.untilParked(w);
        assertEquals(FLAG + 2, v.refcnt());
        w.interrupt();
        final Object[] o = (Object[]) w.joinResult();
        assertTrue((Boolean) o[5], "the interrupt flag stays set");
        VmaLock.endRead(v);
        return new Sig02(
                (Integer) o[0], before, (Integer) o[1], seqBefore, (Integer) o[2], (Boolean) o[3], (Boolean) o[4]);
    }

    /** SIG-03: on a detached VMA the killable form returns 0 at once and still writes vm_lock_seq. */
    @Test
    void killableWriteOnDetachedVmaReturnsZero() {
        final Vma d = new Vma();
        d.vmMm = mm;
        VmaLock.lockInit(d, true);
        mm.mmapLock().writeLock();
        Thread.currentThread().interrupt();
        assertEquals(0, VmaLock.startWriteKillable(d));
        assertTrue(Thread.interrupted());
        assertEquals(mm.mmapLock().lockSeq(), d.lockSeq());
        assertEquals(0, d.refcnt());
        mm.mmapLock().writeUnlock();
    }

    @Test
    void mmapOnlyModeMakesVmaLocksNoOps() {
        final MmStruct m = VmaFixture.mm(LockingMode.MMAP_ONLY);
        final Vma x = attached(m, 0x1000, 0x2000);
        assertEquals(1, x.refcnt());
        assertNull(tryRead(m, x));
        assertFalse(Rcu.readLockHeld());
        m.mmapLock().writeLock();
        VmaLock.startWrite(x);
        assertEquals(-1, x.lockSeq(), "vma_start_write is a no-op");
        VmaLock.assertWriteLocked(x); // reduces to mmap_assert_write_locked
        m.mmapLock().writeUnlock();
        assertEquals(MmapLock.SPECULATE_FAILED, m.mmapLock().speculateTryBegin());
        assertTrue(m.mmapLock().speculateRetry(0));
    }

    @Test
    @LeakCheck.Skip("the actor 'other' ends holding the mmap write lock, which exit_mmap needs")
    void assertionsRaise() {
        assertThrows(AssertionError.class, () -> VmaLock.assertWriteLocked(v));
        assertThrows(AssertionError.class, () -> VmaLock.assertLocked(v), "attached, unlocked, not held");
        assertThrows(AssertionError.class, () -> VmaLock.assertStabilised(v));
        assertThrows(AssertionError.class, () -> VmaLock.assertDetached(v));
        VmaLock.assertAttached(v);
        assertThrows(AssertionError.class, () -> mm.mmapLock().assertLocked());
        assertSame(v, tryRead(mm, v));
        VmaLock.assertLocked(v);
        VmaLock.assertStabilised(v);
        VmaLock.endRead(v);
        mm.mmapLock().readLock();
        VmaLock.assertStabilised(v);
        mm.mmapLock().assertLocked();
        assertThrows(AssertionError.class, () -> mm.mmapLock().assertWriteLocked());
        mm.mmapLock().readUnlock();
        // lockdep: held by another thread is not held by us
        final CountDownLatch release = new CountDownLatch(1);
        final Actor other = new Actor("other", () -> {
            mm.mmapLock().writeLock();
            release.countDown();
            return null;
        });
        other.start();
        other.joinResult();
        assertThrows(AssertionError.class, () -> mm.mmapLock().assertWriteLocked());
        final Vma d = new Vma();
        d.vmMm = mm;
        VmaLock.lockInit(d, true);
        assertThrows(AssertionError.class, () -> VmaLock.assertAttached(d));
        assertThrows(AssertionError.class, () -> VmaLock.startRead(mm, v), "vma_start_read outside RCU");
    }

    /** Type-safe-by-RCU: a lock-free reader that skips re-validation returns another mm's VMA. */
    @Test
    void skippingRevalidationGivesAWrongAnswer() {
        final MmStruct b = VmaFixture.mm();
        final VmaCache cache = new VmaCache();
        final Vma found = v; // the pointer T1's RCU walk returned, before the VMA is recycled
        mm.mmapLock().writeLock();
        VmaLock.startWrite(v);
        VmaLock.markDetached(v);
        mm.mmapLock().writeUnlock();
        cache.free(v);
        final Vma reused = cache.alloc(b, 0x40_0000, 0x50_0000);
        assertSame(found, reused);
        b.mmapLock().writeLock();
        VmaLock.startWrite(reused);
        VmaLock.markAttached(reused);
        b.mmapLock().writeUnlock();

        assertNull(tryRead(mm, found), "re-validation: vm_mm != mm → fail, fall back");
        assertEquals(1, found.refcnt());
        VmaLock.skipRevalidation = true;
        final Vma wrong = tryRead(mm, found);
        assertSame(found, wrong, "without it the reader 'locks' a VMA ...");
        assertSame(b, wrong.vmMm, "... of another mm, at another range: a wrong answer");
        VmaLock.endRead(wrong);
        assertEquals(1, found.refcnt());
    }
}
