package dev.vmsim.core.swap;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.task.Task;
import dev.vmsim.core.testing.TestArch;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.TraceEvent;
import dev.vmsim.core.trace.TraceRecorder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** do_swap_page end to end on the core test architecture, with the swap device on the host clock. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SwapFaultTest {
    private static final int PAGE = 4096;

    private final Machine machine = TestArch.machine(4096);
    /**
     * Reads take 250 ms, so that a fault always finds its read still in flight when it tries the
     * folio lock (the retry steps below do not depend on host timing).
     */
    private final Swap swap = machine.swapon(new SwapParams(64, 250_000_000, 20_000, 8, 3));

    @AfterEach
    void close() {
        FaultTrace.install(null);
        machine.close();
    }

    private MmStruct mm(final LockingMode mode) {
        return new MmStruct(machine, mode);
    }

    private Cpu cpuOn(final MmStruct mm) {
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        return cpu;
    }

    private static long map(final MmStruct mm, final int pages) {
        final long a = mm.mmap(0, (long) pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(a > 0, "mmap failed: " + a);
        return a;
    }

    /** A byte pattern that differs per page and per offset. */
    private static byte pattern(final int page, final int off) {
        return (byte) (page * 31 + off * 7 + 1);
    }

    private static void fill(final Cpu cpu, final long a, final int page) {
        for (int off = 0; off < PAGE; off += 512) {
            assertEquals(SigInfo.OK, cpu.store(a + off, pattern(page, off)));
        }
    }

    private static void check(final Cpu cpu, final long a, final int page) {
        for (int off = 0; off < PAGE; off += 512) {
            assertEquals(pattern(page, off) & 0xff, cpu.load(a + off), "page " + page + " offset " + off);
        }
    }

    @Test
    void aSwappedOutPageReadsBackWithItsDataAfterAMajorFault() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long a = map(mm, 1);
        fill(cpu, a, 0);
        final long framesBefore = machine.frames().allocatedFrames();
        SwapOut.swapOut(mm, a);
        final PageTableFormat fmt = mm.pageTables().format();
        final long pte = SwapOut.pteAt(mm, a);
        assertTrue(fmt.isSwapPte(pte), "a swap PTE: " + fmt.describe(pte, 0));
        assertTrue(fmt.pteSwpExclusive(pte), "one mapping: exclusive");
        assertEquals(framesBefore - 1, machine.frames().allocatedFrames(), "the page's frame is free");
        assertEquals(1, mm.swapEnts());
        assertEquals(0, mm.anonRss());
        final long entry = fmt.pteToSwpEntry(pte);
        assertEquals(1, swap.swapCount(entry));
        mm.validate();
        swap.validate();

        final long majFlt = Task.current().majFlt;
        check(cpu, a, 0); // the first load faults the page back in; the rest hit it
        assertEquals(1, machine.vmstat().get(VmEvent.PGMAJFAULT));
        assertEquals(1, machine.vmstat().get(VmEvent.PSWPIN));
        assertEquals(1, machine.vmstat().get(VmEvent.PSWPOUT));
        assertEquals(majFlt + 1, Task.current().majFlt, "the retry under the mmap lock is the task's major fault");
        assertEquals(1, machine.vmstat().get(VmEvent.VMA_LOCK_RETRY), "the I/O wait dropped the VMA lock");
        final long now = SwapOut.pteAt(mm, a);
        assertTrue(fmt.ptePresent(now));
        assertTrue(fmt.pteWrite(now), "exclusive: mapped writable at once (do_wp_page's reuse rule)");
        assertEquals(0, mm.swapEnts());
        assertEquals(1, mm.anonRss());
        assertEquals(0, swap.swapCount(entry), "the PTE's reference is gone");
        assertTrue(swap.info().hasCache(entry & SwpEntry.SWP_OFFSET_MASK), "a read fault keeps the swap cache copy");
        mm.validate();
        swap.validate();
        // A write now needs no fault; the stale swap copy stays until reclaim or unmap frees it.
        assertEquals(SigInfo.OK, cpu.store(a + 1, (byte) 0x55));
        final long pfn = fmt.pfn(now);
        mm.munmap(a, PAGE);
        assertEquals(0, swap.info().inusePages(), "munmap freed the cached slot (free_swap_cache)");
        assertEquals(0, machine.frames().refcount(pfn), "and the folio");
        swap.validate();
    }

    /**
     * should_try_to_free_swap on a write fault asks that only the fault and the swap cache hold the
     * folio. The swap-in put the new folio in this CPU's lru_add batch, which holds a reference too
     * (folio_add_lru in __read_swap_cache_async), so, as in the kernel, the slot stays with the swap
     * cache; the page is still mapped writable and dirty (exclusive), and the unmap frees both.
     */
    @Test
    void aWriteFaultMapsThePageDirtyAndTheBatchedFolioKeepsItsSlotUntilTheUnmap() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long a = map(mm, 1);
        fill(cpu, a, 3);
        SwapOut.swapOut(mm, a);
        assertEquals(1, swap.info().inusePages());
        assertEquals(SigInfo.OK, cpu.store(a + 8, (byte) 9));
        assertEquals(1, swap.info().inusePages(), "the lru_add batch's reference keeps the folio in the swap cache");
        final PageTableFormat fmt = mm.pageTables().format();
        final long pte = SwapOut.pteAt(mm, a);
        assertTrue(fmt.pteWrite(pte) && fmt.pteDirty(pte));
        final long pfn = fmt.pfn(pte);
        assertTrue(machine.frames().memMap().test(pfn, PageFlags.PG_SWAPCACHE));
        assertEquals(9, cpu.load(a + 8));
        for (int off = 512; off < PAGE; off += 512) {
            assertEquals(pattern(3, off) & 0xff, cpu.load(a + off));
        }
        mm.validate();
        swap.validate();
        machine.vmscan().lruAddDrainAll();
        assertEquals(0, mm.munmap(a, PAGE));
        assertEquals(0, swap.info().inusePages(), "free_swap_cache at the unmap freed the slot");
        assertEquals(0, machine.frames().refcount(pfn), "and the folio");
        swap.validate();
    }

    @Test
    void forkSharesTheSlotAndEachExitOrUnmapDropsItsReference() {
        final MmStruct parent = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(parent);
        final long a = map(parent, 2);
        fill(cpu, a, 0);
        fill(cpu, a + PAGE, 1);
        SwapOut.swapOut(parent, a);
        final long entry = SwapOut.entryAt(parent, a);
        final MmStruct child = parent.fork();
        assertNotNull(child);
        assertEquals(entry, SwapOut.entryAt(child, a), "the child has the same swap entry");
        assertEquals(2, swap.swapCount(entry), "swap_duplicate for the child");
        final PageTableFormat fmt = parent.pageTables().format();
        assertFalse(fmt.pteSwpExclusive(SwapOut.pteAt(parent, a)), "copy_nonpresent_pte marks the entry shared");
        assertFalse(fmt.pteSwpExclusive(SwapOut.pteAt(child, a)));
        assertEquals(1, child.swapEnts());
        child.validate();
        swap.validate();

        child.exitMmap();
        assertEquals(1, swap.swapCount(entry), "the child's exit dropped its reference");
        swap.validate();

        // The parent's fault: not exclusive any more, and the cache also holds the folio, so read-only.
        check(cpu, a, 0);
        final long pte = SwapOut.pteAt(parent, a);
        assertFalse(fmt.pteWrite(pte), "a shared entry is mapped read-only");
        assertEquals(SigInfo.OK, cpu.store(a, pattern(0, 0)));
        assertTrue(fmt.pteWrite(SwapOut.pteAt(parent, a)), "the write fault made it writable");
        parent.validate();
        swap.validate();
    }

    @Test
    void munmapOfASwapPteFreesTheSlot() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long a = map(mm, 4);
        for (int p = 0; p < 4; p++) {
            fill(cpu, a + (long) p * PAGE, p);
            SwapOut.swapOut(mm, a + (long) p * PAGE);
        }
        assertEquals(4, swap.info().inusePages());
        assertEquals(4, mm.swapEnts());
        assertEquals(0, mm.munmap(a + PAGE, 2 * PAGE));
        assertEquals(2, swap.info().inusePages());
        assertEquals(2, mm.swapEnts());
        mm.validate();
        swap.validate();
        check(cpu, a, 0);
        check(cpu, a + 3L * PAGE, 3);
        mm.exitMmap();
        assertEquals(0, swap.info().inusePages(), "exit freed every slot");
        swap.validate();
    }

    /** A written, unmapped page still in the swap cache: zapping its swap PTE frees slot and folio (__try_to_reclaim_swap). */
    @Test
    void zapOfTheLastSwapPteReclaimsTheCachedFolio() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long a = map(mm, 1);
        fill(cpu, a, 2);
        final long pfn = SwapOut.unmapAndWrite(mm, a);
        swap.drain();
        // Unmapped and clean: zap's free_swap_and_cache reclaims the cached folio at once.
        assertEquals(1, machine.frames().refcount(pfn), "the swap cache's reference");
        mm.munmap(a, PAGE);
        assertEquals(0, swap.info().inusePages());
        assertEquals(0, machine.frames().refcount(pfn), "the cached folio was freed");
        assertFalse(machine.frames().memMap().test(pfn, PageFlags.PG_SWAPCACHE));
        swap.validate();
    }

    @Test
    void readaheadBringsTheNeighboursInAndTheirFaultsHitTheCache() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long a = map(mm, 8);
        for (int p = 0; p < 8; p++) {
            fill(cpu, a + (long) p * PAGE, p);
        }
        for (int p = 0; p < 8; p++) {
            SwapOut.swapOut(mm, a + (long) p * PAGE);
        }
        check(cpu, a + 3L * PAGE, 3); // window of 8 around page 3: pages 0..7
        assertEquals(7, machine.vmstat().get(VmEvent.SWAP_RA));
        assertEquals(8, machine.vmstat().get(VmEvent.PSWPIN));
        assertEquals(1, machine.vmstat().get(VmEvent.PGMAJFAULT));
        for (int p = 0; p < 8; p++) {
            check(cpu, a + (long) p * PAGE, p);
        }
        assertEquals(8, machine.vmstat().get(VmEvent.PSWPIN), "no more reads");
        assertEquals(1, machine.vmstat().get(VmEvent.PGMAJFAULT), "the neighbours' faults are minor");
        assertEquals(7, machine.vmstat().get(VmEvent.SWAP_RA_HIT));
        mm.validate();
        swap.validate();
    }

    /** mprotect leaves swap PTEs alone; mremap carries them to the new address; the fault there honours the new protection. */
    @Test
    void mprotectAndMremapCarrySwapPtes() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long a = map(mm, 2);
        fill(cpu, a, 0);
        fill(cpu, a + PAGE, 1);
        SwapOut.swapOut(mm, a);
        SwapOut.swapOut(mm, a + PAGE);
        final long e0 = SwapOut.entryAt(mm, a);
        final long e1 = SwapOut.entryAt(mm, a + PAGE);
        assertEquals(0, mm.mprotect(a, 2L * PAGE, PROT_READ));
        assertEquals(e0, SwapOut.entryAt(mm, a), "change_protection skips swap PTEs");
        final long b = mm.mremap(
                a,
                2L * PAGE,
                2L * PAGE,
                dev.vmsim.core.mm.Mman.MREMAP_MAYMOVE | dev.vmsim.core.mm.Mman.MREMAP_FIXED,
                a + 64L * PAGE);
        assertEquals(a + 64L * PAGE, b);
        assertEquals(e0, SwapOut.entryAt(mm, b));
        assertEquals(e1, SwapOut.entryAt(mm, b + PAGE));
        assertEquals(2, mm.swapEnts());
        mm.validate();
        swap.validate();
        check(cpu, b, 0);
        final PageTableFormat fmt = mm.pageTables().format();
        assertFalse(fmt.pteWrite(SwapOut.pteAt(mm, b)), "PROT_READ: mapped read-only although exclusive");
        assertEquals(0, mm.mprotect(b, 2L * PAGE, PROT_READ | PROT_WRITE));
        assertEquals(SigInfo.OK, cpu.store(b + PAGE, (byte) 1));
        for (int off = 512; off < PAGE; off += 512) {
            assertEquals(pattern(1, off) & 0xff, cpu.load(b + PAGE + off));
        }
        mm.validate();
        swap.validate();
    }

    /** The trace of a swap-in under the VMA lock: decoded entry, cache miss, readahead, lock dropped, retry, hit. */
    @Test
    void theTraceShowsEachStep() {
        final MmStruct mm = mm(LockingMode.PER_VMA);
        final Cpu cpu = cpuOn(mm);
        final long a = map(mm, 1);
        fill(cpu, a, 0);
        SwapOut.swapOut(mm, a);
        final long entry = SwapOut.entryAt(mm, a);
        final TraceRecorder rec = new TraceRecorder(10_000);
        FaultTrace.install(rec);
        try {
            assertEquals(pattern(0, 0) & 0xff, cpu.load(a));
        } finally {
            FaultTrace.install(null);
        }
        final List<String> steps = new ArrayList<>();
        for (final TraceEvent e : rec.events()) {
            if (e.name.equals(FaultTrace.DO_SWAP_PAGE)) {
                steps.add(e.arg("step") + (e.arg("detail").isEmpty() ? "" : " " + e.arg("detail")));
            }
        }
        assertEquals(
                List.of(
                        "swap_pte " + SwpEntry.describe(entry) + " exclusive",
                        "swap_cache miss",
                        "lock_dropped vma",
                        "io_wait read in flight",
                        "retry",
                        "swap_pte " + SwpEntry.describe(entry) + " exclusive",
                        "swap_cache hit",
                        "locked",
                        "mapped writable, stays in swap cache"),
                steps);
    }
}
