package dev.vmsim.core.race;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static dev.vmsim.core.race.RaceSupport.awaitState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.lock.LockVma;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.Schedule;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.race.RaceSupport.Task;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.TestArch;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * BUG-02 / LOCK-17 / §17 row 22: fork while another thread faults on the parent.
 *
 * <p>The interposition point needs no hook: dup_mmap write-locks the parent's VMAs one by one in
 * address order, and the vDSO is the highest VMA. The test holds a VMA read lock on the vDSO (as a
 * per-VMA fault in progress there would), so fork stops in vma_start_write on the vDSO with every
 * other parent VMA already write-locked and the parent's mmap write lock held. A fault on such a VMA
 * then cannot take its VMA read lock (ABORT), falls back, and blocks on the mmap lock until fork
 * ends; afterwards the parent and the child are consistent.
 */
class ForkFaultRaceTest {
    private static final int PAGE = 4096;
    private final Machine machine = TestArch.machine(1024);

    private static long pte(final MmStruct mm, final long va) {
        final PageTables pt = mm.pageTables();
        final long pa = pt.ptePa(va, false);
        return pa < 0 ? 0 : pt.readPte(pa);
    }

    @ParameterizedTest
    @EnumSource(
            value = LockingMode.class,
            names = {"PER_VMA", "PER_VMA_WAIT"})
    void faultOnAVmaForkHasWriteLockedWaitsForFork(final LockingMode mode) throws Exception {
        final MmStruct parent = new MmStruct(machine, mode);
        final long a = parent.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final Cpu cpu0 = machine.newCpu();
        cpu0.switchMm(parent);
        assertEquals(SigInfo.OK, cpu0.store(a, (byte) 7)); // page 0 present, anon_vma set
        final Vma vma = parent.vmaLookup(a);
        final List<Vma> vmas = parent.vmas();
        assertSame(parent.vdso(), vmas.get(vmas.size() - 1), "the vDSO is the last VMA dup_mmap locks");

        final Vma vdsoReader = LockVma.underRcu(parent, parent.vdso().vmStart);
        assertNotNull(vdsoReader);
        final AtomicReference<MmStruct> child = new AtomicReference<>();
        final Task fork = new Task("fork", () -> child.set(parent.fork()));
        awaitState(
                "fork waiting for the vDSO reader in vma_start_write",
                () -> (parent.vdso().refcnt() & VmaLock.VM_REFCNT_EXCLUDE_READERS_FLAG) != 0,
                parent);
        assertTrue(VmaLock.isWriteLocked(vma), "dup_mmap write-locked the earlier VMA (the BUG-02 fix)");

        final long abort = machine.vmstat().get(VmEvent.VMA_LOCK_ABORT);
        final AtomicInteger sig = new AtomicInteger(-1);
        final Task fault = new Task("faulter", () -> {
            final Cpu cpu1 = machine.newCpu();
            cpu1.switchMm(parent);
            sig.set(cpu1.store(a + PAGE, (byte) 9));
        });
        awaitState(
                "faulter blocked on the parent's mmap lock",
                () -> parent.mmapLock().rwsem().waiterCount() == 1,
                parent);
        assertEquals(abort + 1, machine.vmstat().get(VmEvent.VMA_LOCK_ABORT), "the VMA read lock was refused");
        assertFalse(fault.finished(), "no fault runs on a VMA while fork copies it");
        assertFalse(fork.finished());

        VmaLock.endRead(vdsoReader); // the vDSO "fault" finishes: fork goes on
        fork.join(parent);
        fault.join(parent);
        final MmStruct c = child.get();
        assertNotNull(c);
        assertEquals(SigInfo.OK, sig.get());

        parent.validate();
        c.validate();
        final PageTableFormat fmt = parent.pageTables().format();
        // Page 0 was copied for COW: one frame, mapped read-only by both.
        final long shared = fmt.pfn(pte(parent, a));
        assertEquals(shared, fmt.pfn(pte(c, a)));
        assertEquals(2, machine.frames().mapcount(shared));
        assertFalse(fmt.pteWrite(pte(c, a)));
        // Page 1 was faulted in after fork ended: the parent's alone; the child never saw it.
        assertTrue(fmt.ptePresent(pte(parent, a + PAGE)));
        assertEquals(0, pte(c, a + PAGE), "the child has no PTE for a page faulted after the copy");
        assertEquals(1, machine.frames().mapcount(fmt.pfn(pte(parent, a + PAGE))));
        assertEquals(2, parent.anonRss());
        assertEquals(1, c.anonRss());
        final Vma childVma = c.vmaLookup(a);
        assertNotNull(childVma.anonVma, "the child's VMA has its own anon_vma chained to the parent's");
        assertTrue(childVma.anonVmaChainLength > vma.anonVmaChainLength);

        final Cpu cpu2 = machine.newCpu();
        cpu2.switchMm(c);
        assertEquals(7, cpu2.load(a));
        assertEquals(0, cpu2.load(a + PAGE));
        assertEquals(9, cpu0.load(a + PAGE));
        c.exitMmap();
        parent.exitMmap();
    }

    /**
     * BUG-02: fork is past V's anon_vma_fork (its copy of V decided) and about to copy V's page
     * tables; a parent thread write-faults a page of V that is not yet present. Fixed, the fault
     * cannot take V's read lock and waits for fork (catalogue invariant: while fork copies V no
     * fault runs on V). With BUG-02 on it runs under the VMA lock and installs its page in the
     * middle of the copy, and fork copies a page the parent faulted after fork began.
     *
     * <p>The catalogue's variant with V's anon_vma still NULL cannot be replayed by this switch
     * alone: a first anonymous fault under the VMA lock needs __vmf_anon_prepare's mmap_read_trylock,
     * which fails while fork holds the mmap write lock (the 6.4 kernel refused such VMAs in
     * lock_vma_under_rcu instead), so the fault falls back and waits either way.
     */
    @Test
    @Timeout(60)
    void bug02SwitchLetsAFaultRunOnAVmaForkIsCopying() throws Exception {
        final Bug02 fixed = replayBug02();
        assertFalse(fixed.faultDuringFork, "fixed: the fault waited for fork");
        assertEquals(0, fixed.childPte, "fixed: the child has no PTE for a page faulted after fork");
        try (var bug = BugSwitches.reintroduce(Bug.BUG_02)) {
            final Bug02 broken = replayBug02();
            assertTrue(broken.faultDuringFork, "bug: the fault ran under the VMA lock while fork copied V");
            assertTrue(broken.childPte != 0, "bug: the child maps the page the parent faulted mid-fork");
        }
    }

    private record Bug02(boolean faultDuringFork, long childPte) {}

    private Bug02 replayBug02() throws Exception {
        final MmStruct parent = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = parent.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final Cpu cpu0 = machine.newCpu();
        cpu0.switchMm(parent);
        assertEquals(SigInfo.OK, cpu0.store(a, (byte) 7)); // anon_vma set; page 1 not yet faulted
        final AtomicReference<MmStruct> child = new AtomicReference<>();
        try (Schedule s = new Schedule()) {
            final java.util.concurrent.CountDownLatch armed = new java.util.concurrent.CountDownLatch(1);
            final Task fork = new Task("fork", () -> {
                RaceSupport.await(armed, "the gate");
                child.set(parent.fork());
            });
            final Schedule.Gate gate = s.stopAt(fork.thread, "dup_mmap:after_anon_vma_fork");
            armed.countDown();
            gate.awaitArrived(); // fork holds both mmap locks and is about to copy V's page tables
            final Task fault = new Task("faulter", () -> {
                final Cpu cpu1 = machine.newCpu();
                cpu1.switchMm(parent);
                assertEquals(SigInfo.OK, cpu1.store(a + PAGE, (byte) 9));
            });
            awaitState(
                    "the fault done, or blocked on the mmap lock",
                    () -> fault.finished() || parent.mmapLock().rwsem().waiterCount() == 1,
                    parent);
            final boolean during = fault.finished();
            gate.release();
            fork.join(parent);
            fault.join(parent);
            final MmStruct c = child.get();
            final long childPte = pte(c, a + PAGE);
            parent.validate();
            c.validate();
            c.exitMmap();
            parent.exitMmap();
            return new Bug02(during, childPte);
        }
    }

    /**
     * BUG-13 / SIG-02: a leaked VMA read lock stops fork in the parent VMA's write lock. The lock
     * state shows the blocked writer (mmap_lock owner) and the VMA with readers excluded. Fixed,
     * vma_start_write_killable ends on SIGKILL: fork fails, the exclusion flag is gone, both mmap
     * locks are dropped. With BUG-13 on the wait is uninterruptible: the task consumes the signal and
     * sleeps on, and only the reader leaving lets fork finish.
     */
    @Test
    @Timeout(60)
    void bug13SwitchLeavesForkUnkillableBehindALeakedReader() throws Exception {
        final Stuck fixed = forkBehindALeakedReader();
        fixed.fork.thread.interrupt(); // SIGKILL
        fixed.fork.join(fixed.parent);
        assertEquals(null, fixed.child.get(), "the fatal signal ended fork");
        assertEquals(2, fixed.leaked.refcnt(), "the exclusion flag was removed; the reader's reference stays");
        assertFalse(fixed.parent.mmapLock().isWriteLocked());
        VmaLock.endRead(fixed.leaked);
        fixed.parent.validate();
        try (var bug = BugSwitches.reintroduce(Bug.BUG_13)) {
            final Stuck s = forkBehindALeakedReader();
            s.fork.thread.interrupt(); // SIGKILL
            awaitState(
                    "fork took the signal and went back to sleep",
                    () -> !s.fork.thread.isInterrupted() && s.fork.thread.getState() == Thread.State.WAITING,
                    s.parent);
            assertFalse(s.fork.finished(), "SIGKILL did not end the wait: the task stays in D state");
            assertEquals(VmaLock.VM_REFCNT_EXCLUDE_READERS_FLAG + 2, s.leaked.refcnt());
            VmaLock.endRead(s.leaked); // only the reader leaving frees it
            s.fork.join(s.parent);
            assertNotNull(s.child.get(), "fork completed despite the fatal signal");
            s.child.get().exitMmap();
            s.parent.exitMmap();
        }
    }

    private record Stuck(MmStruct parent, Vma leaked, Task fork, AtomicReference<MmStruct> child) {}

    private Stuck forkBehindALeakedReader() {
        final MmStruct parent = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = parent.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final Vma leaked = LockVma.underRcu(parent, a); // never released by its task: the leak
        assertNotNull(leaked);
        final AtomicReference<MmStruct> child = new AtomicReference<>();
        final Task fork = new Task("fork", () -> child.set(parent.fork()));
        awaitState(
                "fork waiting for the reader in vma_start_write",
                () -> (leaked.refcnt() & VmaLock.VM_REFCNT_EXCLUDE_READERS_FLAG) != 0
                        && fork.thread.getState() == Thread.State.WAITING,
                parent);
        final String state = dev.vmsim.core.stress.Watchdog.lockState(parent);
        assertTrue(state.contains("owner=fork"), "the blocked writer holds the mmap lock: " + state);
        assertTrue(state.contains("vm_refcnt=0x40000002"), "readers excluded, one still in: " + state);
        return new Stuck(parent, leaked, fork, child);
    }
}
