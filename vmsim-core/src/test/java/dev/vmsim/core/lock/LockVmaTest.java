package dev.vmsim.core.lock;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_GROWSDOWN;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.sync.Lockdep;
import dev.vmsim.core.testing.LeakCheck;
import dev.vmsim.core.testing.TestArch;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** lock_vma_under_rcu, lock_vma_under_rcu_wait and lock_mm_and_find_vma (§6, §7, §17). */
class LockVmaTest {
    private static final int PAGE = 4096;
    private final Machine machine = TestArch.machine(2048);

    private MmStruct mm(final LockingMode mode) {
        return new MmStruct(machine, mode);
    }

    private Cpu cpuOn(final MmStruct mm) {
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        return cpu;
    }

    private static void awaitTrue(final java.util.function.BooleanSupplier cond) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached in 10 s");
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void underRcuReturnsTheCoveringVmaReadLockedAndAbortsOnAGap() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final long a = mm.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final Vma vma = LockVma.underRcu(mm, a + PAGE);
        assertNotNull(vma);
        assertEquals(2, vma.refcnt(), "one reader reference on an attached VMA");
        VmaLock.endRead(vma);
        assertEquals(1, vma.refcnt());
        final long abort = machine.vmstat().get(VmEvent.VMA_LOCK_ABORT);
        assertNull(LockVma.underRcu(mm, a - PAGE));
        assertEquals(abort + 1, machine.vmstat().get(VmEvent.VMA_LOCK_ABORT));
    }

    /** §17 row 2: a VMA write-locked by a writer makes the per-VMA attempt abort. */
    @Test
    void writeLockedVmaAborts() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final long a = mm.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        mm.mmapLock().writeLock();
        final Vma v = mm.vmaLookup(a);
        VmaLock.startWrite(v);
        final AtomicReference<Vma> got = new AtomicReference<>(v);
        final Thread t = new Thread(() -> got.set(LockVma.underRcu(mm, a)));
        t.start();
        join(t);
        mm.mmapLock().writeUnlock();
        assertNull(got.get());
        final Vma after = LockVma.underRcu(mm, a);
        assertNotNull(after, "write unlock ends every VMA write lock");
        VmaLock.endRead(after);
    }

    @Test
    void mmapOnlyModeNeverLocksAVma() {
        final MmStruct mm = mm(LockingMode.MMAP_ONLY);
        final long a = mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
        assertNull(LockVma.underRcu(mm, a));
        assertEquals(0, machine.vmstat().get(VmEvent.VMA_LOCK_ABORT));
    }

    /** PER_VMA_WAIT: the faulter waits out the writer instead of falling back, then gets the VMA lock. */
    @Test
    void perVmaWaitWaitsForTheWriterAndThenLocks() throws Exception {
        final MmStruct mm = mm(LockingMode.PER_VMA_WAIT);
        final long a = mm.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        mm.mmapLock().writeLock();
        VmaLock.startWrite(mm.vmaLookup(a));
        final AtomicReference<Vma> got = new AtomicReference<>();
        final CountDownLatch done = new CountDownLatch(1);
        final Thread t = new Thread(() -> {
            final Vma v = LockVma.underRcu(mm, a);
            got.set(v);
            if (v != null) {
                VmaLock.endRead(v); // by the task that took it: lockdep tracks holds per task
            }
            done.countDown();
        });
        t.start();
        awaitTrue(() -> mm.mmapLock().rwsem().isContended());
        assertEquals(1, done.getCount(), "still waiting while the writer holds the lock");
        mm.mmapLock().writeUnlock();
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertNotNull(got.get());
        assertTrue(machine.vmstat().get(VmEvent.VMA_LOCK_WAIT) >= 1);
        assertNull(LockVma.underRcu(mm, a - 16 * PAGE), "no VMA: null without looping");
    }

    /** §17 row 13: a kernel fault with no exception-table entry never sleeps on the mmap lock. */
    @Test
    void kernelBugFaultDoesNotDeadlockOnAHeldMmapLock() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final long a = mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
        mm.mmapLock().writeLock();
        final AtomicReference<Vma> got = new AtomicReference<>(new Vma());
        final Thread t = new Thread(() -> got.set(LockVma.lockMmAndFindVma(mm, a, PtRegs.KERNEL_BUG)));
        t.start();
        join(t);
        mm.mmapLock().writeUnlock();
        assertNull(got.get());
    }

    @Test
    void lockMmAndFindVmaReturnsWithReadLockOrNothing() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final long a = mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
        final Vma v = LockVma.lockMmAndFindVma(mm, a, PtRegs.USER);
        assertNotNull(v);
        assertFalse(mm.mmapLock().rwsem().downWriteTrylock(), "read lock held");
        mm.mmapLock().readUnlock();
        assertNull(LockVma.lockMmAndFindVma(mm, a - PAGE, PtRegs.USER));
        assertTrue(mm.mmapLock().rwsem().downWriteTrylock(), "nothing held after a miss");
        mm.mmapLock().rwsem().upWrite();
    }

    /** §17 row 5 / LOCK-11: stack growth through the atomic upgrade, and through the careful drop-and-retake. */
    @Test
    void stackGrowsUnderTheWriteLockByUpgradeOrByRetake() {
        for (final boolean upgrade : new boolean[] {true, false}) {
            final MmStruct mm = mm(LockingMode.PER_VMA);
            mm.mmapLock().setUpgradeEnabled(upgrade);
            final Cpu cpu = cpuOn(mm);
            final long s = mm.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
            final long abort = machine.vmstat().get(VmEvent.VMA_LOCK_ABORT);
            assertEquals(0, cpu.load(s - PAGE), "upgrade=" + upgrade);
            assertEquals(abort + 1, machine.vmstat().get(VmEvent.VMA_LOCK_ABORT), "growth always aborts per-VMA");
            assertEquals(s - PAGE, mm.vmaLookup(s).vmStart);
            assertEquals(0, mm.mmapLock().lockSeq() & 1, "write lock dropped (downgraded then released)");
            mm.validate();
        }
    }

    /** FAULT-07: no growth into the guard gap of an accessible VMA below. */
    @Test
    void stackGrowthIntoTheGuardGapIsMapErr() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long s = mm.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
        final long below = s - 2 * 1024 * 1024;
        assertEquals(below, mm.mmap(below, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
        assertEquals(-1, cpu.load(s - 1024 * 1024));
        assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal());
        assertEquals(0, cpu.load(s - 512 * 1024), "1 MiB gap still kept: growth to 512 KiB below is fine");
    }

    /**
     * LOCK-06: lock_vma_under_rcu found V, then (before its vm_refcnt increment) an mprotect of half
     * of V split it, leaving the address in the other half, outside V; the lock itself succeeds
     * (the writer is gone) but the range re-check fails: the VMA is released, VMA_RECHECK_ADDRESS
     * counted, and null returned (fallback).
     */
    @Test
    void vmaShrunkBetweenLookupAndLockFailsTheAddressRecheck() {
        // Which half keeps the original object is the split's choice: learn it on a twin mm.
        final MmStruct twin = mm(LockingMode.PER_VMA);
        final long t = twin.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final Vma tv = twin.vmaLookup(t);
        assertEquals(0, twin.mprotect(t + 2 * PAGE, 2 * PAGE, PROT_READ));
        final boolean keepsLower = tv.vmStart == t;
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final long a = mm.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final long addr = keepsLower ? a + 3 * PAGE : a; // in the half V will not keep
        final Vma v = mm.vmaLookup(a);
        final long recheck = machine.vmstat().get(VmEvent.VMA_RECHECK_ADDRESS);
        try (Schedule s = new Schedule()) {
            final Schedule.Actor r = new Schedule.Actor("R", () -> LockVma.lockVmaUnderRcu(mm, addr));
            final Schedule.Gate early = s.stopAt(r, "vma_start_read:after_early_check");
            r.start();
            early.awaitArrived(); // V found by the walk, not yet counted
            assertEquals(0, mm.mprotect(a + 2 * PAGE, 2 * PAGE, PROT_READ));
            assertTrue(v.refcnt() == 1 && (addr < v.vmStart || addr >= v.vmEnd), "V attached, without the address");
            early.release();
            assertNull(r.joinResult(), "the address is no longer in V");
        }
        assertEquals(recheck + 1, machine.vmstat().get(VmEvent.VMA_RECHECK_ADDRESS));
        assertEquals(1, v.refcnt(), "the read lock taken for the re-check was dropped");
    }

    /**
     * SIG-05: a stack-growth fault in lock_mm_and_find_vma drops its read lock to take the write
     * lock killably; a fatal signal while it waits returns null with no lock held, and the stack is
     * not grown.
     */
    @Test
    void fatalSignalWhileUpgradingForStackGrowthReturnsWithNoLockHeld() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final long s = mm.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
        final MmapLock lock = mm.mmapLock();
        lock.readLock(); // keeps the write lock away
        final Schedule.Actor t = new Schedule.Actor("faulter", () -> LockVma.lockMmAndFindVma(mm, s - PAGE, null));
        t.start();
        awaitTrue(() -> lock.rwsem().waiterCount() == 1 && t.getState() == Thread.State.WAITING);
        t.interrupt(); // SIGKILL
        assertNull(t.joinResult(), "no VMA: the fault is abandoned");
        assertEquals(
                dev.vmsim.core.sync.RwSemaphore.RWSEM_READER_BIAS,
                lock.rwsem().count(),
                "only our read hold is left: the faulter holds nothing");
        lock.readUnlock();
        assertEquals(s, mm.vmaLookup(s).vmStart, "the stack did not grow");
    }

    /**
     * BUG-08 / LOCK-04: the first write fault under the VMA lock needs the anon_vma, and
     * __vmf_anon_prepare may only trylock the mmap lock there. With BUG-08 on it sleeps on it, and
     * lockdep reports the order that deadlocks against a writer waiting in vma_start_write.
     */
    @Test
    @LeakCheck.Skip(
            "the BUG-08 lockdep splat leaves the fault's VMA read lock held: exit_mmap's vma_start_write waits for ever")
    void bug08SwitchTakesTheMmapLockUnderTheVmaReadLock() {
        final MmStruct fixed = mm(LockingMode.PER_VMA);
        final long a = fixed.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertEquals(SigInfo.OK, cpuOn(fixed).store(a, (byte) 1), "fixed: the trylock succeeds");
        assertNotNull(fixed.vmaLookup(a).anonVma);
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final long b = mm.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final Cpu cpu = cpuOn(mm);
        try (var bug = BugSwitches.reintroduce(Bug.BUG_08)) {
            final Lockdep.LockdepSplat s = assertThrows(Lockdep.LockdepSplat.class, () -> cpu.store(b, (byte) 1));
            assertTrue(s.getMessage().contains("mmap_lock taken while holding a VMA read lock"), s.getMessage());
            assertTrue(s.getMessage().contains("PteFault.vmfAnonPrepare"), "the requesting stack: " + s.getMessage());
        } finally {
            Lockdep.resetCurrentThread(); // the fault died holding its VMA read lock
        }
    }

    /** §17 row 10: VMA-locked first write needs anon_vma; the mmap trylock fails behind a queued writer → RETRY. */
    @Test
    void anonVmaPrepareUnderVmaLockRetriesUnderTheMmapLock() throws Exception {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final long a = mm.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final MmapLock lock = mm.mmapLock();
        lock.readLock(); // a reader keeps the writer queued
        final Thread writer = new Thread(() -> {
            lock.writeLock();
            lock.writeUnlock();
        });
        writer.start();
        awaitTrue(() -> lock.rwsem().isContended());
        final AtomicInteger sig = new AtomicInteger(-1);
        final Thread faulter = new Thread(() -> {
            final Cpu cpu = cpuOn(mm);
            sig.set(cpu.store(a, (byte) 3));
        });
        faulter.start();
        awaitTrue(() -> machine.vmstat().get(VmEvent.VMA_LOCK_RETRY) == 1);
        lock.readUnlock();
        join(faulter);
        join(writer);
        assertEquals(SigInfo.OK, sig.get());
        assertEquals(1, machine.vmstat().get(VmEvent.PGFAULT), "accounted once, on the final attempt");
        assertEquals(0, machine.vmstat().get(VmEvent.PGMAJFAULT), "TRIED only follows a MAJOR retry");
        assertSame(mm.vmaLookup(a), mm.vmaLookup(a));
        mm.validate();
    }

    private static void join(final Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(20));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        if (t.isAlive()) {
            throw new AssertionError("thread did not finish: " + t);
        }
    }
}
