package dev.vmsim.core.swap;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.inject.FailSite;
import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mmlist;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.TestArch;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** swapoff(2): try_to_unuse over the swap mmlist, its errors, and a fault that meets it on one folio. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SwapoffTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 8;

    private final Machine machine = TestArch.machine(4096);

    @AfterEach
    void close() {
        LockHooks.install(null);
        machine.failInject().clear();
        machine.close();
    }

    /** A device whose requests end inside submit (zero latency), page-cluster 0 (no readahead). */
    private Swap swapon() {
        return machine.swapon(new SwapParams(64, 0, 0, 8, 0));
    }

    private Cpu cpuOn(final MmStruct mm) {
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        return cpu;
    }

    private static byte pattern(final int page, final int off) {
        return (byte) (page * 31 + off * 7 + 1);
    }

    /** {@code PAGES} pages written with their pattern, then each swapped out to the device only. */
    private static long mapFillAndSwapOut(final MmStruct mm, final Cpu cpu) {
        final long a = mm.mmap(0, (long) PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(a > 0);
        for (int p = 0; p < PAGES; p++) {
            for (int off = 0; off < PAGE; off += 512) {
                assertEquals(SigInfo.OK, cpu.store(a + (long) p * PAGE + off, pattern(p, off)));
            }
        }
        for (int p = 0; p < PAGES; p++) {
            SwapOut.swapOut(mm, a + (long) p * PAGE);
        }
        return a;
    }

    private static void check(final Cpu cpu, final long a) {
        for (int p = 0; p < PAGES; p++) {
            for (int off = 0; off < PAGE; off += 512) {
                assertEquals(
                        pattern(p, off) & 0xff, cpu.load(a + (long) p * PAGE + off), "page " + p + " offset " + off);
            }
        }
    }

    private static void assertAllPresent(final MmStruct mm, final long a) {
        final PageTableFormat fmt = mm.pageTables().format();
        for (int p = 0; p < PAGES; p++) {
            assertTrue(fmt.ptePresent(SwapOut.pteAt(mm, a + (long) p * PAGE)), "page " + p + " mapped again");
        }
        assertEquals(0, mm.swapEnts());
    }

    @Test
    void swapoffBringsEveryPageBackIntoTheParentAndTheForkChild() {
        final Swap swap = swapon();
        final long baseline = machine.frames().allocatedFrames();
        final MmStruct parent = new MmStruct(machine, LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(parent);
        final long a = mapFillAndSwapOut(parent, cpu);
        assertTrue(Mmlist.onList(parent), "try_to_unmap_one put the parent on the mmlist");
        final MmStruct child = parent.fork();
        assertNotNull(child);
        assertTrue(Mmlist.onList(child), "copy_nonpresent_pte put the child on the mmlist");
        assertEquals(PAGES, child.swapEnts());
        assertEquals(PAGES, swap.info().inusePages());
        final long pswpin = machine.vmstat().get(VmEvent.PSWPIN);

        assertEquals(0, machine.swapoff());

        assertNull(machine.swap(), "the device is gone");
        assertFalse(Mmlist.onList(parent) || Mmlist.onList(child), "drain_mmlist: no swap in use, the list is empty");
        assertEquals(0, swap.info().inusePages(), "every slot free: SwapFree was back at SwapTotal");
        assertEquals(0, swap.cache().nrFolios(), "nothing left in the swap cache");
        assertEquals(pswpin + PAGES, machine.vmstat().get(VmEvent.PSWPIN), "one read per slot, shared by both mms");
        assertAllPresent(parent, a);
        assertAllPresent(child, a);
        final PageTableFormat fmt = parent.pageTables().format();
        assertEquals(fmt.pfn(SwapOut.pteAt(parent, a)), fmt.pfn(SwapOut.pteAt(child, a)), "one folio for both");
        assertEquals(2, machine.frames().mapcount(fmt.pfn(SwapOut.pteAt(parent, a))));
        assertFalse(fmt.pteWrite(SwapOut.pteAt(parent, a)), "unuse_pte maps read-only");
        machine.validate();
        check(cpu, a);
        final Cpu childCpu = cpuOn(child);
        check(childCpu, a);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 99), "a write after swapoff breaks COW as usual");
        assertEquals(pattern(0, 0) & 0xff, childCpu.load(a));
        machine.validate();
        child.exitMmap();
        parent.exitMmap();
        machine.vmscan().lruAddDrainAll();
        assertEquals(baseline, machine.frames().allocatedFrames(), "no frame leaked");
        assertEquals(-Errno.EINVAL, machine.swapoff(), "no device any more");
    }

    /**
     * mm_users: a walker's reference (mmget_not_zero) outlives the owner's exit, and the last mmput
     * runs __mmput: exit_mmap frees the swap entries and the mm leaves the mmlist.
     */
    @Test
    void theLastMmputTearsDownAndLeavesTheMmlist() {
        final Swap swap = swapon();
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        mapFillAndSwapOut(mm, cpuOn(mm));
        assertTrue(Mmlist.onList(mm));
        assertTrue(mm.mmgetNotZero());
        assertEquals(2, mm.mmUsers());
        mm.exitMmap(); // the owner's mmput
        assertEquals(1, mm.mmUsers());
        assertTrue(machine.mms().contains(mm) && Mmlist.onList(mm), "the walker's reference keeps it whole");
        assertEquals(PAGES, swap.info().inusePages());
        mm.mmput();
        assertFalse(machine.mms().contains(mm), "exit_mmap ran at the last mmput");
        assertFalse(Mmlist.onList(mm), "__mmput took it off the mmlist");
        assertFalse(mm.mmgetNotZero(), "mmget_not_zero fails on a dead mm");
        assertEquals(0, swap.info().inusePages(), "its swap entries were freed");
        machine.validate();
    }

    @Test
    void swapoffWithoutADeviceIsEinval() {
        assertEquals(-Errno.EINVAL, machine.swapoff());
    }

    /** After swapoff the machine can swapon again; mms rejoin the drained mmlist at their next swap PTE. */
    @Test
    void swaponAgainAfterSwapoff() {
        swapon();
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long a = mapFillAndSwapOut(mm, cpu);
        assertEquals(0, machine.swapoff());
        assertFalse(Mmlist.onList(mm));
        final Swap again = swapon();
        SwapOut.swapOut(mm, a + PAGE);
        assertTrue(Mmlist.onList(mm), "try_to_unmap_one put it back on the list");
        assertEquals(1, again.info().inusePages());
        assertEquals(0, machine.swapoff());
        check(cpu, a);
        machine.validate();
        mm.exitMmap();
    }

    @Test
    void swapoffThatCannotGetAFrameFailsWithEnomemAndLosesNothing() {
        final Swap swap = swapon();
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long a = mapFillAndSwapOut(mm, cpu);
        assertEquals(PAGES, swap.info().inusePages());
        machine.failInject().failNth(FailSite.PAGE_ALLOC, 3); // memory for three pages, not the fourth

        assertEquals(-Errno.ENOMEM, machine.swapoff());

        machine.failInject().clear();
        assertSame(swap, machine.swap(), "reinsert_swap_info: the device is back");
        assertTrue(swap.info().writeOk());
        assertEquals(swap.info().usablePages(), swap.totalSwapPages(), "SwapTotal back");
        assertEquals(3, PAGES - mm.swapEnts(), "the three pages it got are mapped; the rest stay on swap");
        assertEquals(PAGES - 3, swap.info().inusePages());
        machine.validate();
        check(cpu, a); // the pages still on swap fault back in
        machine.validate();
        assertEquals(0, machine.swapoff(), "with memory, a second swapoff finishes");
        assertNull(machine.swap());
        machine.validate();
        mm.exitMmap();
    }

    /**
     * A fault and swapoff on one swap PTE meet on the swap cache's folio: swapoff has read the page
     * into the cache and holds the folio lock (stopped at unuse_pte_range:folio_locked); the fault
     * finds the folio there (a hit: no second read, no major fault), waits for the lock with its
     * VMA lock dropped, and on its retry finds the PTE swapoff installed.
     */
    @Test
    void aFaultRacingSwapoffMeetsTheSameFolio() throws Exception {
        final Swap swap = swapon();
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long a = mapFillAndSwapOut(mm, cpu);
        final long pswpin = machine.vmstat().get(VmEvent.PSWPIN);
        final long majflt = machine.vmstat().get(VmEvent.PGMAJFAULT);
        final CountDownLatch locked = new CountDownLatch(1);
        final CountDownLatch go = new CountDownLatch(1);
        LockHooks.install(point -> {
            if (point.equals("unuse_pte_range:folio_locked")
                    && Thread.currentThread().getName().equals("swapoff")
                    && locked.getCount() > 0) {
                locked.countDown();
                await(go);
            }
        });
        final AtomicInteger swapoffRet = new AtomicInteger(1);
        final Thread swapoff = new Thread(() -> swapoffRet.set(machine.swapoff()), "swapoff");
        swapoff.start();
        await(locked);
        final long pfn = swap.cache().lookup(SwpEntry.swpOffset(SwapOut.entryAt(mm, a)));
        assertTrue(pfn >= 0, "swapoff read page 0 into the swap cache");

        final AtomicReference<Integer> loaded = new AtomicReference<>();
        final Thread fault = new Thread(
                () -> {
                    final Cpu c = cpuOn(mm);
                    loaded.set(c.load(a));
                },
                "faulter");
        fault.start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (fault.getState() != Thread.State.WAITING) {
            assertTrue(System.nanoTime() < deadline, "the fault never waited for the folio lock");
            Thread.onSpinWait();
        }
        assertNull(loaded.get(), "the fault waits for the folio swapoff holds");
        go.countDown();
        fault.join(10_000);
        swapoff.join(10_000);
        assertFalse(fault.isAlive() || swapoff.isAlive());

        assertEquals(0, swapoffRet.get());
        assertEquals(pattern(0, 0) & 0xff, loaded.get());
        assertEquals(pfn, mm.pageTables().format().pfn(SwapOut.pteAt(mm, a)), "one folio: swapoff's");
        assertEquals(pswpin + PAGES, machine.vmstat().get(VmEvent.PSWPIN), "no second read of page 0");
        assertEquals(majflt, machine.vmstat().get(VmEvent.PGMAJFAULT), "a swap-cache hit is no major fault");
        assertAllPresent(mm, a);
        machine.validate();
        check(cpu, a);
        mm.exitMmap();
    }

    private static void await(final CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS), "never reached");
        } catch (final InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
