package dev.vmsim.core.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.swap.Swap;
import dev.vmsim.core.swap.SwapOut;
import dev.vmsim.core.swap.SwapParams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Guard regions (MADV_GUARD_INSTALL / MADV_GUARD_REMOVE, mm/madvise.c) and the PTE markers behind
 * them, as the mm selftests' guard-regions.c exercises them on anonymous memory: FAULT-14 (any
 * access to a guard page is a SIGSEGV with SEGV_MAPERR; the marker survives MADV_DONTNEED,
 * mprotect and mremap, and munmap removes it), ERR-MADV-01/02 (holes and mlocked ranges), and the
 * accounting rules: a marker holds no frame and no swap slot, so MM_SWAPENTS, swap_map and the frame
 * balance never see one. Each test ends with validate() on the machine and a frame balance after
 * exit.
 */
class GuardRegionTest {
    private static final long P = 4096;
    private static final long BASE = 0x2000_0000L;

    private final BalancedMachine balanced = new BalancedMachine();
    private final Machine machine = balanced.machine;
    private MmStruct mm;
    private Cpu cpu;

    @AfterEach
    void tearDown() {
        balanced.validateExitAndBalance(mm);
    }

    private void start(final LockingMode mode) {
        mm = new MmStruct(machine, mode);
        cpu = machine.newCpu();
        cpu.switchMm(mm);
    }

    private long map(final long addr, final long pages, final int prot, final int flags) {
        final long a = mm.mmap(addr, pages * P, prot, flags | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
        assertEquals(addr, a);
        return a;
    }

    private long mapRw(final long pages) {
        return map(BASE, pages, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE);
    }

    private static long pte(final MmStruct mm, final long va) {
        final long pa = mm.pageTables().ptePa(va, false);
        return pa < 0 ? 0 : mm.pageTables().readPte(pa);
    }

    private boolean guarded(final MmStruct m, final long va) {
        return m.pageTables().format().isGuardPteMarker(pte(m, va));
    }

    private void assertSegvMaperr(final Cpu c, final long va) {
        assertEquals(-1, Integer.signum(c.load(va)), "a read of 0x" + Long.toHexString(va) + " faults");
        assertEquals(SigInfo.SEGV_MAPERR_SIG, c.lastSignal(), "SIGSEGV with SEGV_MAPERR");
        assertEquals(SigInfo.SEGV_MAPERR_SIG, c.store(va, (byte) 1), "a write faults the same way");
    }

    /**
     * FAULT-14: a read and a write of a guard page on an empty range are SIGSEGV / SEGV_MAPERR, under
     * the per-VMA lock (handle_mm_fault's VM_FAULT_SIGSEGV ends the fault without a retry) and the
     * mmap lock alike; the neighbours are ordinary memory; the marker took no frame and no rss.
     */
    @ParameterizedTest
    @EnumSource(LockingMode.class)
    void faultOnAGuardPageIsSegvMaperr(final LockingMode mode) {
        start(mode);
        final long a = mapRw(4);
        final long frames = machine.frames().allocatedFrames();
        assertEquals(0, mm.madvise(a + P, P, Mman.MADV_GUARD_INSTALL));
        assertTrue(guarded(mm, a + P));
        final long tables = machine.frames().allocatedFrames() - frames;
        assertSegvMaperr(cpu, a + P);
        assertSegvMaperr(cpu, a + P + 123);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 5));
        assertEquals(SigInfo.OK, cpu.store(a + 2 * P, (byte) 6));
        assertEquals(5, cpu.load(a));
        assertEquals(frames + tables + 2, machine.frames().allocatedFrames(), "two data pages, no page for the marker");
        assertEquals(2, mm.anonRss());
        assertEquals(0, mm.swapEnts(), "a marker is not a swap entry");
        assertTrue(guarded(mm, a + P), "the fault left the marker in place");
    }

    /** FAULT-14: the marker is a swap PTE of type SWP_PTE_MARKER that names no slot. */
    @Test
    void theMarkerIsANonSwapEntry() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(1);
        assertEquals(0, mm.madvise(a, P, Mman.MADV_GUARD_INSTALL));
        final PageTableFormat fmt = mm.pageTables().format();
        final long pte = pte(mm, a);
        assertFalse(fmt.ptePresent(pte));
        assertTrue(fmt.isSwapPte(pte), "is_swap_pte holds for a marker");
        assertTrue(fmt.isPteMarker(pte));
        assertFalse(fmt.isSwapSlotPte(pte), "but it names no slot");
    }

    /** Installing over written pages discards their data; remove then read gives zeroes. */
    @Test
    void installOverDataZapsItAndRemoveThenReadGivesZeroes() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(3);
        for (int i = 0; i < 3; i++) {
            assertEquals(SigInfo.OK, cpu.store(a + i * P, (byte) (0x40 + i)));
        }
        assertEquals(0, mm.madvise(a, 2 * P, Mman.MADV_GUARD_INSTALL));
        assertEquals(1, mm.anonRss(), "the two guarded pages were zapped");
        assertSegvMaperr(cpu, a);
        assertEquals(0x42, cpu.load(a + 2 * P), "outside the range the data stays");
        assertEquals(0, mm.madvise(a, 3 * P, Mman.MADV_GUARD_REMOVE));
        assertFalse(guarded(mm, a));
        assertEquals(0, cpu.load(a), "the data under a guard is gone");
        assertEquals(0, cpu.load(a + P));
        assertEquals(0x42, cpu.load(a + 2 * P), "remove leaves a page that is no marker alone");
    }

    /** Installing twice is a no-op the second time (guard_install_pte_entry counts the marker). */
    @Test
    void installIsIdempotent() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(2);
        assertEquals(0, mm.madvise(a, 2 * P, Mman.MADV_GUARD_INSTALL));
        final long frames = machine.frames().allocatedFrames();
        assertEquals(0, mm.madvise(a, 2 * P, Mman.MADV_GUARD_INSTALL));
        assertEquals(frames, machine.frames().allocatedFrames());
        assertTrue(guarded(mm, a) && guarded(mm, a + P));
    }

    /** FAULT-14: MADV_DONTNEED keeps the marker (zap_page_range_single drops no marker). */
    @ParameterizedTest
    @EnumSource(LockingMode.class)
    void guardSurvivesDontneed(final LockingMode mode) {
        start(mode);
        final long a = mapRw(2);
        assertEquals(SigInfo.OK, cpu.store(a + P, (byte) 3));
        assertEquals(0, mm.madvise(a, P, Mman.MADV_GUARD_INSTALL));
        assertEquals(0, mm.madvise(a, 2 * P, Mman.MADV_DONTNEED));
        assertTrue(guarded(mm, a));
        assertSegvMaperr(cpu, a);
        assertEquals(0, cpu.load(a + P), "the neighbour was zapped");
    }

    /** FAULT-14: mprotect keeps the marker, through the split and the merge back. */
    @Test
    void guardSurvivesMprotectAndSplitMerge() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(4);
        final int vmas = mm.vmas().size();
        assertEquals(0, mm.madvise(a + P, P, Mman.MADV_GUARD_INSTALL));
        assertEquals(0, mm.mprotect(a + P, 2 * P, Mman.PROT_READ));
        assertEquals(vmas + 2, mm.vmas().size(), "split in three");
        assertTrue(guarded(mm, a + P));
        assertEquals(-1, Integer.signum(cpu.load(a + P)));
        assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal(), "MAPERR: the marker, not the protection, decides");
        assertEquals(0, mm.mprotect(a + P, 2 * P, Mman.PROT_READ | Mman.PROT_WRITE));
        assertEquals(vmas, mm.vmas().size(), "merged back");
        assertSegvMaperr(cpu, a + P);
    }

    /** FAULT-14: munmap drops the marker (ZAP_FLAG_DROP_MARKER), so a new mapping there is ordinary memory. */
    @Test
    void munmapAndRemapClearsTheGuard() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(2);
        assertEquals(0, mm.madvise(a, 2 * P, Mman.MADV_GUARD_INSTALL));
        assertEquals(0, mm.munmap(a, 2 * P));
        assertEquals(0, pte(mm, a), "no marker survives munmap");
        mapRw(2);
        assertEquals(0, cpu.load(a));
        assertEquals(SigInfo.OK, cpu.store(a + P, (byte) 9));
        assertEquals(9, cpu.load(a + P));
    }

    /** FAULT-14: mremap moves the markers with the pages (move_ptes moves every non-none entry). */
    @Test
    void mremapMovesTheGuard() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(2);
        assertEquals(SigInfo.OK, cpu.store(a + P, (byte) 7));
        assertEquals(0, mm.madvise(a, P, Mman.MADV_GUARD_INSTALL));
        final long b = BASE + 0x100_0000L;
        assertEquals(b, mm.mremap(a, 2 * P, 2 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, b));
        assertTrue(guarded(mm, b));
        assertSegvMaperr(cpu, b);
        assertEquals(7, cpu.load(b + P));
        assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.store(a, (byte) 1), "the old range is unmapped");
    }

    /** ERR-MADV-01: a hole answers ENOMEM, but the mapped parts get their markers. */
    @Test
    void aHoleAnswersEnomemAndTheMappedPartsAreGuarded() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(3);
        assertEquals(0, mm.munmap(a + P, P));
        assertEquals(-Errno.ENOMEM, mm.madvise(a, 3 * P, Mman.MADV_GUARD_INSTALL));
        assertTrue(guarded(mm, a));
        assertTrue(guarded(mm, a + 2 * P));
        assertEquals(-Errno.ENOMEM, mm.madvise(a, 3 * P, Mman.MADV_GUARD_REMOVE));
        assertFalse(guarded(mm, a) || guarded(mm, a + 2 * P));
    }

    /** ERR-MADV-02: install on an mlocked VMA is EINVAL; remove there is allowed. Bad ranges are EINVAL. */
    @Test
    void errnoRules() {
        start(LockingMode.PER_VMA);
        final long a = map(BASE, 2, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_LOCKED);
        assertEquals(-Errno.EINVAL, mm.madvise(a, P, Mman.MADV_GUARD_INSTALL));
        assertFalse(guarded(mm, a));
        assertEquals(0, mm.madvise(a, P, Mman.MADV_GUARD_REMOVE));
        assertEquals(-Errno.EINVAL, mm.madvise(a + 1, P, Mman.MADV_GUARD_INSTALL), "unaligned start");
        assertEquals(-Errno.EINVAL, mm.madvise(a, -P, Mman.MADV_GUARD_INSTALL), "a length that wraps");
        assertEquals(0, mm.madvise(a, 0, Mman.MADV_GUARD_INSTALL), "len 0 is 0 before the VMA check");
        assertEquals(-Errno.EINVAL, mm.madvise(a, P, 101), "an advice the kernel does not know");
        assertEquals(-Errno.ENOMEM, mm.madvise(BASE + 0x100_0000L, P, Mman.MADV_GUARD_INSTALL), "nothing mapped");
    }

    /**
     * Install gives an anonymous VMA its anon_vma (so vma_needs_copy copies the markers at fork) and
     * allocates the page tables the range lacks; munmap drops the markers, so free_pgtables finds the
     * tables empty and frees them (the frame balance in tearDown checks the rest).
     */
    @Test
    void installPreparesTheAnonVmaAndItsTables() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(4);
        assertEquals(null, mm.findVma(a).anonVma);
        final long tables = mm.pageTables().tableFrames();
        assertEquals(0, mm.madvise(a, 4 * P, Mman.MADV_GUARD_INSTALL));
        assertNotNull(mm.findVma(a).anonVma);
        assertTrue(mm.pageTables().tableFrames() > tables, "the walk allocated the PTE table");
        assertEquals(0, mm.munmap(a, 4 * P));
        assertEquals(tables, mm.pageTables().tableFrames(), "munmap dropped the markers and freed the tables");
    }

    /**
     * Install over swapped-out pages frees their slots (the zap's free_swap_and_cache) and MM_SWAPENTS
     * drops; the marker in their place never reaches swap_map. Swap.validate (in tearDown) counts
     * slots against swap PTEs and must not count the marker.
     */
    @Test
    void installOverSwapEntriesFreesTheSlots() {
        final Swap swap = machine.swapon(new SwapParams(64, 0, 0, 4, 0));
        start(LockingMode.PER_VMA);
        final long a = mapRw(2);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 1));
        assertEquals(SigInfo.OK, cpu.store(a + P, (byte) 2));
        final long free = swap.nrSwapPages();
        SwapOut.swapOut(mm, a);
        assertEquals(1, mm.swapEnts());
        assertEquals(free - 1, swap.nrSwapPages());
        assertEquals(0, mm.madvise(a, 2 * P, Mman.MADV_GUARD_INSTALL));
        assertEquals(0, mm.swapEnts());
        assertEquals(free, swap.nrSwapPages(), "the slot was freed");
        assertSegvMaperr(cpu, a);
        assertEquals(0, mm.madvise(a, 2 * P, Mman.MADV_GUARD_REMOVE));
        assertEquals(0, cpu.load(a + P), "the guarded neighbour lost its data too");
    }

    /** Remove on a range without markers changes nothing, present pages and swap PTEs included. */
    @Test
    void removeTouchesOnlyMarkers() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(2);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 8));
        final long before = pte(mm, a);
        assertEquals(0, mm.madvise(a, 2 * P, Mman.MADV_GUARD_REMOVE));
        assertEquals(before, pte(mm, a));
        assertEquals(8, cpu.load(a));
    }

    /** The OOM reaper's zap (no ZAP_FLAG_DROP_MARKER) keeps markers; exit (unmap_vmas) drops them. */
    @Test
    void zapFlagsDecideWhetherAMarkerGoes() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(1);
        assertEquals(0, mm.madvise(a, P, Mman.MADV_GUARD_INSTALL));
        final dev.vmsim.core.pgtable.MmuGather tlb = new dev.vmsim.core.pgtable.MmuGather(mm);
        mm.mmapLock().readLock();
        try {
            assertEquals(0, mm.pageTables().zapRange(a, a + P, 0, tlb));
            tlb.finish();
            assertTrue(guarded(mm, a));
            final dev.vmsim.core.pgtable.MmuGather tlb2 = new dev.vmsim.core.pgtable.MmuGather(mm);
            mm.pageTables().zapRange(a, a + P, PageTables.ZAP_FLAG_DROP_MARKER, tlb2);
            tlb2.finish();
        } finally {
            mm.mmapLock().readUnlock();
        }
        assertFalse(guarded(mm, a));
        assertEquals(0, cpu.load(a));
    }

    /** A shared anonymous mapping takes guards too (6.18: is_valid_guard_vma allows it), and fork copies them. */
    @Test
    void sharedMappingGuardIsInheritedAtFork() {
        start(LockingMode.PER_VMA);
        final long a = map(BASE, 2, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED);
        assertEquals(SigInfo.OK, cpu.store(a + P, (byte) 6));
        assertEquals(0, mm.madvise(a, P, Mman.MADV_GUARD_INSTALL));
        assertSegvMaperr(cpu, a);
        final MmStruct child = mm.fork();
        assertNotNull(child);
        try {
            final Cpu c = machine.newCpu();
            c.switchMm(child);
            assertSegvMaperr(c, a);
            assertEquals(6, c.load(a + P), "the shared page is shared");
        } finally {
            child.validate();
            child.exitMmap();
        }
    }

    /**
     * ISO-01's WIPEONFORK clause: a child forked after MADV_WIPEONFORK gets the range empty, guard
     * markers included (dup_mmap copies no page table of a VM_WIPEONFORK VMA), while the rest of the
     * mapping is copied as usual; MADV_KEEPONFORK merges the VMA back and the next child inherits
     * the guard again. WIPEONFORK on a shared mapping is EINVAL.
     */
    @Test
    void wipeOnForkChildInheritsNoGuard() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(4);
        for (int i = 0; i < 4; i++) {
            assertEquals(SigInfo.OK, cpu.store(a + i * P, (byte) (0x20 + i)));
        }
        assertEquals(0, mm.madvise(a + P, P, Mman.MADV_GUARD_INSTALL));
        final int vmas = mm.vmas().size();
        assertEquals(0, mm.madvise(a, 2 * P, Mman.MADV_WIPEONFORK));
        assertEquals(vmas + 1, mm.vmas().size(), "split at the end of the range");
        assertTrue((mm.findVma(a).vmFlags & VmFlags.VM_WIPEONFORK) != 0);
        assertTrue((mm.findVma(a + 2 * P).vmFlags & VmFlags.VM_WIPEONFORK) == 0);
        final MmStruct child = mm.fork();
        assertNotNull(child);
        final Cpu c = machine.newCpu();
        try {
            c.switchMm(child);
            assertEquals(0, c.load(a), "wiped");
            assertEquals(0, c.load(a + P), "wiped: no guard in the child");
            assertEquals(0x22, c.load(a + 2 * P), "copied");
            assertEquals(0x20, cpu.load(a), "the parent keeps its data");
            assertSegvMaperr(cpu, a + P);
        } finally {
            child.validate();
            child.exitMmap();
        }
        assertEquals(0, mm.madvise(a, 4 * P, Mman.MADV_KEEPONFORK));
        assertEquals(vmas, mm.vmas().size(), "merged back");
        final MmStruct second = mm.fork();
        assertNotNull(second);
        try {
            c.switchMm(second);
            assertSegvMaperr(c, a + P);
            assertEquals(0x20, c.load(a));
        } finally {
            second.validate();
            second.exitMmap();
        }
        final long s = map(BASE + 0x10_0000L, 1, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED);
        assertEquals(-Errno.EINVAL, mm.madvise(s, P, Mman.MADV_WIPEONFORK));
        assertEquals(0, mm.madvise(s, P, Mman.MADV_KEEPONFORK));
    }

    /**
     * A fault that repopulates the range after each zap makes the install give up after
     * MAX_MADVISE_GUARD_RETRIES walks with -ERESTARTNOINTR, which the system call never returns: it
     * is restarted (here the fourth walk finds the page once more, zaps it, and the fifth succeeds).
     */
    @Test
    void installRacedByFaultsRestartsTheSystemCall() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(1);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 1));
        final int[] zaps = {0};
        LockHooks.install(point -> {
            if (point.equals("madvise_guard_install:after_zap") && zaps[0]++ < Madvise.MAX_MADVISE_GUARD_RETRIES) {
                assertEquals(SigInfo.OK, cpu.store(a, (byte) 2), "the racing fault");
            }
        });
        try {
            assertEquals(0, mm.madvise(a, P, Mman.MADV_GUARD_INSTALL));
        } finally {
            LockHooks.install(null);
        }
        assertEquals(Madvise.MAX_MADVISE_GUARD_RETRIES + 1, zaps[0], "three zaps, the restart, one more");
        assertSegvMaperr(cpu, a);
    }

    /** A task killed while its install keeps being raced is not restarted: EINTR (the task dies on return). */
    @Test
    void aFatalSignalEndsTheRestartWithEintr() {
        start(LockingMode.PER_VMA);
        final long a = mapRw(1);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 1));
        final int[] calls = {0};
        LockHooks.install(point -> {
            if (point.equals("madvise_guard_install:after_zap")) {
                assertEquals(SigInfo.OK, cpu.store(a, (byte) 2));
                if (++calls[0] == Madvise.MAX_MADVISE_GUARD_RETRIES) {
                    Thread.currentThread().interrupt(); // SIGKILL arrives during the third walk
                }
            }
        });
        final int r;
        try {
            r = mm.madvise(a, P, Mman.MADV_GUARD_INSTALL);
        } finally {
            LockHooks.install(null);
            Thread.interrupted();
        }
        assertEquals(-Errno.EINTR, r);
        assertEquals(Madvise.MAX_MADVISE_GUARD_RETRIES, calls[0], "no restart");
        assertEquals(2, cpu.load(a), "the page of the last racing fault is still mapped");
    }
}
