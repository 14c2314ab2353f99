package dev.vmsim.core.mm;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.LockVma;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.Schedule;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.testing.TestArch;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * LOCK-14: mm_take_all_locks (mmu-notifier registration) write-locks every VMA before any rmap lock,
 * so a page fault holding a VMA read lock is waited for, and later faults are excluded from the
 * per-VMA path until mmap_write_unlock.
 *
 * <pre>
 *  0x10000  0x20000  0x30000  0x40000
 *  |VVVVVVVV|        |WWWWWWWW|        V: a fault holds its read lock; W: untouched
 * </pre>
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MmAllLocksTest {
    private final MmStruct mm = new MmStruct(TestArch.machine(64), LockingMode.PER_VMA);

    private Vma map(final long addr, final int prot) {
        assertEquals(addr, mm.mmap(addr, 0x10000, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
        return mm.findVma(addr);
    }

    /** A page fault that read-locks {@code v} (lock_vma_under_rcu), says so, and holds it until told. */
    private Schedule.Actor faultHolding(final Vma v, final CountDownLatch holds, final CountDownLatch ends) {
        return new Schedule.Actor("fault", () -> {
            final Vma locked = LockVma.lockVmaUnderRcu(mm, v.vmStart);
            assertSame(v, locked);
            holds.countDown();
            Schedule.await(ends);
            VmaLock.endRead(locked);
            return null;
        });
    }

    @Test
    void everyVmaIsWriteLockedAfterTheFaultHoldingOneLeaves() throws Exception {
        final Vma v = map(0x10000, PROT_READ | PROT_WRITE);
        final Vma w = map(0x30000, PROT_READ);
        final CountDownLatch faultHolds = new CountDownLatch(1);
        final CountDownLatch faultEnds = new CountDownLatch(1);
        final Schedule.Actor fault = faultHolding(v, faultHolds, faultEnds);
        final Schedule.Actor register = new Schedule.Actor("mmu_notifier_register", () -> {
            mm.mmapLock().writeLock();
            final int ret = MmAllLocks.mmTakeAllLocks(mm);
            final boolean all = VmaLock.isWriteLocked(v) && VmaLock.isWriteLocked(w);
            if (ret == 0) {
                MmAllLocks.mmDropAllLocks(mm);
            }
            mm.mmapLock().writeUnlock();
            return ret == 0 && all;
        });
        fault.start();
        Schedule.await(faultHolds);
        register.start();
        Schedule.untilParked(register); // on vma_writer_wait: V's reader is still inside its fault
        assertFalse(VmaLock.isWriteLocked(v), "V is not write-locked while its reader holds it");
        faultEnds.countDown();
        fault.joinResult();
        assertEquals(Boolean.TRUE, register.joinResult(), "returned 0 with V and W both write-locked");
        // After mmap_write_unlock every VMA is readable again.
        final Vma again = LockVma.lockVmaUnderRcu(mm, 0x30000);
        assertSame(w, again);
        VmaLock.endRead(again);
    }

    @Test
    void aFaultDuringTheRegistrationFallsBackToTheMmapLock() throws Exception {
        final Vma v = map(0x10000, PROT_READ | PROT_WRITE);
        mm.mmapLock().writeLock();
        try {
            assertEquals(0, MmAllLocks.mmTakeAllLocks(mm));
            final Schedule.Actor fault = new Schedule.Actor("fault", () -> LockVma.lockVmaUnderRcu(mm, 0x10000));
            fault.start();
            assertNull(fault.joinResult(), "the per-VMA attempt fails: V is write-locked");
            assertTrue(VmaLock.isWriteLocked(v));
            MmAllLocks.mmDropAllLocks(mm);
        } finally {
            mm.mmapLock().writeUnlock();
        }
        assertFalse(VmaLock.isWriteLocked(v), "mmap_write_unlock ends every VMA write lock");
    }

    /** A fatal signal while V's reader drains: -EINTR, and the mutex is free for the next caller. */
    @Test
    void aFatalSignalWhileWaitingReturnsEintrAndReleasesTheMutex() throws Exception {
        final Vma v = map(0x10000, PROT_READ | PROT_WRITE);
        final CountDownLatch faultHolds = new CountDownLatch(1);
        final CountDownLatch faultEnds = new CountDownLatch(1);
        final Schedule.Actor fault = faultHolding(v, faultHolds, faultEnds);
        final Schedule.Actor register = new Schedule.Actor("mmu_notifier_register", () -> {
            mm.mmapLock().writeLock();
            try {
                return MmAllLocks.mmTakeAllLocks(mm);
            } finally {
                mm.mmapLock().writeUnlock();
            }
        });
        fault.start();
        Schedule.await(faultHolds);
        register.start();
        Schedule.untilParked(register);
        register.interrupt(); // SIGKILL
        assertEquals(-MmAllLocks.EINTR, register.joinResult());
        faultEnds.countDown();
        fault.joinResult();
        mm.mmapLock().writeLock();
        try {
            assertEquals(0, MmAllLocks.mmTakeAllLocks(mm), "mm_all_locks_mutex was released on -EINTR");
            MmAllLocks.mmDropAllLocks(mm);
        } finally {
            mm.mmapLock().writeUnlock();
        }
    }
}
