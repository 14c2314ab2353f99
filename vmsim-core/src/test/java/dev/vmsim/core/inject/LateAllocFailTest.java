package dev.vmsim.core.inject;

import static dev.vmsim.core.inject.AllocFailSweepTest.BASE;
import static dev.vmsim.core.inject.AllocFailSweepTest.PAGE;
import static dev.vmsim.core.inject.AllocFailSweepTest.normalise;
import static dev.vmsim.core.inject.AllocFailSweepTest.setup;
import static dev.vmsim.core.inject.AllocFailSweepTest.state;
import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.testing.TestArch;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The VMA-object allocation failures of the catalogue's OOM family that have one documented outcome
 * each, on the setup of {@link AllocFailSweepTest} (8 written pages at BASE): munmap's split
 * (OOM-07) and a MAP_FIXED replacement failing before or after the old PTEs are cleared (OOM-08,
 * ERR-MMAP-12).
 */
class LateAllocFailTest {
    /** pfn of every present PTE of [BASE, BASE + 8 pages), -1 where none. */
    private static long[] pfns(final MmStruct mm) {
        final long[] out = new long[8];
        final var fmt = mm.pageTables().format();
        for (int i = 0; i < 8; i++) {
            final long pa = mm.pageTables().ptePa(BASE + i * PAGE, false);
            final long pte = pa < 0 ? 0 : mm.pageTables().readPte(pa);
            out[i] = fmt.ptePresent(pte) ? fmt.pfn(pte) : -1;
        }
        return out;
    }

    /**
     * OOM-07: munmap of the middle of a VMA whose split cannot allocate its VMA object
     * (FailSite.VMA_ALLOC) returns -ENOMEM and the address space is unchanged: every page still
     * mapped, to the same frame, with the same flags. A failure at the first split changes nothing
     * at all; one at the second leaves the first split in place, as vms_gather_munmap_vmas does
     * (two VMAs with the flags and contiguous pgoff of the one before).
     */
    @Test
    @Timeout(30)
    void munmapSplitFailureLeavesTheAddressSpaceUnchanged() {
        for (int skip = 0; skip < 2; skip++) {
            final Machine machine = TestArch.machine(512);
            try {
                final MmStruct mm = setup(machine);
                final List<String> before = state(mm);
                final long[] frames = pfns(mm);
                final int count = mm.mapCount();
                machine.failInject().failNth(FailSite.VMA_ALLOC, skip);
                assertEquals(-Errno.ENOMEM, mm.munmap(BASE + 2 * PAGE, 2 * PAGE), "split " + skip);
                assertEquals(1, machine.failInject().get(FailSite.VMA_ALLOC).failures());
                machine.failInject().clear();
                if (skip == 0) {
                    assertEquals(before, state(mm), "nothing was split");
                } else {
                    assertEquals(normalise(before), normalise(state(mm)), "only the first split remains");
                    assertEquals(count + 1, mm.mapCount(), "two VMAs where there was one");
                }
                assertEquals(java.util.Arrays.toString(frames), java.util.Arrays.toString(pfns(mm)));
                mm.validate();
            } finally {
                machine.close();
            }
        }
    }

    /**
     * OOM-08 / ERR-MMAP-12: MAP_FIXED over the middle of a written mapping, with a protection that
     * cannot merge, needs three VMA objects (two splits, then __mmap_new_vma). If the first split
     * fails, nothing has been detached: -ENOMEM and the old mapping stands (the reattach case). If
     * the new VMA's allocation fails, the old PTEs are already cleared (vms_clean_up_area in
     * __mmap_setup), so vms_abort_munmap_vmas leaves a gap: -ENOMEM, no VMA and no page in the
     * range, the pages around it untouched, and the gap's frames and accounting released.
     */
    @Test
    @Timeout(30)
    void mapFixedReplacementFailingLateLeavesAGap() {
        final long addr = BASE + 2 * PAGE;
        final long len = 2 * PAGE;
        long calls;
        Machine machine = TestArch.machine(512);
        try {
            final MmStruct mm = setup(machine);
            machine.failInject().count(FailSite.VMA_ALLOC);
            assertEquals(addr, mm.mmap(addr, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
            calls = machine.failInject().calls(FailSite.VMA_ALLOC);
            machine.failInject().clear();
        } finally {
            machine.close();
        }
        assertEquals(3, calls, "two splits and the new VMA");

        machine = TestArch.machine(512);
        try {
            final MmStruct mm = setup(machine);
            final List<String> before = state(mm);
            machine.failInject().failNth(FailSite.VMA_ALLOC, 0);
            assertEquals(-Errno.ENOMEM, mm.mmap(addr, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
            machine.failInject().clear();
            assertEquals(before, state(mm), "an early failure changes nothing");
            mm.validate();
        } finally {
            machine.close();
        }

        machine = TestArch.machine(512);
        try {
            final MmStruct mm = setup(machine);
            final long[] frames = pfns(mm);
            final long rss = mm.anonRss();
            final long totalVm = mm.totalVm();
            final long used = machine.frames().allocatedFrames();
            machine.failInject().failNth(FailSite.VMA_ALLOC, 2);
            assertEquals(-Errno.ENOMEM, mm.mmap(addr, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
            machine.failInject().clear();
            assertNull(mm.findVmaIntersection(addr, addr + len), "a gap where the MAP_FIXED mapping failed");
            final long[] after = pfns(mm);
            for (int i = 0; i < 8; i++) {
                if (i == 2 || i == 3) {
                    assertEquals(-1, after[i], "page " + i + " of the gap is unmapped");
                } else {
                    assertEquals(frames[i], after[i], "page " + i + " keeps its frame");
                }
            }
            final Vma below = mm.vmaLookup(BASE);
            final Vma above = mm.vmaLookup(addr + len);
            assertEquals(addr, below.vmEnd);
            assertEquals(addr + len, above.vmStart);
            assertEquals((addr + len) >>> 12, above.vmPgoff, "the part above keeps its file offset");
            assertEquals(rss - 2, mm.anonRss());
            assertEquals(totalVm - 2, mm.totalVm());
            assertTrue(machine.frames().allocatedFrames() <= used - 2, "the gap's two frames are free");
            assertEquals(
                    addr,
                    mm.mmap(addr, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
                    "the gap can be mapped again");
            mm.validate();
        } finally {
            machine.close();
        }
    }
}
