package dev.vmsim.core.pgtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.Pfn;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

class PageTablesTest {
    private static final long A = 0x400000L;
    private static final long GIB = 1L << 30;
    private static final long RW_SHARED = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED;
    private static final long RW_PRIVATE = VmFlags.VM_READ | VmFlags.VM_WRITE;

    private final Machine machine = TestArch.machine(4096);
    private final FrameAllocator frames = machine.frames();
    private final long baseline = frames.allocatedFrames();
    private final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
    private final PageTables pt = mm.pageTables();
    private final PageTableFormat fmt = pt.format();

    /** Maps a fresh frame at va with vm_get_page_prot(vmFlags), made writable if asked (as a write fault does). */
    private long map(final PageTables tables, final long va, final long vmFlags, final boolean writable) {
        final long pfn = frames.allocZeroed(0);
        frames.incMapcount(pfn);
        long pte = fmt.pfnPte(pfn, fmt.vmGetPageProt(vmFlags));
        if (writable) {
            pte = fmt.pteMkdirty(fmt.pteMkwrite(pte));
        }
        tables.setPte(tables.ptePa(va, true), pte);
        return pfn;
    }

    private long pte(final PageTables tables, final long va) {
        final long pa = tables.ptePa(va, false);
        return pa < 0 ? 0 : tables.readPte(pa);
    }

    private void teardown() {
        final MmuGather tlb = new MmuGather(mm);
        pt.zapRange(0, fmt.taskSize(), PageTables.ZAP_FLAG_DROP_MARKER, tlb);
        pt.freePgtables(0, fmt.taskSize(), 0, 0, tlb);
        tlb.finish();
        assertEquals(1, pt.tableFrames(), "only the root is left");
        mm.exitMmap(); // pgd_free: PageTables.destroy, and the mm leaves the machine
        assertEquals(0, pt.tableFrames());
        assertEquals(baseline, frames.allocatedFrames(), "every frame balanced");
    }

    @Test
    void allocatesMissingLevelsOnceAndCountsThem() {
        assertEquals(1, pt.tableFrames());
        assertEquals(PageTables.PTE_NONE, pt.ptePa(A, false));
        final long before = frames.allocatedFrames();
        final long pa = pt.ptePa(A, true);
        assertTrue(pa >= 0);
        assertEquals(4, pt.tableFrames());
        assertEquals(3, frames.allocatedFrames() - before);
        assertEquals(pa, pt.ptePa(A, true));
        assertEquals(pa, pt.ptePa(A, false));
        assertEquals(pa + 8, pt.ptePa(A + Pfn.PAGE_SIZE, false), "neighbours share the PTE page");
        assertEquals(pt.ptl(pa), pt.ptl(pa + 8));
        assertEquals(4, pt.tableFrames());
        final String dump = pt.dumpWalk(A);
        assertEquals(4, dump.lines().count(), dump);
        assertTrue(dump.startsWith("level 3"), dump);
        teardown();
    }

    @Test
    void racingAllocatorsInstallOneTableAndFreeTheirSpares() throws Exception {
        final int threads = 4;
        final CyclicBarrier barrier = new CyclicBarrier(threads);
        final long[] results = new long[threads];
        final List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final int id = t;
            final Thread th = new Thread(() -> {
                try {
                    barrier.await();
                } catch (final Exception e) {
                    throw new AssertionError(e);
                }
                results[id] = pt.ptePa(A + id * Pfn.PAGE_SIZE, true) - 8L * id;
            });
            ts.add(th);
            th.start();
        }
        for (final Thread th : ts) {
            th.join();
        }
        for (int t = 1; t < threads; t++) {
            assertEquals(results[0], results[t]);
        }
        assertEquals(4, pt.tableFrames());
        assertEquals(baseline + 4, frames.allocatedFrames(), "spares went back");
        teardown();
    }

    @Test
    void outOfMemoryReturnsMinusTwoAndLeaksNothing() {
        final List<Long> hog = new ArrayList<>();
        long p;
        while ((p = frames.allocZeroed(0)) != FrameAllocator.NO_FRAME) {
            hog.add(p);
        }
        // Give back two frames: enough for two of the three missing levels.
        frames.put(0, hog.remove(hog.size() - 1));
        frames.put(0, hog.remove(hog.size() - 1));
        assertEquals(PageTables.PTE_ALLOC_OOM, pt.ptePa(A, true));
        assertEquals(PageTables.PTE_NONE, pt.ptePa(A, false));
        assertEquals(
                frames.allocatedFrames(),
                baseline + hog.size() + pt.tableFrames(),
                "every allocated frame is a table or held by the test");
        frames.put(0, hog.remove(hog.size() - 1));
        assertTrue(pt.ptePa(A, true) >= 0, "recovers once a frame is free");
        for (final long h : hog) {
            frames.put(0, h);
        }
        teardown();
    }

    @Test
    void zapFreesFramesOnlyAfterTheFlush() {
        final long p1 = map(pt, A, RW_SHARED, false);
        final long p2 = map(pt, A + Pfn.PAGE_SIZE, RW_SHARED, false);
        final long p3 = map(pt, A + 5 * Pfn.PAGE_SIZE, RW_SHARED, false);
        final long zeroPa = pt.ptePa(A + 7 * Pfn.PAGE_SIZE, true);
        pt.setPte(zeroPa, fmt.pteMkspecial(fmt.pfnPte(frames.zeroPfn(), fmt.vmGetPageProt(VmFlags.VM_READ))));
        final long allocated = frames.allocatedFrames();
        final MmuGather tlb = new MmuGather(mm);
        pt.zapRange(A, A + 8 * Pfn.PAGE_SIZE, PageTables.ZAP_FLAG_DROP_MARKER, tlb);
        for (int i = 0; i < 8; i++) {
            assertEquals(0, pte(pt, A + i * Pfn.PAGE_SIZE));
        }
        assertEquals(0, frames.mapcount(p1));
        assertEquals(1, frames.refcount(p1), "not freed before the flush (TLB-01)");
        assertEquals(allocated, frames.allocatedFrames());
        assertEquals(3, tlb.pendingPages(), "the zero page is special: not gathered");
        tlb.finish();
        assertEquals(1, tlb.flushes());
        assertEquals(allocated - 3, frames.allocatedFrames());
        assertEquals(0, frames.refcount(p2));
        assertEquals(0, frames.refcount(p3));
        assertEquals(1, frames.refcount(frames.zeroPfn()));
        teardown();
    }

    @Test
    void freePgtablesFreesOnlyTablesInsideFloorAndCeiling() {
        final long b = 5 * GIB + A; // another PUD entry: its own PMD and PTE tables
        map(pt, A, RW_SHARED, false);
        map(pt, b, RW_SHARED, false);
        assertEquals(6, pt.tableFrames()); // pgd, pud, 2 x (pmd, pte)

        // A neighbour starting in the same PTE page (ceiling inside it) keeps every table.
        MmuGather tlb = new MmuGather(mm);
        pt.zapRange(A, A + Pfn.PAGE_SIZE, PageTables.ZAP_FLAG_DROP_MARKER, tlb);
        pt.freePgtables(A, A + Pfn.PAGE_SIZE, 0, A + 2 * Pfn.PAGE_SIZE, tlb);
        tlb.finish();
        assertEquals(6, pt.tableFrames());

        // Nothing else below b's PMD range: A's PTE page and PMD table go, the shared PUD stays.
        final long allocated = frames.allocatedFrames();
        tlb = new MmuGather(mm);
        pt.freePgtables(A, A + Pfn.PAGE_SIZE, 0, b & -GIB, tlb);
        assertEquals(4, pt.tableFrames());
        assertEquals(2, tlb.pendingTables());
        assertEquals(allocated, frames.allocatedFrames(), "tables freed only after the flush (TLB-05)");
        tlb.finish();
        assertEquals(allocated - 2, frames.allocatedFrames());
        assertEquals(PageTables.PTE_NONE, pt.ptePa(A, false));
        assertTrue(pt.ptePa(b, false) >= 0);
        assertTrue(fmt.ptePresent(pte(pt, b)));
        teardown();
    }

    @Test
    void changeProtectionModifiesPresentPtesAndRecordsTheFlush() {
        final long pfn = map(pt, A, RW_SHARED, true);
        map(pt, A + Pfn.PAGE_SIZE, RW_SHARED, false);
        final MmuGather tlb = new MmuGather(mm);
        assertEquals(2, pt.changeProtection(A, A + 4 * Pfn.PAGE_SIZE, VmFlags.VM_READ, tlb));
        final long pte = pte(pt, A);
        assertFalse(fmt.pteWrite(pte));
        assertTrue(fmt.pteDirty(pte), "pte_modify keeps the dirty bit");
        assertEquals(pfn, fmt.pfn(pte));
        assertEquals(0, pt.changeProtection(A, A + 4 * Pfn.PAGE_SIZE, VmFlags.VM_READ, tlb), "idempotent");
        tlb.finish();
        assertEquals(1, tlb.flushes());
        teardown();
    }

    @Test
    void moveRangeKeepsDataAndFlushesTheOldRangeUnderTheDestinationLock() {
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm); // this thread runs cpu: the flush is local and counted
        final long dst = 3 * GIB - 2 * Pfn.PAGE_SIZE; // straddles a PTE-page (and PMD) boundary
        final long[] pfns = new long[4];
        for (int i = 0; i < 4; i++) {
            pfns[i] = map(pt, A + i * Pfn.PAGE_SIZE, RW_SHARED, false);
            machine.memory().putLong(Pfn.physAddr(pfns[i]) + 64, 1000 + i);
        }
        final MmuGather tlb = new MmuGather(mm);
        // Each flush must run with both PTLs of its move held: the source's and the destination's.
        final List<String> heldAtFlush = new ArrayList<>();
        ((TestArch) machine.arch()).onFlush = () ->
                heldAtFlush.add(pt.ptl(pt.ptePa(A, false)).isHeldByCurrentThread() + "/"
                        + pt.ptl(pt.ptePa(dst, false)).isHeldByCurrentThread() + "/"
                        + pt.ptl(pt.ptePa(dst + 3 * Pfn.PAGE_SIZE, false)).isHeldByCurrentThread());
        assertEquals(4 * Pfn.PAGE_SIZE, pt.moveRange(A, dst, 4 * Pfn.PAGE_SIZE, tlb));
        ((TestArch) machine.arch()).onFlush = () -> {};
        tlb.finish();
        // The destination straddles a PTE page: two moves, the first under the lower destination
        // page's lock, the second under the upper one's.
        assertEquals(List.of("true/true/false", "true/false/true"), heldAtFlush);
        for (int i = 0; i < 4; i++) {
            assertEquals(0, pte(pt, A + i * Pfn.PAGE_SIZE));
            final long pte = pte(pt, dst + i * Pfn.PAGE_SIZE);
            assertEquals(pfns[i], fmt.pfn(pte));
            assertEquals(1000 + i, machine.memory().getLong(Pfn.physAddr(fmt.pfn(pte)) + 64));
            assertEquals(1, frames.mapcount(pfns[i]));
        }
        assertTrue(machine.vmstat().get(VmEvent.NR_TLB_LOCAL_FLUSH_ONE) >= 4, "the old range was flushed");
        assertEquals(0, oomMove(dst), "no destination table: nothing moved");
        assertEquals(pfns[0], fmt.pfn(pte(pt, dst)), "the entry stays where it was");
        teardown();
    }

    /** A move that needs new tables when none can be had. */
    private long oomMove(final long src) {
        final List<Long> hog = new ArrayList<>();
        long p;
        while ((p = frames.allocZeroed(0)) != FrameAllocator.NO_FRAME) {
            hog.add(p);
        }
        final MmuGather tlb = new MmuGather(mm);
        final long r = pt.moveRange(src, 7 * GIB, Pfn.PAGE_SIZE, tlb);
        tlb.finish();
        for (final long h : hog) {
            frames.put(0, h);
        }
        return r;
    }

    @Test
    void copyRangeForCowWriteProtectsParentAndChild() {
        final MmStruct child = new MmStruct(machine, LockingMode.PER_VMA);
        final long pfn = map(pt, A, RW_PRIVATE, true);
        final long zeroPa = pt.ptePa(A + Pfn.PAGE_SIZE, true);
        pt.setPte(zeroPa, fmt.pteMkspecial(fmt.pfnPte(frames.zeroPfn(), fmt.vmGetPageProt(RW_PRIVATE))));
        assertTrue(fmt.pteWrite(pte(pt, A)));
        final MmuGather tlb = new MmuGather(mm);
        assertEquals(1, pt.copyRange(child.pageTables(), A, A + 4 * Pfn.PAGE_SIZE, true, tlb));
        tlb.finish();
        assertEquals(1, tlb.flushes(), "the parent's write-protect is flushed");
        final long parentPte = pte(pt, A);
        final long childPte = pte(child.pageTables(), A);
        assertFalse(fmt.pteWrite(parentPte));
        assertFalse(fmt.pteWrite(childPte));
        assertFalse(fmt.pteYoung(childPte), "the child's copy is old");
        assertEquals(pfn, fmt.pfn(childPte));
        assertEquals(2, frames.refcount(pfn));
        assertEquals(2, frames.mapcount(pfn));
        assertTrue(fmt.pteSpecial(pte(child.pageTables(), A + Pfn.PAGE_SIZE)));
        assertEquals(4, child.pageTables().tableFrames());

        // Tear the child down: the frame survives in the parent.
        final MmuGather ctlb = new MmuGather(child);
        child.pageTables().zapRange(0, fmt.taskSize(), PageTables.ZAP_FLAG_DROP_MARKER, ctlb);
        child.pageTables().freePgtables(0, fmt.taskSize(), 0, 0, ctlb);
        ctlb.finish();
        child.exitMmap();
        assertEquals(1, frames.refcount(pfn));
        assertEquals(1, frames.mapcount(pfn));
        teardown();
    }

    @Test
    void copyRangeOfASharedMappingKeepsItWritable() {
        final MmStruct child = new MmStruct(machine, LockingMode.PER_VMA);
        map(pt, A, RW_SHARED, false);
        final MmuGather tlb = new MmuGather(mm);
        assertEquals(1, pt.copyRange(child.pageTables(), A, A + Pfn.PAGE_SIZE, false, tlb));
        tlb.finish();
        assertEquals(0, tlb.flushes());
        assertTrue(fmt.pteWrite(pte(pt, A)));
        assertTrue(fmt.pteWrite(pte(child.pageTables(), A)));
        final MmuGather ctlb = new MmuGather(child);
        child.pageTables().zapRange(0, fmt.taskSize(), PageTables.ZAP_FLAG_DROP_MARKER, ctlb);
        child.pageTables().freePgtables(0, fmt.taskSize(), 0, 0, ctlb);
        ctlb.finish();
        child.exitMmap();
        teardown();
    }
}
