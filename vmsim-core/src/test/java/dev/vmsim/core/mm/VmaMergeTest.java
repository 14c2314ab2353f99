package dev.vmsim.core.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.inject.FailSite;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.VmaOps.MergeState;
import dev.vmsim.core.mm.VmaOps.Vmg;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The VMA merge tests of tools/testing/vma (tests/merge.c), ported by name: VMAs are linked straight
 * into the tree with the flags, vm_ops and anon_vma a test gives them ({@code alloc_and_link_vma}),
 * and {@code vma_merge_new_range} / {@code vma_merge_existing_range} are called on a {@link Vmg}.
 * Each test asserts vm_start, vm_end, vm_pgoff, anon_vma, map_count, the merge state, and which
 * VMAs the merge write-locked: the VMAs are linked in one mmap write section and merged in the next,
 * so a VMA is write-locked in the second section only if the merge locked it ({@code vma_write_started}).
 */
class VmaMergeTest {
    private static final long F = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE;
    private static final VmOperations CLOSE = new VmOperations(null, v -> {});

    private MmStruct mm;
    /** map_count before the test's VMAs (the vdso). */
    private int base;

    @BeforeEach
    void setUp() {
        mm = new MmStruct(TestArch.machine(64), LockingMode.PER_VMA);
        base = mm.mapCount();
    }

    @AfterEach
    void tearDown() {
        mm.machine().failInject().clear();
        validateMm();
    }

    /**
     * validate_mm: the tree is valid, every entry's range is its VMA's, and the entries number
     * map_count. (MmStruct.validate also checks total_vm, which the test's direct linking, like the
     * kernel harness's, does not account.)
     */
    private void validateMm() {
        mm.mmMt().validate();
        final int[] n = {0};
        mm.mmMt().forEachRange((first, last, v) -> {
            assertEquals(v.vmStart, first, "tree index == vm_start");
            assertEquals(v.vmEnd - 1, last, "tree last == vm_end - 1");
            n[0]++;
        });
        assertEquals(mm.mapCount(), n[0], "map_count");
    }

    /** A test body, run under the mmap write lock (taken on the thread that runs the test). */
    private interface Body {
        void run();
    }

    private void underMmapWriteLock(final Body body) {
        mm.mmapLock().writeLock();
        try {
            body.run();
        } finally {
            mm.mmapLock().writeUnlock();
        }
    }

    /** alloc_and_link_vma: [start, end) with pgoff and flags, stored and counted. */
    private Vma link(final long start, final long end, final long pgoff, final long flags) {
        final Vma v = VmaOps.alloc(mm);
        v.vmStart = start;
        v.vmEnd = end;
        v.vmPgoff = pgoff;
        v.vmFlags = flags;
        VmaOps.storeNew(mm, v);
        mm.mapCount++;
        return v;
    }

    /** Ends the write section that linked the VMAs: from here on, write-locked means locked by the merge. */
    private void startMerging() {
        mm.mmapLock().writeUnlock();
        mm.mmapLock().writeLock();
    }

    /** merge_new: a new range [start, end) between the VMAs around it. */
    private Vmg newRange(final long start, final long end, final long pgoff, final long flags) {
        final Vmg vmg = new Vmg();
        vmg.start = start;
        vmg.end = end;
        vmg.pgoff = pgoff;
        vmg.flags = flags;
        vmg.prev = mm.vmaPrev(start);
        vmg.next = mm.findVma(end);
        return vmg;
    }

    /** merge_existing: [start, end) of {@code middle} given {@code flags}; prev is the VMA before start. */
    private Vmg existing(final Vma middle, final long start, final long end, final long flags) {
        final Vmg vmg = new Vmg();
        vmg.middle = middle;
        vmg.start = start;
        vmg.end = end;
        vmg.pgoff = middle.vmPgoff + ((start - middle.vmStart) >>> mm.pageShift());
        vmg.flags = flags;
        vmg.anonVma = middle.anonVma;
        vmg.prev = start == middle.vmStart ? mm.vmaPrev(start) : middle;
        return vmg;
    }

    private List<long[]> layout() {
        final List<long[]> out = new ArrayList<>();
        for (final Vma v : mm.vmas()) {
            if (v.vmStart < 0x100000) {
                out.add(new long[] {v.vmStart, v.vmEnd, v.vmPgoff});
            }
        }
        return out;
    }

    private int lowCount() {
        return layout().size();
    }

    private static void assertVma(final Vma v, final long start, final long end, final long pgoff) {
        assertEquals(start, v.vmStart, "vm_start");
        assertEquals(end, v.vmEnd, "vm_end");
        assertEquals(pgoff, v.vmPgoff, "vm_pgoff");
    }

    /**
     * MERGE-06 vma_merge_special_flags: VM_IO, VM_DONTEXPAND, VM_PFNMAP and VM_MIXEDMAP (together
     * VM_SPECIAL) each block a new-range merge and an existing-range merge that would otherwise
     * happen: NOMERGE, nothing changed, nothing write-locked.
     */
    @Test
    void vmaMergeSpecialFlags() {
        underMmapWriteLock(() -> {
            final long[] special = {VmFlags.VM_IO, VmFlags.VM_DONTEXPAND, VmFlags.VM_PFNMAP, VmFlags.VM_MIXEDMAP};
            long all = 0;
            for (final long s : special) {
                all |= s;
            }
            assertEquals(VmFlags.VM_SPECIAL, all, "no other VM_SPECIAL flag");
            final Vma left = link(0, 0x3000, 0, F);
            startMerging();
            for (final long s : special) {
                left.vmFlags = F | s;
                final Vmg vmg = newRange(0x3000, 0x4000, 3, F | s);
                assertNull(VmaOps.mergeNewRange(mm, vmg), Long.toHexString(s));
                assertEquals(MergeState.NOMERGE, vmg.state);
                assertVma(left, 0, 0x3000, 0);
                assertFalse(VmaLock.isWriteLocked(left));
            }
            final Vma vma = link(0x3000, 0x4000, 3, F);
            startMerging();
            for (final long s : special) {
                left.vmFlags = F | s;
                final Vmg vmg = existing(vma, 0x3000, 0x4000, F | s);
                assertNull(VmaOps.mergeExistingRange(mm, vmg), Long.toHexString(s));
                assertEquals(MergeState.NOMERGE, vmg.state);
                assertVma(left, 0, 0x3000, 0);
                assertVma(vma, 0x3000, 0x4000, 3);
                assertFalse(VmaLock.isWriteLocked(left));
            }
            assertEquals(2, mm.mapCount() - base);
            // Without the special flag the same modification merges: the test can tell the two apart.
            left.vmFlags = F;
            final Vmg vmg = existing(vma, 0x3000, 0x4000, F);
            assertSame(left, VmaOps.mergeExistingRange(mm, vmg));
            assertEquals(MergeState.SUCCESS, vmg.state);
            assertVma(left, 0, 0x4000, 0);
            assertEquals(1, mm.mapCount() - base);
        });
    }

    /**
     * MERGE-07 vma_merge_with_close: a VMA with vm_ops->close is never deleted by a merge.
     * (a) new range between prev and next(close): prev extends, next is kept;
     * (b) prev | vma(close) modified whole: NOMERGE; (c) vma(close) | next: NOMERGE;
     * (d) prev | vma(close) | next: NOMERGE; (e) prev | vma | next(close): prev and vma merge only.
     */
    @Test
    void vmaMergeWithClose() {
        underMmapWriteLock(() -> {
            // (a)
            Vma prev = link(0, 0x3000, 0, F);
            Vma next = link(0x5000, 0x9000, 5, F);
            next.vmOps = CLOSE;
            startMerging();
            Vmg vmg = newRange(0x3000, 0x5000, 3, F);
            assertSame(prev, VmaOps.mergeNewRange(mm, vmg));
            assertEquals(MergeState.SUCCESS, vmg.state);
            assertVma(prev, 0, 0x5000, 0);
            assertVma(next, 0x5000, 0x9000, 5);
            assertEquals(2, lowCount());
            cleanup();

            // (b)
            prev = link(0, 0x3000, 0, F);
            Vma vma = link(0x3000, 0x5000, 3, F);
            assertModifyingMiddleWithCloseDoesNotMerge(vma, prev, null);

            // (c)
            vma = link(0x3000, 0x5000, 3, F);
            next = link(0x5000, 0x9000, 5, F);
            assertModifyingMiddleWithCloseDoesNotMerge(vma, null, next);

            // (d)
            prev = link(0, 0x3000, 0, F);
            vma = link(0x3000, 0x5000, 3, F);
            next = link(0x5000, 0x9000, 5, F);
            assertModifyingMiddleWithCloseDoesNotMerge(vma, prev, next);

            // (e)
            prev = link(0, 0x3000, 0, F);
            vma = link(0x3000, 0x5000, 3, F);
            next = link(0x5000, 0x9000, 5, F);
            next.vmOps = CLOSE;
            startMerging();
            vmg = existing(vma, 0x3000, 0x5000, F);
            assertSame(prev, VmaOps.mergeExistingRange(mm, vmg));
            assertEquals(MergeState.SUCCESS, vmg.state);
            assertVma(prev, 0, 0x5000, 0);
            assertVma(next, 0x5000, 0x9000, 5);
            assertTrue(VmaLock.isWriteLocked(prev));
            assertEquals(2, lowCount());
        });
    }

    /**
     * Gives {@code vma} a close hook and modifies all of it with its own flags, which would merge it
     * into {@code prev} and/or {@code next} (either may be null): NOMERGE, nothing changed, neither
     * neighbour write-locked. Then cleans up.
     */
    private void assertModifyingMiddleWithCloseDoesNotMerge(final Vma vma, final Vma prev, final Vma next) {
        vma.vmOps = CLOSE;
        final int count = lowCount();
        startMerging();
        final Vmg vmg = existing(vma, vma.vmStart, vma.vmEnd, F);
        assertNull(VmaOps.mergeExistingRange(mm, vmg));
        assertEquals(MergeState.NOMERGE, vmg.state);
        assertEquals(count, lowCount());
        assertVma(vma, 0x3000, 0x5000, 3);
        for (final Vma v : new Vma[] {prev, next}) {
            if (v != null) {
                assertFalse(VmaLock.isWriteLocked(v));
            }
        }
        cleanup();
    }

    /**
     * MERGE-08 vma_merge_new_with_close: prev and next both have close, a new range between them →
     * prev extends to the new range's end and keeps its vm_ops, next stays, map_count 2.
     */
    @Test
    void vmaMergeNewWithClose() {
        underMmapWriteLock(() -> {
            final Vma prev = link(0, 0x2000, 0, F);
            final Vma next = link(0x5000, 0x7000, 5, F);
            prev.vmOps = CLOSE;
            next.vmOps = CLOSE;
            startMerging();
            final Vmg vmg = newRange(0x2000, 0x5000, 2, F);
            final Vma vma = VmaOps.mergeNewRange(mm, vmg);
            assertSame(prev, vma);
            assertEquals(MergeState.SUCCESS, vmg.state);
            assertVma(vma, 0, 0x5000, 0);
            assertSame(CLOSE, vma.vmOps);
            assertTrue(VmaLock.isWriteLocked(vma));
            assertVma(next, 0x5000, 0x7000, 5);
            assertEquals(2, lowCount());
            assertEquals(2, mm.mapCount() - base);
            // Without close on next the same range deletes it: the close rule is what kept it.
            cleanup();
            final Vma p2 = link(0, 0x2000, 0, F);
            link(0x5000, 0x7000, 5, F);
            startMerging();
            assertSame(p2, VmaOps.mergeNewRange(mm, newRange(0x2000, 0x5000, 2, F)));
            assertVma(p2, 0, 0x7000, 0);
            assertEquals(1, mm.mapCount() - base);
        });
    }

    /**
     * MERGE-12 / OOM-01 vmi_prealloc_fail: the tree preallocation of a merge fails (FailSite.MAPLE_NODE)
     * → NULL with ERROR_NOMEM, and the address space is exactly as before: ranges, pgoffs, map_count,
     * and prev has taken no anon_vma. Departure: the kernel duplicates the anon_vma onto prev before
     * commit_merge's vma_iter_prealloc and unlinks it again on failure (was_cloned and was_unlinked);
     * the simulator preallocates before dup_anon_vma, so there is nothing to unlink. Both for an
     * existing-range merge (merge_existing) and for the expansion a new-range merge makes (vma_expand).
     */
    @Test
    void vmiPreallocFail() {
        underMmapWriteLock(() -> {
            final AnonVma anon = new AnonVma(null);
            Vma prev = link(0, 0x3000, 0, F);
            Vma vma = link(0x3000, 0x5000, 3, F);
            vma.anonVma = anon;
            vma.anonVmaChainLength = 1;
            startMerging();
            final List<long[]> before = layout();
            mm.machine().failInject().failNth(FailSite.MAPLE_NODE, 0);
            Vmg vmg = existing(vma, 0x3000, 0x5000, F);
            assertNull(VmaOps.mergeExistingRange(mm, vmg));
            assertEquals(MergeState.ERROR_NOMEM, vmg.state);
            assertEquals(1, mm.machine().failInject().calls(FailSite.MAPLE_NODE));
            assertNull(prev.anonVma, "no anon_vma left on prev");
            assertSame(anon, vma.anonVma);
            assertSame(vma, mm.vmaLookup(0x3000), "the tree is unchanged");
            assertEquals(listString(before), listString(layout()));
            assertEquals(2, mm.mapCount() - base);
            cleanup();

            prev = link(0, 0x3000, 0, F);
            vma = link(0x4000, 0x5000, 4, F);
            vma.anonVma = anon;
            vma.anonVmaChainLength = 1;
            startMerging();
            final List<long[]> before2 = layout();
            mm.machine().failInject().failNth(FailSite.MAPLE_NODE, 0);
            vmg = newRange(0x3000, 0x4000, 3, F);
            assertNull(VmaOps.mergeNewRange(mm, vmg));
            assertEquals(MergeState.ERROR_NOMEM, vmg.state);
            assertNull(prev.anonVma);
            assertEquals(listString(before2), listString(layout()));
            assertFalse(VmaLock.isWriteLocked(prev), "nothing was locked for a change that did not happen");
            mm.machine().failInject().clear();
            // With the allocation allowed, the same merge takes next's anon_vma and deletes next.
            vmg = newRange(0x3000, 0x4000, 3, F);
            assertSame(prev, VmaOps.mergeNewRange(mm, vmg));
            assertSame(anon, prev.anonVma);
            assertVma(prev, 0, 0x5000, 0);
        });
    }

    /**
     * MERGE-15 expand_only_mode: with just_expand the merge extends prev and does not look past it:
     * neither the VMA before prev nor an adjacent next is touched (next would merge without it).
     * The kernel also checks that the iterator stays at prev's start; the simulator's VmaOps find
     * VMAs by address and keep no vma_iterator, so there is no iterator to check.
     */
    @Test
    void expandOnlyMode() {
        underMmapWriteLock(() -> {
            final Vma earlier = link(0, 0x2000, 0, F);
            final Vma prev = link(0x3000, 0x5000, 3, F);
            final Vma next = link(0x9000, 0xa000, 9, F);
            startMerging();
            final Vmg vmg = newRange(0x5000, 0x9000, 5, F);
            assertSame(prev, vmg.prev);
            assertSame(next, vmg.next);
            vmg.justExpand = true;
            final Vma vma = VmaOps.mergeNewRange(mm, vmg);
            assertSame(prev, vma);
            assertEquals(MergeState.SUCCESS, vmg.state);
            assertVma(vma, 0x3000, 0x9000, 3);
            assertTrue(VmaLock.isWriteLocked(vma));
            assertVma(earlier, 0, 0x2000, 0);
            assertFalse(VmaLock.isWriteLocked(earlier));
            assertVma(next, 0x9000, 0xa000, 9);
            assertFalse(VmaLock.isWriteLocked(next));
            assertEquals(3, mm.mapCount() - base);
            // The same expansion without just_expand also takes next.
            final Vmg full = newRange(0x9000, 0x9000, 9, F);
            full.prev = prev;
            full.next = next;
            assertSame(prev, VmaOps.mergeNewRange(mm, full));
            assertVma(prev, 0x3000, 0xa000, 3);
            assertEquals(2, mm.mapCount() - base);
        });
    }

    /**
     * vm_ops as the VMA code calls them: a split calls open for the new VMA, munmap's remove_vma calls
     * close once for every VMA it removes, (the merge rules are the tests above).
     */
    @Test
    void munmapClosesAndSplitOpens() {
        final List<Long> opened = new ArrayList<>();
        final List<Long> closed = new ArrayList<>();
        final VmOperations ops = new VmOperations(v -> opened.add(v.vmStart), v -> closed.add(v.vmStart));
        final long a = 0x40000;
        final int prot = Mman.PROT_READ | Mman.PROT_WRITE;
        final int flags = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED;
        assertEquals(a, mm.mmap(a, 4 * 0x1000, prot, flags));
        mm.vmaLookup(a).vmOps = ops;
        assertEquals(0, mm.munmap(a + 0x1000, 0x1000)); // splits, then removes the middle
        assertEquals(2, opened.size(), "one open per split");
        assertEquals(List.of(a + 0x1000), closed, "the removed middle is closed");
        assertEquals(0, mm.munmap(a, 4 * 0x1000));
        assertEquals(List.of(a + 0x1000, a, a + 0x2000), closed, "the two VMAs left are closed when removed");
    }

    /** vm_ops across mremap's move: copy_vma opens the copy, and removing the source closes it. */
    @Test
    void mremapMoveOpensTheCopyAndClosesTheSource() {
        final List<Long> opened = new ArrayList<>();
        final List<Long> closed = new ArrayList<>();
        final long a = 0x40000;
        final long b = 0x80000;
        assertEquals(
                a,
                mm.mmap(
                        a,
                        2 * 0x1000,
                        Mman.PROT_READ | Mman.PROT_WRITE,
                        Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED));
        mm.vmaLookup(a).vmOps = new VmOperations(v -> opened.add(v.vmStart), v -> closed.add(v.vmStart));
        assertEquals(b, mm.mremap(a, 2 * 0x1000, 2 * 0x1000, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, b));
        assertEquals(List.of(b), opened, "the copy at the destination is opened");
        assertEquals(List.of(a), closed, "the source is closed when it is unmapped");
        assertNull(mm.vmaLookup(a));
    }

    private static String listString(final List<long[]> l) {
        final StringBuilder b = new StringBuilder();
        for (final long[] r : l) {
            b.append(Long.toHexString(r[0]))
                    .append('-')
                    .append(Long.toHexString(r[1]))
                    .append('@')
                    .append(r[2])
                    .append(' ');
        }
        return b.toString();
    }

    /** cleanup_mm: removes every low VMA (write-locked, detached, freed) and starts a fresh write section. */
    private void cleanup() {
        for (final Vma v : mm.vmas()) {
            if (v.vmStart < 0x100000) {
                VmaOps.removeDetach(mm, v);
                mm.mapCount--;
            }
        }
        startMerging();
    }
}
