package dev.vmsim.core.swap;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.phys.FolioWait;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.TestArch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * do_swap_page's lock-drop rules, on the host clock with real threads: under the VMA lock a fault
 * that finds its folio locked releases the VMA lock and retries under the mmap lock; under the mmap
 * lock a fault that waits for its read lets a writer take the mmap lock meanwhile.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SwapRetryTest {
    private static final int PAGE = 4096;

    private Machine machine;

    @AfterEach
    void close() {
        if (machine != null) {
            machine.close();
        }
    }

    private Swap machineWithSwap(final long readNs) {
        machine = TestArch.machine(1024);
        return machine.swapon(new SwapParams(64, readNs, 10_000, 4, 0));
    }

    private static long mapAndFill(final MmStruct mm, final Cpu cpu) {
        final long a = mm.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(a > 0);
        assertEquals(SigInfo.OK, cpu.store(a + 100, (byte) 0x5a));
        return a;
    }

    /** Starts a thread that faults {@code a} in from its own CPU; the loaded byte goes to {@code out}. */
    private Thread faulter(final MmStruct mm, final long a, final AtomicInteger out) {
        final Thread t = new Thread(
                () -> {
                    final Cpu c = machine.newCpu();
                    c.switchMm(mm);
                    final int v = c.load(a + 100);
                    out.set(v >= 0 ? v : -1000 - c.lastSignal());
                },
                "faulter");
        t.start();
        return t;
    }

    /** Polls (bounded by the class timeout) until {@code t} sleeps. */
    private static void awaitParked(final Thread t) throws InterruptedException {
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(t.isAlive(), "the faulter ended without waiting");
            Thread.sleep(1);
        }
    }

    /**
     * FAULT-03: do_swap_page under the VMA lock finds its folio locked (an I/O wait), drops the VMA
     * lock itself (release_fault_lock) and returns VM_FAULT_RETRY; VMA_LOCK_RETRY is counted and the
     * fault is taken again under the mmap lock, with no second unlock of the VMA (lockdep is on).
     */
    @Test
    void aFaultThatFindsTheFolioLockedDropsTheVmaLockAndRetriesUnderTheMmapLock() throws Exception {
        final Swap swap = machineWithSwap(10_000);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        final long a = mapAndFill(mm, cpu);
        final long pfn = SwapOut.unmapAndWrite(mm, a);
        swap.drain(); // written back; the clean folio stays in the swap cache
        final FolioWait fw = machine.frames().folioWait();
        assertTrue(fw.trylock(pfn), "we hold the folio lock, as reclaim would");

        final AtomicInteger loaded = new AtomicInteger(-2);
        final Thread t = faulter(mm, a, loaded);
        awaitParked(t); // in folio_wait_locked
        assertEquals(0, machine.vmstat().get(VmEvent.VMA_LOCK_RETRY), "still in the first attempt");
        // The VMA read lock is not held while it waits: a writer can write-lock the VMA.
        final Vma vma = mm.findVma(a);
        mm.mmapLock().writeLock();
        VmaLock.startWrite(vma);
        assertTrue(VmaLock.isWriteLocked(vma));
        mm.mmapLock().writeUnlock();

        fw.unlock(pfn);
        t.join();
        assertEquals(0x5a, loaded.get());
        assertEquals(1, machine.vmstat().get(VmEvent.VMA_LOCK_RETRY), "VM_FAULT_RETRY from the VMA-lock attempt");
        assertEquals(0, machine.vmstat().get(VmEvent.PGMAJFAULT), "a swap cache hit: no I/O");
        assertTrue(mm.pageTables().format().ptePresent(SwapOut.pteAt(mm, a)));
        mm.validate();
        swap.validate();
    }

    @Test
    void theMmapLockIsDroppedWhileTheReadIsInFlight() throws Exception {
        final long readNs = 1_000_000_000L; // 1 s: far longer than the steps between submit and unlock
        final Swap swap = machineWithSwap(readNs);
        final MmStruct mm = new MmStruct(machine, LockingMode.MMAP_ONLY);
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        final long a = mapAndFill(mm, cpu);
        SwapOut.swapOut(mm, a);
        final long offset = SwpEntry.swpOffset(SwapOut.entryAt(mm, a));

        final AtomicInteger loaded = new AtomicInteger(-2);
        final Thread t = faulter(mm, a, loaded);
        while (swap.cache().lookup(offset) < 0) { // the swap-in folio is in the cache, its read on the way
            Thread.sleep(1);
        }
        final long pfn = swap.cache().lookup(offset);
        mm.mmapLock().writeLock(); // blocks until the fault drops its read lock
        final boolean readInFlight = !machine.frames().memMap().test(pfn, PageFlags.PG_UPTODATE);
        mm.mmapLock().writeUnlock();
        assertTrue(readInFlight, "mmap_write_lock succeeded while the fault waited for its read");

        t.join();
        assertEquals(0x5a, loaded.get());
        assertEquals(1, machine.vmstat().get(VmEvent.PGMAJFAULT));
        assertEquals(0, machine.vmstat().get(VmEvent.VMA_LOCK_RETRY), "mmap-only: no VMA-lock attempt");
        assertFalse(machine.frames().folioWait().isLocked(pfn));
        mm.validate();
        swap.validate();
    }
}
