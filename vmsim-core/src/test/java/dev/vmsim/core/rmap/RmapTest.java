package dev.vmsim.core.rmap;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static dev.vmsim.core.testing.Faults.pte;
import static dev.vmsim.core.testing.Faults.writeFault;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.fault.VmFault;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.AnonVma;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.testing.LeakCheck;
import dev.vmsim.core.testing.OneSlotSwap;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Anonymous reverse mapping: the anon_vma chains fork, split and exit build, and the walks over them. */
@Timeout(30)
class RmapTest {
    private static final long PAGE = 4096;

    private final Machine machine = TestArch.machine(4096);
    private final FrameAllocator frames = machine.frames();

    private long mapAndWrite(final MmStruct mm, final int pages) {
        final long a = mm.mmap(0, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(a > 0);
        for (int i = 0; i < pages; i++) {
            assertEquals(0, writeFault(mm, a + i * PAGE));
        }
        return a;
    }

    @Test
    @LeakCheck.Skip(
            "reclaim stopped by hand after try_to_unmap: the isolation reference and the test swap's cache reference stay")
    void afterForkTheRmapWalkFindsParentAndBothChildrenAndTryToUnmapClearsAllWithOneBatchedFlush() {
        final MmStruct parent = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mapAndWrite(parent, 4);
        final MmStruct child1 = parent.fork();
        final MmStruct child2 = parent.fork();
        machine.vmscan().lruAddDrainAll(); // the lru_add batch's references go
        final PageTableFormat fmt = parent.pageTables().format();
        final long pfn = fmt.pfn(pte(parent, a + PAGE));
        assertEquals(3, frames.mapcount(pfn));
        assertEquals(3, Rmap.countMappings(frames, pfn), "parent + 2 children");
        assertFalse(frames.memMap().test(pfn, PageFlags.PG_ANON_EXCLUSIVE), "shared at fork");
        assertSame(parent.findVma(a).anonVma, Rmap.folioAnonVma(frames.memMap(), pfn));

        final List<Long> installed = new ArrayList<>();
        machine.setSwapBackend(new OneSlotSwap(frames, installed));
        frames.get(pfn); // the reclaimer's reference (isolation)
        frames.folioWait().lock(pfn);
        assertTrue(machine.swapBackend().addToSwap(0, pfn));
        final TlbUnmapBatch batch = new TlbUnmapBatch();
        assertTrue(Rmap.tryToUnmap(machine, pfn, Rmap.TTU_BATCH_FLUSH, batch));
        assertEquals(0, frames.mapcount(pfn));
        assertEquals(3, installed.size());
        for (final MmStruct mm : List.of(parent, child1, child2)) {
            assertEquals(0x7000, pte(mm, a + PAGE), "the swap PTE in " + mm);
            assertEquals(1, mm.swapEnts());
            assertEquals(3, mm.anonRss());
        }
        assertTrue(batch.flushRequired(), "nothing flushed yet: TTU_BATCH_FLUSH");
        assertEquals(0, batch.flushes());
        batch.flush();
        assertEquals(1, batch.flushes(), "one try_to_unmap_flush for the three mms");
        assertEquals(2, frames.refcount(pfn), "the isolation's and the swap cache's references are all that is left");
        assertEquals(0, Rmap.countMappings(frames, pfn));
        frames.folioWait().unlock(pfn);
        // the other pages are still found in all three
        assertEquals(3, Rmap.countMappings(frames, fmt.pfn(pte(parent, a))));
    }

    @Test
    void aCopyOnWriteInAChildIsMappedByTheChildAloneUnderItsOwnAnonVma() {
        final MmStruct parent = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mapAndWrite(parent, 2);
        final MmStruct child = parent.fork();
        assertEquals(0, writeFault(child, a));
        final PageTableFormat fmt = child.pageTables().format();
        final long copy = fmt.pfn(pte(child, a));
        final long orig = fmt.pfn(pte(parent, a));
        assertNotEquals(orig, copy);
        assertSame(child.findVma(a).anonVma, Rmap.folioAnonVma(frames.memMap(), copy));
        assertSame(parent.findVma(a).anonVma, child.findVma(a).anonVma.parent);
        assertEquals(1, Rmap.countMappings(frames, copy), "the parent's anon_vma tree does not hold the child's copy");
        assertEquals(1, Rmap.countMappings(frames, orig));
        assertTrue(frames.memMap().test(copy, PageFlags.PG_ANON_EXCLUSIVE));
        assertEquals(1, Rmap.linearPageIndex(child.findVma(a), a + PAGE) - Rmap.linearPageIndex(child.findVma(a), a));
    }

    @Test
    void chainsFollowForkSplitAndExit() {
        final MmStruct parent = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mapAndWrite(parent, 8);
        final AnonVma root = parent.findVma(a).anonVma;
        assertSame(root, root.root);
        assertEquals(1, root.refcount());
        final MmStruct child1 = parent.fork();
        final MmStruct child2 = parent.fork();
        assertEquals(2, child1.findVma(a).anonVmaChain.size());
        assertEquals(3, root.treeChains().size(), "parent, child1, child2");
        assertEquals(3, root.refcount(), "its own and one per child anon_vma");
        assertEquals(3, root.numChildren, "the self-link and two children");

        assertEquals(0, child1.munmap(a + 3 * PAGE, PAGE)); // split: two VMAs, each chained twice
        assertEquals(2, child1.vmas().stream().filter(v -> v.anonVma != null).count());
        assertEquals(4, root.treeChains().size());
        for (final MmStruct mm : List.of(parent, child1, child2)) {
            mm.validate();
        }
        final long pfn = child1.pageTables().format().pfn(pte(parent, a + 5 * PAGE));
        assertEquals(3, Rmap.countMappings(frames, pfn), "found through the upper half of child1's split VMA");
        assertEquals(
                2,
                frames.mapcount(child1.pageTables().format().pfn(pte(parent, a + 3 * PAGE))),
                "child1 unmapped its copy of page 3");

        final AnonVma child2Own = child2.findVma(a).anonVma;
        child2.exitMmap();
        assertEquals(3, root.treeChains().size());
        assertEquals(0, child2Own.refcount(), "its tree emptied: put_anon_vma");
        assertEquals(2, root.refcount());
        child1.exitMmap();
        assertEquals(1, root.treeChains().size());
        assertEquals(1, root.refcount());
        parent.validate();
        machine.vmscan().lruAddDrainAll();
        machine.validate();
        parent.exitMmap();
        assertEquals(0, root.refcount());
        machine.vmscan().lruAddDrainAll();
        assertEquals(0, frames.allocatedFrames(), "every frame went back");
    }

    @Test
    void aWriteFaultNeedsTheAnonVmaAndOomWithoutOne() {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mm.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        machine.failInject().failNth(dev.vmsim.core.inject.FailSite.ANON_VMA, 0);
        assertEquals(VmFault.VM_FAULT_OOM, writeFault(mm, a));
        machine.failInject().clear();
        assertTrue(mm.findVma(a).anonVmaChain.isEmpty(), "nothing linked on failure");
        assertEquals(0, writeFault(mm, a));
        assertEquals(1, mm.findVma(a).anonVmaChain.size());
        mm.validate();
    }
}
