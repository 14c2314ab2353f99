package dev.vmsim.core.race;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static dev.vmsim.core.race.RaceSupport.await;
import static dev.vmsim.core.race.RaceSupport.awaitState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.debug.KernelOops;
import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.lock.LockVma;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mmlist;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.race.RaceSupport.Task;
import dev.vmsim.core.swap.Swap;
import dev.vmsim.core.swap.SwapOut;
import dev.vmsim.core.swap.SwapParams;
import dev.vmsim.core.testing.TestArch;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * BUG-09, ISO-08 and SIG-04's copying half: a fork that a fatal signal stops after its child joined
 * the swap mmlist, and a swapoff that walks the mmlist before the child's mmput.
 *
 * <p>The interleaving, step by step: the parent has a page on swap, so dup_mmap's copy of that VMA
 * puts the child on the mmlist (copy_nonpresent_pte); a VMA read lock leaked on the vDSO (the last
 * VMA) stops dup_mmap in vma_start_write_killable there; SIGKILL ends the wait, dup_mmap stores
 * XA_ZERO_ENTRY over the vDSO's range, sets MMF_UNSTABLE and drops both mmap locks; the fork task
 * stops at {@code dup_mmap:before_mmput}, the child still alive with mm_users 1. swapoff runs then.
 */
@Timeout(60)
class ForkSwapoffRaceTest {
    private static final int PAGE = 4096;
    private final Machine machine = TestArch.machine(1024);
    private final Swap swap = machine.swapon(new SwapParams(64, 0, 0, 8, 0));

    @AfterEach
    void close() {
        LockHooks.install(null);
        machine.close();
    }

    private record Interrupted(
            MmStruct parent,
            MmStruct child,
            long addr,
            Vma leaked,
            Task fork,
            CountDownLatch go,
            AtomicReference<MmStruct> forked) {}

    /** Steps 1-3: the fork is stopped, its child on the mmlist with the marker in its tree. */
    private Interrupted interruptForkAfterTheChildJoinedTheMmlist() {
        final MmStruct parent = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = parent.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(parent);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 41));
        assertEquals(SigInfo.OK, cpu.store(a + PAGE, (byte) 42));
        SwapOut.swapOut(parent, a); // page 0 on swap only; page 1 stays in memory
        final Vma leaked = LockVma.underRcu(parent, parent.vdso().vmStart);
        assertNotNull(leaked);

        final CountDownLatch atMmput = new CountDownLatch(1);
        final CountDownLatch go = new CountDownLatch(1);
        LockHooks.install(point -> {
            if (point.equals("dup_mmap:before_mmput")
                    && Thread.currentThread().getName().equals("fork")) {
                atMmput.countDown();
                // The fork task has its fatal signal pending, so it cannot sleep on the latch: spin.
                awaitState("the test lets fork go on to mmput", () -> go.getCount() == 0);
            }
        });
        final AtomicReference<MmStruct> forked = new AtomicReference<>();
        final Task fork = new Task("fork", () -> forked.set(parent.fork()));
        awaitState(
                "fork waiting for the vDSO reader in vma_start_write_killable",
                () -> (parent.vdso().refcnt() & VmaLock.VM_REFCNT_EXCLUDE_READERS_FLAG) != 0,
                parent);
        final MmStruct child =
                machine.mms().stream().filter(m -> m != parent).findFirst().orElseThrow();
        assertTrue(Mmlist.onList(child), "copy_nonpresent_pte put the child on the mmlist before the signal");
        fork.thread.interrupt(); // SIGKILL
        await(atMmput, "fork's failure path, locks dropped, before mmput");

        assertTrue(child.isUnstable(), "MMF_UNSTABLE");
        assertEquals(-Errno.EFAULT, child.checkStableAddressSpace());
        assertSame(Vma.XA_ZERO_ENTRY, child.mmMt().walk(parent.vdso().vmStart), "the marker where the copy stopped");
        assertNull(child.vmaLookup(parent.vdso().vmStart), "vma_lookup never returns the marker");
        assertFalse(child.vmas().contains(Vma.XA_ZERO_ENTRY), "the exit walks stop at it");
        assertTrue(child.oom().oomSkip(), "MMF_OOM_SKIP: the OOM reaper keeps out too");
        assertEquals(1, child.swapEnts(), "the child holds the swapped page's entry");
        assertEquals(1, child.mmUsers());
        assertFalse(parent.mmapLock().isWriteLocked());
        assertFalse(child.mmapLock().isWriteLocked());
        child.validate(); // the marker is allowed in an unstable mm, after every VMA
        return new Interrupted(parent, child, a, leaked, fork, go, forked);
    }

    /**
     * ISO-08 and BUG-09's fix: swapoff brings the parent's page back, skips the unstable child
     * (check_stable_address_space), and retries until the child's mmput frees its entry; then it
     * succeeds with the parent's data intact and the child gone.
     */
    @Test
    void swapoffSkipsTheUnstableChildOfAnInterruptedFork() throws Exception {
        final long baseline = machine.frames().allocatedFrames();
        final Interrupted s = interruptForkAfterTheChildJoinedTheMmlist();
        final CountDownLatch retried = new CountDownLatch(1);
        final AtomicInteger ret = new AtomicInteger(1);
        LockHooks.install(point -> {
            if (point.equals("try_to_unuse:retry")) {
                retried.countDown();
            } else if (point.equals("dup_mmap:before_mmput")
                    && Thread.currentThread().getName().equals("fork")) {
                awaitState("the test lets fork go on to mmput", () -> s.go().getCount() == 0);
            }
        });
        final Task swapoff = new Task("swapoff", () -> ret.set(machine.swapoff()));
        await(retried, "swapoff went round again: the child's slot is still in use");
        final long pte = SwapOut.pteAt(s.parent(), s.addr());
        assertTrue(s.parent().pageTables().format().ptePresent(pte), "the parent's page is back");
        assertEquals(0, s.parent().swapEnts());
        assertEquals(1, swap.info().inusePages(), "only the child's reference holds the slot");
        assertTrue(s.child().isUnstable());
        assertFalse(swapoff.finished(), "swapoff waits for the child to go");

        s.go().countDown(); // fork's mmput: exit_mmap stops at the marker and frees the child's entry
        s.fork().join(s.parent());
        swapoff.join(s.parent());
        assertNull(s.forked().get(), "fork failed with -EINTR");
        assertEquals(0, ret.get(), "swapoff succeeded");
        assertNull(machine.swap());
        assertFalse(machine.mms().contains(s.child()), "the child was torn down");
        assertFalse(Mmlist.onList(s.child()));
        assertEquals(0, s.child().mmUsers());
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(s.parent());
        assertEquals(41, cpu.load(s.addr()), "the parent's data, intact");
        assertEquals(42, cpu.load(s.addr() + PAGE));
        VmaLock.endRead(s.leaked());
        machine.validate();
        s.parent().exitMmap();
        machine.vmscan().lruAddDrainAll();
        assertEquals(baseline, machine.frames().allocatedFrames(), "no frame leaked");
    }

    /**
     * BUG-09 reintroduced: unuse_mm walks the unstable child and takes XA_ZERO_ENTRY for a VMA
     * (the kernel's NULL-pointer oops). After the oops the device is back in service; once the
     * child is gone a second swapoff succeeds and the parent's data is intact.
     */
    @Test
    void bug09SwitchMakesSwapoffTakeTheMarkerForAVma() throws Exception {
        try (var bug = BugSwitches.reintroduce(Bug.BUG_09)) {
            final Interrupted s = interruptForkAfterTheChildJoinedTheMmlist();
            final Task swapoff = new Task("swapoff", machine::swapoff);
            await(swapoff.done, "swapoff oopsed");
            final Throwable oops = swapoff.failure.get();
            assertInstanceOf(KernelOops.class, oops, "swapoff must fail on the marker");
            assertTrue(
                    oops.getMessage().contains("NULL pointer dereference")
                            && oops.getMessage().contains("XA_ZERO_ENTRY"),
                    oops.getMessage());
            assertTrue(swap.info().writeOk(), "the device is back in service");
            assertFalse(s.child().mmapLock().rwsem().isLocked(), "the oops unwound the read lock (a departure)");

            s.go().countDown();
            s.fork().join(s.parent());
            assertFalse(machine.mms().contains(s.child()));
            assertFalse(Mmlist.onList(s.child()), "the child's __mmput took it off the mmlist");
            assertTrue(Mmlist.onList(s.parent()));
            assertEquals(0, machine.swapoff(), "with the child gone there is nothing unstable to walk");
            final Cpu cpu = machine.newCpu();
            cpu.switchMm(s.parent());
            assertEquals(41, cpu.load(s.addr()));
            VmaLock.endRead(s.leaked());
            machine.validate();
            s.parent().exitMmap();
        }
    }
}
