package dev.vmsim.core.vmscan;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static dev.vmsim.core.testing.Faults.pte;
import static dev.vmsim.core.testing.Faults.writeFault;
import static dev.vmsim.core.vmscan.Lruvec.LRU_INACTIVE_ANON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.fault.VmFault;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.MemMap;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.phys.Watermarks;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.LeakCheck;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The LRU and reclaim of mm/swap.c and mm/vmscan.c on the core test architecture. */
@Timeout(60)
class VmscanTest {
    private static final long PAGE = 4096;

    private Machine machine = TestArch.machine(4096);

    @AfterEach
    void close() throws InterruptedException {
        assertTrue(machine.vmscan().kswapd().quiesce(10_000));
        machine.validate();
        machine.close();
    }

    private FrameAllocator frames() {
        return machine.frames();
    }

    private long vmstat(final VmEvent e) {
        return machine.vmstat().get(e);
    }

    private long map(final MmStruct mm, final long pages) {
        final long a = mm.mmap(0, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(a > 0);
        return a;
    }

    private long[] writeAll(final MmStruct mm, final long a, final int pages) {
        final long[] pfns = new long[pages];
        final PageTableFormat fmt = mm.pageTables().format();
        for (int i = 0; i < pages; i++) {
            assertEquals(0, writeFault(mm, a + i * PAGE));
            pfns[i] = fmt.pfn(pte(mm, a + i * PAGE));
        }
        return pfns;
    }

    @Test
    void newFoliosWaitInTheCpusBatchOfThirtyOneThenGoInactive() {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = map(mm, 40);
        final Vmscan vmscan = machine.vmscan();
        final long[] pfns = writeAll(mm, a, 30);
        assertEquals(30, vmscan.batchedFolios());
        assertEquals(0, vmscan.nrInactiveAnon());
        assertEquals(2, frames().refcount(pfns[0]), "the mapping's and the batch's");
        assertFalse(frames().memMap().test(pfns[0], PageFlags.PG_LRU));
        assertEquals(0, writeFault(mm, a + 30 * PAGE)); // the 31st fills the batch: folio_batch_move_lru
        assertEquals(0, vmscan.batchedFolios());
        assertEquals(31, vmscan.nrInactiveAnon());
        assertEquals(0, vmscan.nrActiveAnon());
        assertEquals(1, frames().refcount(pfns[0]), "folios_put dropped the batch's reference");
        assertTrue(frames().memMap().test(pfns[0], PageFlags.PG_LRU));
        writeAll(mm, a + 31 * PAGE, 9);
        assertEquals(9, vmscan.batchedFolios());
        machine.validate();
        vmscan.lruAddDrainAll();
        assertEquals(40, vmscan.nrInactiveAnon());
        assertEquals(pfns[0], vmscan.lruvec().tail(LRU_INACTIVE_ANON), "the first added is reclaimed first");
        assertEquals(0, mm.munmap(a, 40 * PAGE));
        assertEquals(0, vmscan.nrInactiveAnon(), "the last put takes a folio off its list");
    }

    @Test
    void markAccessedTwiceActivatesAndShrinkActiveListDeactivatesEvenReferencedFolios() {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = map(mm, 8);
        final long[] pfns = writeAll(mm, a, 8);
        final Vmscan vmscan = machine.vmscan();
        vmscan.lruAddDrainAll();
        final MemMap memMap = frames().memMap();
        for (int i = 0; i < 4; i++) {
            vmscan.folioMarkAccessed(pfns[i]);
            assertTrue(memMap.test(pfns[i], PageFlags.PG_REFERENCED));
            assertFalse(memMap.test(pfns[i], PageFlags.PG_ACTIVE), "the first access only marks it");
            vmscan.folioMarkAccessed(pfns[i]);
            assertTrue(memMap.test(pfns[i], PageFlags.PG_ACTIVE));
            assertFalse(memMap.test(pfns[i], PageFlags.PG_REFERENCED));
        }
        assertEquals(4, vmscan.nrActiveAnon());
        assertEquals(4, vmscan.nrInactiveAnon());
        assertEquals(4, vmstat(VmEvent.PGACTIVATE));
        final PageTableFormat fmt = mm.pageTables().format();
        assertTrue(fmt.pteYoung(pte(mm, a)), "the fault made it young");

        vmscan.shrinkActiveList(32, new ScanControl(false, 0));
        assertEquals(0, vmscan.nrActiveAnon());
        assertEquals(8, vmscan.nrInactiveAnon());
        assertEquals(4, vmstat(VmEvent.PGREFILL));
        assertEquals(4, vmstat(VmEvent.PGDEACTIVATE), "referenced anon folios are deactivated too");
        for (int i = 0; i < 4; i++) {
            assertFalse(fmt.pteYoung(pte(mm, a + i * PAGE)), "folio_referenced cleared the young bit");
            assertTrue(memMap.test(pfns[i], PageFlags.PG_WORKINGSET));
        }
        for (int i = 4; i < 8; i++) {
            assertTrue(fmt.pteYoung(pte(mm, a + i * PAGE)), "an inactive folio's PTE was not touched");
        }
    }

    @Test
    void shrinkInactiveListKeepsOnceReferencedActivatesTwiceReferencedAndSwapsOutTheRest() {
        final FakeSwap swap = new FakeSwap(machine, true, 100);
        machine.setSwapBackend(swap);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = map(mm, 4);
        final long[] pfns = writeAll(mm, a, 4);
        final Vmscan vmscan = machine.vmscan();
        final MemMap memMap = frames().memMap();
        final PageTableFormat fmt = mm.pageTables().format();

        // Pass 1: every folio was referenced once (its fault): kept, PG_referenced, PTE old.
        assertEquals(0, vmscan.shrinkInactiveList(32, new ScanControl(false, 0)));
        assertEquals(4, vmscan.nrInactiveAnon());
        assertEquals(4, vmstat(VmEvent.PGSCAN_DIRECT));
        for (int i = 0; i < 4; i++) {
            assertTrue(memMap.test(pfns[i], PageFlags.PG_REFERENCED));
            assertFalse(fmt.pteYoung(pte(mm, a + i * PAGE)));
        }

        // Pass 2: page 0 used again → activated; the others go to swap and start writeback.
        assertEquals(0, writeFault(mm, a));
        final long allocated = frames().allocatedFrames();
        assertEquals(0, vmscan.shrinkInactiveList(32, new ScanControl(false, 0)));
        assertEquals(1, vmscan.nrActiveAnon());
        assertTrue(memMap.test(pfns[0], PageFlags.PG_ACTIVE));
        assertEquals(1, vmstat(VmEvent.PGACTIVATE));
        assertEquals(3, swap.added.get());
        assertEquals(3, swap.written.get());
        for (int i = 1; i < 4; i++) {
            assertEquals(FakeSwap.swapPteOf(mm, memMap.privateValue(pfns[i])), pte(mm, a + i * PAGE), "swap PTE " + i);
            assertTrue(memMap.test(pfns[i], PageFlags.PG_WRITEBACK));
            assertTrue(memMap.test(pfns[i], PageFlags.PG_RECLAIM), "pageout marks it for rotation");
            assertEquals(0, frames().mapcount(pfns[i]));
        }
        assertEquals(1, mm.anonRss());
        assertEquals(3, mm.swapEnts());
        assertEquals(3, vmscan.nrInactiveAnon(), "kept on the inactive list while the write is in flight");
        assertEquals(allocated, frames().allocatedFrames());

        // The writes complete: folio_end_writeback rotates each to the inactive tail.
        assertEquals(3, swap.completeWrites());
        for (int i = 1; i < 4; i++) {
            assertFalse(memMap.test(pfns[i], PageFlags.PG_WRITEBACK));
            assertFalse(memMap.test(pfns[i], PageFlags.PG_RECLAIM));
        }

        // Pass 3: clean, unmapped, in the swap cache: freed.
        assertEquals(3, vmscan.shrinkInactiveList(32, new ScanControl(false, 0)));
        assertEquals(3, swap.deleted.get());
        assertEquals(allocated - 3, frames().allocatedFrames());
        assertEquals(3, vmstat(VmEvent.PGSTEAL_DIRECT));
        assertEquals(0, vmstat(VmEvent.PGSTEAL_KSWAPD));
        assertEquals(0, vmscan.nrInactiveAnon());
        assertEquals(1, vmscan.nrActiveAnon());
    }

    @Test
    @LeakCheck.Skip("the folio stays in FakeSwap's swap cache, a test backend exit does not drain")
    void aFolioStillUnderWritebackIsMarkedForImmediateReclaimAndActivated() {
        final FakeSwap swap = new FakeSwap(machine, true, 100);
        machine.setSwapBackend(swap);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long[] pfns = writeAll(mm, map(mm, 1), 1);
        final Vmscan vmscan = machine.vmscan();
        vmscan.shrinkInactiveList(32, new ScanControl(false, 0)); // referenced once: kept
        vmscan.shrinkInactiveList(32, new ScanControl(false, 0)); // swapped out, writeback started
        assertTrue(frames().memMap().test(pfns[0], PageFlags.PG_WRITEBACK));
        vmscan.shrinkInactiveList(32, new ScanControl(false, 0)); // still writing: case 2
        assertTrue(frames().memMap().test(pfns[0], PageFlags.PG_ACTIVE));
        assertTrue(frames().memMap().test(pfns[0], PageFlags.PG_RECLAIM));
        assertEquals(1, vmscan.nrActiveAnon());
        swap.completeWrites();
        assertEquals(1, vmscan.nrActiveAnon(), "an active folio is not rotated");
    }

    @Test
    void withoutSwapKswapdIsWokenAtLowDirectReclaimRunsBelowMinNothingIsReclaimedAndTheLastFaultIsOom() {
        machine.close();
        machine = TestArch.machine(1024);
        final Watermarks w = frames().watermarks();
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = map(mm, 2048);
        int ret = 0;
        long firstWakeFree = -1;
        long firstStallFree = -1;
        int faulted = 0;
        for (int i = 0; i < 2048 && ret == 0; i++) {
            final long free = frames().zoneFreePagesRacy();
            ret = writeFault(mm, a + i * PAGE);
            if (firstWakeFree < 0 && vmstat(VmEvent.KSWAPD_WAKEUP) > 0) {
                firstWakeFree = free;
            }
            if (firstStallFree < 0 && vmstat(VmEvent.ALLOCSTALL) > 0) {
                firstStallFree = free;
            }
            if (ret == 0) {
                faulted++;
            }
        }
        assertEquals(VmFault.VM_FAULT_OOM, ret);
        assertTrue(firstWakeFree >= 0 && firstWakeFree <= w.low(), "woken at the low watermark: " + firstWakeFree);
        assertTrue(firstWakeFree > w.min(), "before min");
        assertTrue(firstStallFree >= 0 && firstStallFree <= w.min(), "direct reclaim below min: " + firstStallFree);
        assertEquals(0, vmstat(VmEvent.PGSCAN_DIRECT) + vmstat(VmEvent.PGSCAN_KSWAPD), "no anon scanning without swap");
        assertEquals(0, vmstat(VmEvent.PGSTEAL_DIRECT) + vmstat(VmEvent.PGSTEAL_KSWAPD));
        assertEquals(0, frames().freeFrames(), "out of memory only with no frame left, as before watermarks");
        assertEquals(faulted, mm.anonRss());
        assertEquals(
                faulted, machine.vmscan().nrInactiveAnon() + machine.vmscan().batchedFolios());
    }

    @Test
    void directReclaimWithSwapFreesSwapClusterMaxAndCountsAllocstall() {
        final FakeSwap swap = new FakeSwap(machine, false, 1000);
        machine.setSwapBackend(swap);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        writeAll(mm, map(mm, 300), 300);
        machine.vmscan().lruAddDrainAll();
        final long allocated = frames().allocatedFrames();
        final long reclaimed = machine.vmscan().tryToFreePages(0);
        assertTrue(reclaimed >= ScanControl.SWAP_CLUSTER_MAX, "reclaimed " + reclaimed);
        assertEquals(1, vmstat(VmEvent.ALLOCSTALL));
        assertEquals(reclaimed, vmstat(VmEvent.PGSTEAL_DIRECT));
        assertTrue(vmstat(VmEvent.PGSCAN_DIRECT) >= reclaimed);
        assertEquals(0, vmstat(VmEvent.PGSTEAL_KSWAPD));
        assertEquals(allocated - reclaimed, frames().allocatedFrames());
        assertEquals(reclaimed, mm.swapEnts());
        assertEquals(300 - reclaimed, mm.anonRss());
    }

    @Test
    void kswapdAndDirectReclaimKeepAWorkingSetLargerThanMemoryFaultable() throws InterruptedException {
        machine.close();
        machine = TestArch.machine(1024);
        final FakeSwap swap = new FakeSwap(machine, false, 4096);
        machine.setSwapBackend(swap);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = map(mm, 1500);
        for (int i = 0; i < 1500; i++) {
            assertEquals(0, writeFault(mm, a + i * PAGE), "fault " + i);
        }
        assertTrue(machine.vmscan().kswapd().quiesce(10_000));
        assertTrue(vmstat(VmEvent.KSWAPD_WAKEUP) >= 1);
        assertTrue(vmstat(VmEvent.PAGEOUTRUN) >= 1);
        final long stolen = vmstat(VmEvent.PGSTEAL_KSWAPD) + vmstat(VmEvent.PGSTEAL_DIRECT);
        assertEquals(swap.deleted.get(), stolen);
        assertEquals(1500, mm.anonRss() + mm.swapEnts(), "every page is resident or in swap");
        assertEquals(stolen, mm.swapEnts());
    }
}
