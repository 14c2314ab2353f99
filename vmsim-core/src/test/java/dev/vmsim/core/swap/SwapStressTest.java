package dev.vmsim.core.swap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.cpu.TlbFlush;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.pgtable.Ptl;
import dev.vmsim.core.phys.FolioWait;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.Pages;
import dev.vmsim.core.testing.TestArch;
import dev.vmsim.core.vmscan.SwapBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A bounded stress run on the host clock: faulting threads read and rewrite their pages while a
 * reclaimer swaps random pages out the way shrink_folio_list would (trylock, add_to_swap, unmap
 * under the PTL with a compare-and-set, pageout, and __remove_mapping once written). Afterwards
 * every page holds its data, and the swap and mm invariants hold.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SwapStressTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 48;
    private static final int FAULTERS = 2;
    private static final int ROUNDS = 1500;

    @ParameterizedTest
    @EnumSource(
            value = LockingMode.class,
            names = {"MMAP_ONLY", "PER_VMA"})
    void faultsAndReclaimKeepDataAndInvariants(final LockingMode mode) throws Exception {
        final Machine machine = TestArch.machine(4096);
        try {
            final Swap swap = machine.swapon(new SwapParams(4 * PAGES, 20_000, 20_000, 4, 2));
            final MmStruct mm = new MmStruct(machine, mode);
            final Cpu main = machine.newCpu();
            final long a = Pages.mapAndFill(main, mm, PAGES);
            final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            final java.util.concurrent.atomic.AtomicBoolean reclaimDone =
                    new java.util.concurrent.atomic.AtomicBoolean();
            final List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < FAULTERS; t++) {
                final int seed = t;
                threads.add(new Thread(
                        () -> {
                            try {
                                final Cpu cpu = machine.newCpu();
                                cpu.switchMm(mm);
                                final Random r = new Random(seed);
                                for (int i = 0; i < ROUNDS || !reclaimDone.get(); i++) { // overlap the whole reclaim
                                    final int p = r.nextInt(PAGES);
                                    final long va = a + (long) p * PAGE;
                                    assertEquals(p + 1, cpu.load(va), "page " + p);
                                    if (r.nextInt(4) == 0) {
                                        assertEquals(
                                                SigInfo.OK, cpu.store(va, (byte) (p + 1))); // same value: a write fault
                                    }
                                }
                            } catch (Throwable e) {
                                failures.add(e);
                            }
                        },
                        "faulter-" + t));
            }
            threads.add(new Thread(
                    () -> {
                        try {
                            final Cpu cpu = machine.newCpu();
                            cpu.switchMm(mm);
                            final Random r = new Random(99);
                            for (int i = 0; i < ROUNDS; i++) {
                                reclaimOne(mm, a + (long) r.nextInt(PAGES) * PAGE);
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        } finally {
                            reclaimDone.set(true);
                        }
                    },
                    "reclaimer"));
            for (final Thread t : threads) {
                t.start();
            }
            for (final Thread t : threads) {
                t.join();
            }
            assertTrue(failures.isEmpty(), () -> "failures: " + failures);
            swap.drain();
            mm.validate();
            swap.validate();
            assertTrue(
                    machine.vmstat().get(VmEvent.PSWPOUT) > 0
                            && machine.vmstat().get(VmEvent.PSWPIN) > 0,
                    () -> "pages went out and came back: " + machine.vmstat().snapshot());
            for (int p = 0; p < PAGES; p++) {
                assertEquals(p + 1, main.load(a + (long) p * PAGE), "page " + p + " after the run");
            }
            mm.exitMmap();
            swap.validate();
            assertEquals(0, swap.info().inusePages(), "exit freed every slot");
        } finally {
            machine.close();
        }
    }

    /** shrink_folio_list for the page at {@code va}, if it is mapped and its folio unlocked; else nothing. */
    private static void reclaimOne(final MmStruct mm, final long va) {
        final Swap swap = mm.machine().swap();
        final FrameAllocator frames = mm.machine().frames();
        final FolioWait fw = frames.folioWait();
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final long pa = pt.ptePa(va, false);
        if (pa < 0) {
            return;
        }
        final long pte = pt.readPte(pa);
        if (!fmt.ptePresent(pte) || fmt.pteSpecial(pte)) {
            return;
        }
        final long pfn = fmt.pfn(pte);
        if (!frames.tryGet(pfn)) { // the isolation reference
            return;
        }
        try {
            if (!fw.trylock(pfn)) {
                return;
            }
            boolean locked = true;
            try {
                if (!frames.memMap().test(pfn, PageFlags.PG_SWAPCACHE) && !swap.addToSwap(0, pfn)) {
                    return;
                }
                // try_to_unmap_one: only if the PTE still maps this folio, atomically against A/D updates.
                final Ptl ptl = pt.ptl(pa);
                ptl.lock();
                try {
                    final long now = pt.readPte(pa);
                    if (!fmt.ptePresent(now) || fmt.pfn(now) != pfn || !pt.casPte(pa, now, 0)) {
                        return;
                    }
                    TlbFlush.flushTlbPage(mm, va);
                    if (fmt.pteDirty(now)) {
                        frames.memMap().set(pfn, PageFlags.PG_DIRTY);
                    }
                    final long swp = swap.swapPte(mm, pfn, frames.mapcount(pfn) == 1);
                    assertTrue(swp != -1);
                    pt.setPte(pa, swp);
                    mm.addSwapEnts(1);
                    frames.decMapcount(pfn);
                    mm.addAnonRss(-1);
                } finally {
                    ptl.unlock();
                }
                frames.put(0, pfn); // the mapping's reference
                final SwapBackend.Pageout out = swap.pageout(0, pfn);
                if (out == SwapBackend.Pageout.PAGE_SUCCESS) {
                    locked = false; // the writeout unlocked it
                    fw.waitWriteback(pfn);
                    if (!fw.trylock(pfn)) {
                        return;
                    }
                    locked = true;
                }
                // __remove_mapping: only the swap cache's reference and ours, nobody maps it, written.
                if (frames.memMap().test(pfn, PageFlags.PG_SWAPCACHE)
                        && frames.mapcount(pfn) == 0
                        && frames.refcount(pfn) == 2
                        && !frames.memMap().test(pfn, PageFlags.PG_DIRTY)
                        && !frames.memMap().test(pfn, PageFlags.PG_WRITEBACK)) {
                    swap.deleteFromSwapCache(pfn);
                    fw.unlock(pfn);
                    locked = false;
                    frames.put(0, pfn); // the swap cache's reference, which __remove_mapping froze
                }
            } finally {
                if (locked) {
                    fw.unlock(pfn);
                }
            }
        } finally {
            frames.put(0, pfn);
        }
    }
}
