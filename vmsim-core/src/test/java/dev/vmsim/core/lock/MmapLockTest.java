package dev.vmsim.core.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.Schedule.Actor;
import dev.vmsim.core.sync.Lockdep;
import dev.vmsim.core.sync.RwSemaphore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The mmap_lock wrappers' exact order (§5), mm_lock_seq, speculation, tracepoints, counters, SIG-01. */
class MmapLockTest {
    private final MmapLock ml = new MmapLock(LockingMode.PER_VMA);
    private final List<String> trace = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        MmapLock.setTraceSink(null);
        Lockdep.resetCurrentThread();
    }

    /** Records each tracepoint with the state it saw: seq parity and the rwsem's lock state. */
    private void record() {
        MmapLock.setTraceSink(new MmapLockTraceSink() {
            @Override
            public void startLocking(final MmapLock l, final boolean write) {
                trace.add("start(" + (write ? "W" : "R") + ") " + state(l));
            }

            @Override
            public void acquireReturned(final MmapLock l, final boolean write, final boolean ok) {
                trace.add("returned(" + (write ? "W" : "R") + "," + ok + ") " + state(l));
            }

            @Override
            public void released(final MmapLock l, final boolean write) {
                trace.add("released(" + (write ? "W" : "R") + ") " + state(l));
            }
        });
    }

    private static String state(final MmapLock l) {
        final long c = l.rwsem().count();
        final String lock = (c & RwSemaphore.RWSEM_WRITER_LOCKED) != 0 ? "w" : (c != 0 ? "r" : "-");
        return lock + ((l.lockSeq() & 1) != 0 ? "odd" : "even");
    }

    @Test
    void wrappersRunInTheKernelsOrder() {
        record();
        ml.writeLock();
        ml.writeUnlock();
        ml.readLock();
        ml.readUnlock();
        assertTrue(ml.readTrylock());
        ml.readUnlock();
        ml.writeLock();
        ml.writeDowngrade();
        ml.readUnlock();
        assertTrue(ml.readLockKillable());
        ml.readUnlock();
        assertEquals(0, ml.writeLockKillable());
        ml.writeUnlock();
        assertEquals(
                List.of(
                        "start(W) -even", // trace start → down_write → seq begin → trace returned
                        "returned(W,true) wodd",
                        "released(W) wodd", // trace released → vma_end_write_all → up_write
                        "start(R) -even",
                        "returned(R,true) reven",
                        "released(R) reven",
                        "start(R) -even",
                        "returned(R,true) reven",
                        "released(R) reven",
                        "start(W) -even",
                        "returned(W,true) wodd",
                        "returned(R,true) wodd", // downgrade: trace first, then end_write_all, then downgrade
                        "released(R) reven",
                        "start(R) -even",
                        "returned(R,true) reven",
                        "released(R) reven",
                        "start(W) -even",
                        "returned(W,true) wodd",
                        "released(W) wodd"),
                trace);
        assertEquals(6, ml.lockSeq(), "+1 on each of 3 write locks and each unlock/downgrade");
        assertEquals(6, ml.acquisitions());
    }

    @Test
    void speculation() {
        final long s = ml.speculateTryBegin();
        assertEquals(0, s);
        assertFalse(ml.speculateRetry(s));
        ml.writeLock();
        assertEquals(MmapLock.SPECULATE_FAILED, ml.speculateTryBegin(), "odd seq: a writer holds it");
        assertTrue(ml.speculateRetry(s));
        ml.writeUnlock();
        assertTrue(ml.speculateRetry(s), "a writer came and went");
        final long s2 = ml.speculateTryBegin();
        ml.readLock();
        ml.readUnlock();
        assertFalse(ml.speculateRetry(s2), "readers do not invalidate speculation");
    }

    /** SIG-01: write_lock_killable blocked behind a reader, killed → EINTR, nothing modified. */
    @Test
    void killableWriteLockInterrupted() {
        record();
        ml.rwsem().setOptimisticSpinTries(0);
        ml.readLock();
        final long count = ml.rwsem().count();
        final int seq = ml.lockSeq();
        final Actor w = new Actor("W", ml::writeLockKillable);
        w.start();
        Schedule.until("W queued", () -> ml.rwsem().waiterCount() == 1);
        Schedule.untilParked(w);
        w.interrupt();
        assertEquals(-RwSemaphore.EINTR, w.joinResult());
        assertEquals(count, ml.rwsem().count());
        assertEquals(seq, ml.lockSeq());
        assertTrue(trace.contains("returned(W,false) reven"), trace.toString());
        assertTrue(ml.contendedAcquisitions() >= 1);
        assertTrue(ml.waitNanos() > 0);
        ml.readUnlock();
        assertEquals(0, ml.rwsem().count());
    }

    @Test
    void contendedAcquisitionIsCounted() {
        ml.rwsem().setOptimisticSpinTries(0);
        ml.writeLock();
        final Actor r = new Actor("R", () -> {
            ml.readLock();
            ml.readUnlock();
            return null;
        });
        r.start();
        Schedule.until("R queued", () -> ml.rwsem().waiterCount() == 1);
        assertEquals(0, ml.contendedAcquisitions() - 1, "the reader left the fast path");
        ml.writeUnlock();
        r.joinResult();
        assertEquals(2, ml.acquisitions());
        assertTrue(ml.waitNanos() > 0);
    }

    @Test
    void upgradeTrylockHasTheWriteLockSideEffects() {
        ml.readLock();
        assertFalse(ml.upgradeTrylock(), "off by default: the kernel's mmap_upgrade_trylock always fails");
        ml.assertLocked();
        assertEquals(0, ml.lockSeq() & 1, "no seqcount begun");
        ml.readUnlock();
        ml.setUpgradeEnabled(true);
        ml.readLock();
        assertTrue(ml.upgradeTrylock());
        assertEquals(1, ml.lockSeq() & 1, "seqcount begun");
        ml.assertWriteLocked();
        ml.writeUnlock();
        assertEquals(0, ml.lockSeq() & 1);
        RwSemaphore.upgradeAsKernelStub = true;
        try {
            ml.readLock();
            assertFalse(ml.upgradeTrylock());
            ml.assertLocked();
            ml.readUnlock();
        } finally {
            RwSemaphore.upgradeAsKernelStub = false;
        }
    }

    @Test
    void mmCountModelsTheMmLifetime() {
        assertEquals(1, ml.mmCount());
        ml.mmgrab();
        ml.mmdrop();
        assertFalse(ml.isFreed());
        ml.mmdrop();
        assertTrue(ml.isFreed());
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, ml::mmgrab);
    }
}
