package dev.vmsim.core.race;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_GROWSDOWN;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static dev.vmsim.core.race.RaceSupport.await;
import static dev.vmsim.core.race.RaceSupport.awaitState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.lock.LockVma;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.race.RaceSupport.Pause;
import dev.vmsim.core.race.RaceSupport.Point;
import dev.vmsim.core.race.RaceSupport.Task;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.TestArch;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fault-path races under a controlled schedule (catalogue I.3, §17 row 21, LOCK-16/BUG-07): a
 * writer is parked at an mmap_lock tracepoint while it still holds the lock, or a faulter is parked
 * inside vma_start_read, and the test checks the exact state at that point before letting go.
 */
class FaultRaceTest {
    private static final int PAGE = 4096;
    private final Machine machine = TestArch.machine(1024);

    @AfterEach
    void removeHooks() {
        LockHooks.install(null);
    }

    private long count(final VmEvent e) {
        return machine.vmstat().get(e);
    }

    private Cpu cpuOn(final MmStruct mm) {
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        return cpu;
    }

    /**
     * FAULT-02: a writer (mprotect PROT_READ → PROT_READ|PROT_WRITE) holds the VMA write-locked; a
     * store in that VMA cannot take the VMA lock (ABORT), falls back, blocks on mmap read until the
     * writer unlocks, then sees the new layout: the store succeeds (the old layout would be ACCERR).
     * In MMAP_ONLY mode the fault goes straight to the mmap lock; in PER_VMA_WAIT it waits through
     * the mmap lock and then takes the VMA lock; the result is the same.
     */
    @ParameterizedTest
    @EnumSource(LockingMode.class)
    void faultBehindAVmaWriterWaitsAndSeesTheNewLayout(final LockingMode mode) throws Exception {
        final MmStruct mm = new MmStruct(machine, mode);
        final long a = mm.mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
        final Vma vma = mm.vmaLookup(a);
        try (Pause writer = new Pause(mm.mmapLock(), Point.WRITE_UNLOCK, "mprotect")) {
            final Task mprotect =
                    new Task("mprotect", () -> assertEquals(0, mm.mprotect(a, 2 * PAGE, PROT_READ | PROT_WRITE)));
            await(writer.reached, "mprotect at mmap_write_unlock");
            if (mode != LockingMode.MMAP_ONLY) {
                assertTrue(VmaLock.isWriteLocked(vma), "the writer holds the VMA write lock");
            }
            final long abort = count(VmEvent.VMA_LOCK_ABORT);
            final AtomicInteger sig = new AtomicInteger(-1);
            final Task fault = new Task("faulter", () -> sig.set(cpuOn(mm).store(a + PAGE, (byte) 1)));
            awaitState(
                    "faulter blocked on mmap read", () -> mm.mmapLock().rwsem().waiterCount() == 1, mm);
            assertFalse(fault.finished());
            assertEquals(
                    mode == LockingMode.MMAP_ONLY ? abort : abort + 1,
                    count(VmEvent.VMA_LOCK_ABORT),
                    "the per-VMA attempt aborted on the write-locked VMA");
            writer.release();
            mprotect.join(mm);
            fault.join(mm);
            assertEquals(SigInfo.OK, sig.get(), "the fault saw the new, writable layout");
        }
        mm.validate();
    }

    /**
     * FAULT-05 (a) / §17 row 21, fault first: the faulter holds the VMA read lock (parked inside
     * vma_start_read after its reference is taken); munmap write-locks the VMA and must wait in
     * vma_start_write. The faulter's re-check passes (vm_lock_seq is written only after the readers
     * drained), the fault completes under the VMA lock, then munmap proceeds and zaps the page.
     */
    @Test
    void munmapWaitsForAFaultHoldingTheVmaReadLock() throws Exception {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mm.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertEquals(SigInfo.OK, cpuOn(mm).store(a, (byte) 1)); // anon_vma now exists: no RETRY later
        final long baseline = machine.frames().allocatedFrames();
        final CountDownLatch faulterInside = new CountDownLatch(1);
        final CountDownLatch letFaulterGo = new CountDownLatch(1);
        final CountDownLatch munmapWaiting = new CountDownLatch(1);
        LockHooks.install(point -> {
            final String me = Thread.currentThread().getName();
            if (me.equals("faulter")
                    && point.equals("vma_start_read:before_recheck")
                    && faulterInside.getCount() != 0) {
                faulterInside.countDown();
                await(letFaulterGo, "the test's release of the faulter");
            } else if (me.equals("munmap") && point.equals("__vma_start_exclude_readers:before_wait")) {
                munmapWaiting.countDown();
            }
        });
        final long success = count(VmEvent.VMA_LOCK_SUCCESS);
        final long abort = count(VmEvent.VMA_LOCK_ABORT);
        final AtomicInteger sig = new AtomicInteger(-1);
        final AtomicInteger after = new AtomicInteger(-1);
        final CountDownLatch munmapReturned = new CountDownLatch(1);
        final Task fault = new Task("faulter", () -> {
            final Cpu cpu = cpuOn(mm);
            sig.set(cpu.store(a + PAGE, (byte) 2));
            await(munmapReturned, "munmap's return");
            after.set(cpu.load(a + PAGE) < 0 ? cpu.lastSignal() : SigInfo.OK);
        });
        await(faulterInside, "faulter inside vma_start_read");
        final Task munmap = new Task("munmap", () -> assertEquals(0, mm.munmap(a, 2 * PAGE)));
        await(munmapWaiting, "munmap waiting for readers in vma_start_write");
        assertFalse(munmap.finished(), "munmap cannot pass a VMA reader");
        letFaulterGo.countDown();
        munmap.join(mm);
        munmapReturned.countDown();
        fault.join(mm);
        assertEquals(success + 1, count(VmEvent.VMA_LOCK_SUCCESS), "the fault completed under the VMA lock");
        // The store's re-execution may land before munmap's zap (OK) or after it (MAPERR); nothing else.
        assertTrue(sig.get() == SigInfo.OK || sig.get() == SigInfo.SEGV_MAPERR_SIG, SigInfo.describe(sig.get()));
        // The only aborts are the faults that found the VMA gone: the final load, and a re-executed store.
        assertEquals(abort + 1 + (sig.get() == SigInfo.OK ? 0 : 1), count(VmEvent.VMA_LOCK_ABORT));
        assertEquals(SigInfo.SEGV_MAPERR_SIG, after.get(), "after munmap returned, the page is gone");
        assertNull(mm.vmaLookup(a));
        assertEquals(0, mm.anonRss());
        mm.validate();
        assertTrue(machine.frames().allocatedFrames() < baseline, "both data pages freed, none leaked");
    }

    /**
     * FAULT-05 (b) / §17 row 21, munmap first: munmap is parked after detaching the VMA, with the
     * write lock held. The fault finds no VMA under RCU (ABORT), blocks on mmap read, and once
     * munmap downgrades gets SEGV_MAPERR. Never a third outcome: the page is not mapped afterwards.
     */
    @ParameterizedTest
    @EnumSource(LockingMode.class)
    void faultAfterMunmapDetachedTheVmaGetsMapErr(final LockingMode mode) throws Exception {
        final MmStruct mm = new MmStruct(machine, mode);
        final long a = mm.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertEquals(SigInfo.OK, cpuOn(mm).store(a, (byte) 1));
        try (Pause pause = new Pause(mm.mmapLock(), Point.WRITE_DOWNGRADE, "munmap")) {
            final Task munmap = new Task("munmap", () -> assertEquals(0, mm.munmap(a, 2 * PAGE)));
            await(pause.reached, "munmap at the downgrade");
            final long abort = count(VmEvent.VMA_LOCK_ABORT);
            final AtomicInteger sig = new AtomicInteger(-1);
            final Task fault = new Task("faulter", () -> {
                final Cpu cpu = cpuOn(mm);
                sig.set(cpu.store(a + PAGE, (byte) 2) == SigInfo.OK ? SigInfo.OK : cpu.lastSignal());
            });
            awaitState(
                    "faulter blocked on mmap read", () -> mm.mmapLock().rwsem().waiterCount() == 1, mm);
            if (mode == LockingMode.PER_VMA) {
                assertEquals(abort + 1, count(VmEvent.VMA_LOCK_ABORT), "no VMA under RCU");
            }
            pause.release();
            munmap.join(mm);
            fault.join(mm);
            assertEquals(SigInfo.SEGV_MAPERR_SIG, sig.get());
        }
        assertNull(mm.vmaLookup(a + PAGE));
        final long pa = mm.pageTables().ptePa(a + PAGE, false);
        assertTrue(pa < 0 || mm.pageTables().readPte(pa) == 0, "nothing mapped after munmap");
        assertEquals(0, mm.anonRss());
        mm.validate();
    }

    /** Maps and unmaps 4 pages; returns the second page of the hole left, where a new VMA goes. */
    private static long hole(final MmStruct mm) {
        final long hole = mm.mmap(0, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
        assertEquals(0, mm.munmap(hole, 4 * PAGE));
        return hole + PAGE;
    }

    /** An mmap of 2 pages at {@code a} on its own task, parked by {@code pause} at mmap_write_unlock. */
    private static Task mmapParkedAtUnlock(final MmStruct mm, final long a, final Pause pause) {
        final Task mmap = new Task(
                "mmap",
                () -> assertEquals(
                        a, mm.mmap(a, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)));
        await(pause.reached, "mmap at mmap_write_unlock");
        return mmap;
    }

    /** Whether a lockless fault on another task can read-lock the VMA at {@code a} now (it drops it at once). */
    private static boolean probeVmaReadLock(final MmStruct mm, final long a) throws InterruptedException {
        final AtomicLong gotVma = new AtomicLong(-1);
        final Task probe = new Task("probe", () -> {
            final Vma v = LockVma.underRcu(mm, a);
            gotVma.set(v == null ? 0 : 1);
            if (v != null) {
                VmaLock.endRead(v);
            }
        });
        probe.join(mm);
        return gotVma.get() == 1;
    }

    /**
     * BUG-07 reintroduced: vma_iter_store_new stores the new VMA without write-locking it. mmap is
     * parked at mmap_write_unlock, still inside its write section, and a lockless fault read-locks
     * the VMA it is still setting up.
     */
    @Test
    void bug07SwitchLetsAFaultLockANewVmaBeforeMmapEnds() throws Exception {
        try (var bug = BugSwitches.reintroduce(Bug.BUG_07)) {
            final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
            final long a = hole(mm);
            try (Pause pause = new Pause(mm.mmapLock(), Point.WRITE_UNLOCK, "mmap")) {
                final Task mmap = mmapParkedAtUnlock(mm, a, pause);
                final boolean got = probeVmaReadLock(mm, a);
                assertTrue(mm.mmapLock().isWriteLocked(), "mmap is still in its write section");
                assertTrue(got, "a lockless fault read-locked the VMA mmap is still setting up");
                pause.release();
                mmap.join(mm);
            }
        }
    }

    /**
     * LOCK-16 / BUG-07: a new VMA is write-locked before it becomes visible. mmap is parked at
     * mmap_write_unlock: the VMA is in the tree, and lock_vma_under_rcu on it fails (ABORT) because
     * vm_lock_seq == mm_lock_seq; a concurrent fault blocks on the mmap lock. Only after the unlock
     * can the VMA read lock be taken.
     */
    @Test
    void aNewVmaIsWriteLockedUntilMmapWriteUnlock() throws Exception {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = hole(mm);
        try (Pause pause = new Pause(mm.mmapLock(), Point.WRITE_UNLOCK, "mmap")) {
            final Task mmap = mmapParkedAtUnlock(mm, a, pause);
            final Vma fresh = mm.vmaLookup(a);
            assertNotNull(fresh, "the new VMA is already visible in the tree");
            assertEquals(mm.mmapLock().lockSeqAcquire(), fresh.lockSeqAcquire(), "vm_lock_seq == mm_lock_seq");
            final long abort = count(VmEvent.VMA_LOCK_ABORT);
            assertFalse(probeVmaReadLock(mm, a), "no VMA read lock before mmap_write_unlock");
            assertEquals(abort + 1, count(VmEvent.VMA_LOCK_ABORT));
            final AtomicInteger sig = new AtomicInteger(-1);
            final Task fault = new Task("faulter", () -> sig.set(cpuOn(mm).store(a, (byte) 3)));
            awaitState(
                    "faulter blocked on mmap read", () -> mm.mmapLock().rwsem().waiterCount() == 1, mm);
            pause.release();
            mmap.join(mm);
            fault.join(mm);
            assertEquals(SigInfo.OK, sig.get());
        }
        final Vma v = LockVma.underRcu(mm, a + PAGE);
        assertNotNull(v, "after mmap_write_unlock the VMA read lock is free");
        VmaLock.endRead(v);
        mm.validate();
    }

    /**
     * FAULT-11: two threads fault on the same page below a GROWSDOWN stack at once. Both abort the
     * per-VMA attempt (no VMA there), queue on the mmap lock that the test holds for write, and
     * after it is released both succeed; the stack is expanded exactly once (vm_start one page
     * lower, total_vm one page more), by the atomic upgrade or by the careful drop-and-retake.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void twoFaultsBelowTheStackExpandItOnce(final boolean upgradeFirst) throws Exception {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        mm.mmapLock().setUpgradeEnabled(upgradeFirst);
        final long s = mm.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
        final long totalVm = mm.totalVm();
        final long abort = count(VmEvent.VMA_LOCK_ABORT);
        final AtomicInteger[] got = {new AtomicInteger(-2), new AtomicInteger(-2)};
        final Task[] faulters = new Task[2];
        mm.mmapLock().writeLock();
        try {
            for (int i = 0; i < 2; i++) {
                final AtomicInteger out = got[i];
                faulters[i] = new Task("stack-" + i, () -> {
                    final Cpu cpu = cpuOn(mm);
                    final int v = cpu.load(s - PAGE + 8);
                    out.set(v < 0 ? -cpu.lastSignal() : v);
                });
            }
            awaitState(
                    "both faulters queued on the mmap lock",
                    () -> mm.mmapLock().rwsem().waiterCount() == 2,
                    mm);
            assertEquals(abort + 2, count(VmEvent.VMA_LOCK_ABORT), "no VMA at the address: both aborted");
        } finally {
            mm.mmapLock().writeUnlock();
        }
        faulters[0].join(mm);
        faulters[1].join(mm);
        assertEquals(0, got[0].get(), "first faulter");
        assertEquals(0, got[1].get(), "second faulter");
        assertEquals(s - PAGE, mm.vmaLookup(s).vmStart, "vm_start moved down by exactly one page");
        assertEquals(totalVm + 1, mm.totalVm(), "one page of growth accounted, not two");
        mm.validate();
    }
}
