package dev.vmsim.core.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.inject.FaultAttr;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The address-space system calls through the API, with errno values and VMA layouts as Linux 6.18. */
class MmStructTest {
    static final long P = 4096;
    static final int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    static final int ANON = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;
    static final int FIXED = ANON | Mman.MAP_FIXED;

    MmStruct mm;
    long top;

    @BeforeEach
    void setUp() {
        mm = new MmStruct(TestArch.machine(4096), LockingMode.PER_VMA);
        top = mm.mmapBase();
    }

    @AfterEach
    void validate() {
        mm.validate();
    }

    long map(final long addr, final long len, final int prot, final int flags) {
        return mm.mmap(addr, len, prot, flags);
    }

    long fixed(final long addr, final long pages) {
        final long r = map(addr, pages * P, RW, FIXED);
        assertEquals(addr, r);
        return r;
    }

    /** The VMAs below top as [start, end) pairs relative to top, lowest first. */
    List<Vma> arena() {
        final List<Vma> all = mm.vmas();
        all.removeIf(v -> v.vmStart >= top);
        return all;
    }

    @Test
    void layoutHasMmapBaseBelowStackTopAndASpecialMappingAboveIt() {
        assertEquals(mm.taskSize() - MmStruct.MIN_GAP, top);
        final Vma vdso = mm.vdso();
        assertEquals(top, vdso.vmStart);
        assertTrue((vdso.vmFlags & VmFlags.VM_SPECIAL) != 0);
        assertEquals(1, mm.mapCount());
    }

    @Test
    void placementIsTopDownInTheHighestGap() {
        final long a = map(0, 4 * P, RW, ANON);
        assertEquals(top - 4 * P, a);
        final long b = map(0, 2 * P, Mman.PROT_READ, ANON);
        assertEquals(top - 6 * P, b);
        assertEquals(0, mm.munmap(a, 2 * P));
        final long c = map(0, P, Mman.PROT_READ, ANON);
        assertEquals(top - 3 * P, c, "the highest gap that fits, not the lowest");
    }

    @Test
    void placementKeepsTheGuardGapBelowAGrowsdownVma() {
        final long s = map(0, 16 * P, RW, ANON | Mman.MAP_GROWSDOWN);
        assertEquals(top - 16 * P, s);
        final long a = map(0, P, RW, ANON);
        assertEquals(s - mm.stackGuardGap() - P, a);
    }

    @Test
    void hintIsTakenWhenFreeAndIgnoredWhenNot() {
        final long want = top - 0x100000;
        assertEquals(want, map(want, P, RW, ANON));
        assertEquals(top - P, map(want, P, RW, ANON));
        assertEquals(mm.pageAlign(mm.mmapMinAddr()), map(P, P, RW, ANON), "round_hint_to_min");
    }

    @Test
    void fixedReplacesWhateverItOverlaps() {
        final long a = fixed(top - 0x10000, 8);
        mm.mmap(a + 2 * P, 2 * P, Mman.PROT_READ, FIXED);
        final List<Vma> v = arena();
        assertEquals(3, v.size());
        assertEquals(Mman.PROT_READ, (int) (v.get(1).vmFlags & VmFlags.VM_ACCESS_FLAGS));
        assertEquals(a + 2 * P, v.get(1).vmStart);
    }

    @Test
    void fixedNoreplaceFailsWithEexistOnAnyOverlapButNotWhenAdjacent() {
        final long a = fixed(top - 0x10000, 4);
        final int nr = ANON | Mman.MAP_FIXED_NOREPLACE;
        assertEquals(-Errno.EEXIST, map(a, 4 * P, RW, nr));
        assertEquals(-Errno.EEXIST, map(a + P, P, RW, nr));
        assertEquals(-Errno.EEXIST, map(a - P, 2 * P, RW, nr));
        assertEquals(-Errno.EEXIST, map(a + 3 * P, 2 * P, RW, nr));
        assertEquals(a + 4 * P, map(a + 4 * P, P, RW, nr));
        assertEquals(a - P, map(a - P, P, RW, nr));
    }

    @Test
    void mmapErrnos() {
        assertEquals(-Errno.EINVAL, map(0, 0, RW, ANON), "ERR-MMAP-01");
        assertEquals(-Errno.ENOMEM, map(0, -1L, RW, ANON), "ERR-MMAP-02");
        assertEquals(-Errno.EINVAL, map(0, P, RW, Mman.MAP_ANONYMOUS), "ERR-MMAP-05");
        assertEquals(
                -Errno.EINVAL,
                map(0, P, RW, Mman.MAP_SHARED_VALIDATE | Mman.MAP_ANONYMOUS),
                "ERR-MMAP-05: do_mmap knows MAP_SHARED_VALIDATE only for a file");
        assertEquals(1, mm.mapCount(), "no mapping made by the refused calls");
        assertEquals(-Errno.EINVAL, map(top - 0x10000 + 1, P, RW, FIXED), "ERR-MMAP-04");
        assertEquals(-Errno.ENOMEM, map(mm.taskSize() - P, 2 * P, RW, FIXED), "ERR-MMAP-08");
        assertEquals(-Errno.ENOMEM, map(0, mm.taskSize() + P, RW, ANON), "ERR-MMAP-08 len");
        assertEquals(-Errno.EPERM, map(P, P, RW, FIXED), "ERR-MMAP-09");
        assertEquals(-Errno.EINVAL, map(0, P, RW, Mman.MAP_SHARED | Mman.MAP_ANONYMOUS | Mman.MAP_GROWSDOWN));
    }

    @Test
    void munmapErrnosAndNoops() {
        final long a = fixed(top - 0x10000, 4);
        assertEquals(-Errno.EINVAL, mm.munmap(a + 1, P), "ERR-MUNMAP-01 unaligned");
        assertEquals(-Errno.EINVAL, mm.munmap(a, 0), "ERR-MUNMAP-01 zero");
        assertEquals(-Errno.EINVAL, mm.munmap(mm.taskSize() + P, P), "ERR-MUNMAP-01 start");
        assertEquals(-Errno.EINVAL, mm.munmap(a, mm.taskSize()), "ERR-MUNMAP-01 len");
        assertEquals(0, mm.munmap(top - 0x100000, P), "ERR-MUNMAP-02");
        assertEquals(0, mm.munmap(a, 1), "the length rounds up");
        assertEquals(a + P, arena().get(0).vmStart);
    }

    @Test
    void munmapOfTheMiddleSplitsAndTheLimitIsEnforced() {
        final long a = fixed(top - 0x10000, 8);
        assertEquals(0, mm.munmap(a + P, P));
        assertEquals(2, arena().size());
        mm.setMaxMapCount(mm.mapCount());
        assertEquals(-Errno.ENOMEM, mm.munmap(a + 4 * P, P), "ERR-MUNMAP-03: middle of a VMA at the limit");
        assertEquals(0, mm.munmap(a + 7 * P, P), "a tail needs no extra VMA");
        assertEquals(0, mm.munmap(a + 2 * P, P), "nor a head");
        assertEquals(2, arena().size());
    }

    @Test
    void mprotectErrnosAndTheHoleCase() {
        final long a = fixed(top - 0x10000, 2);
        fixed(a + 3 * P, 1);
        assertEquals(-Errno.EINVAL, mm.mprotect(a + 1, P, Mman.PROT_READ), "ERR-MPROT-01");
        assertEquals(0, mm.mprotect(a, 0, Mman.PROT_READ), "len 0");
        assertEquals(-Errno.ENOMEM, mm.mprotect(-P, 2 * P, Mman.PROT_READ), "wraps");
        assertEquals(-Errno.EINVAL, mm.mprotect(a, P, Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP));
        assertEquals(-Errno.EINVAL, mm.mprotect(a, P, 0x40));
        assertEquals(-Errno.ENOMEM, mm.mprotect(a - P, 2 * P, Mman.PROT_READ), "unmapped at the start");
        assertEquals(-Errno.ENOMEM, mm.mprotect(a, 4 * P, Mman.PROT_READ), "ERR-MPROT-02");
        final List<Vma> v = arena();
        assertEquals(VmFlags.VM_READ, v.get(0).vmFlags & VmFlags.VM_ACCESS_FLAGS, "changed before the hole");
        assertEquals(RW, (int) (v.get(1).vmFlags & VmFlags.VM_ACCESS_FLAGS), "not after it");
        mm.setMaxMapCount(mm.mapCount());
        assertEquals(
                -Errno.ENOMEM,
                mm.mprotect(a + 3 * P, P, Mman.PROT_READ) == 0 ? mm.mprotect(a, P, RW) : -1,
                "ERR-MPROT-04: a split at the limit");
    }

    @Test
    void mprotectSplitsThenMergesBackToOneVma() {
        final long a = fixed(top - 0x10000, 3);
        final Vma orig = mm.vmaLookup(a);
        assertEquals(0, mm.mprotect(a + P, P, Mman.PROT_READ));
        final List<Vma> v = arena();
        assertEquals(3, v.size());
        assertSame(orig, v.get(1), "MERGE-02: the middle is the original VMA");
        assertEquals(v.get(1).vmStart >>> 12, v.get(1).vmPgoff);
        assertEquals(0, mm.mprotect(a + P, P, RW));
        assertEquals(1, arena().size());
        assertEquals(a >>> 12, arena().get(0).vmPgoff);
    }

    /**
     * MERGE-05 merge_new (tools/testing/vma), every step with the kernel's layout, offsets relative to
     * a base {@code b} (anonymous pgoff = address >> 12, so pgoff b/0x1000 + offset/0x1000):
     *
     * <pre>
     *   0123456789abc
     *   AA B   **  CC    isolated new range: no merge, 4 VMAs
     *   AA*B   DD  CC    both sides: A absorbs the new range and B, 3 VMAs
     *   AAAA*  DD  CC    into prev
     *   AAAAA *DD  CC    into next: D prepends, pgoff of the new range
     *   AAAAA*DDD  CC    both sides again: D deleted, 2 VMAs
     *   AAAAAAAAA *CC    into next (C)
     *   AAAAAAAAA*CCC    both sides: one VMA [0, 0xc000), pgoff of A, 1 VMA
     * </pre>
     */
    @Test
    void mergeNewFollowsTheKernelsSteps() {
        final long b = top - 0x100000;
        fixed(b, 2);
        fixed(b + 0x3000, 1);
        fixed(b + 0xb000, 1);
        final long[][] steps = {
            // new range start, pages, VMAs left in the window, then the VMA holding the new range: start, end
            {0x7000, 2, 4, 0x7000, 0x9000},
            {0x2000, 1, 3, 0x0000, 0x4000},
            {0x4000, 1, 3, 0x0000, 0x5000},
            {0x6000, 1, 3, 0x6000, 0x9000},
            {0x5000, 1, 2, 0x0000, 0x9000},
            {0xa000, 1, 2, 0xa000, 0xc000},
            {0x9000, 1, 1, 0x0000, 0xc000},
        };
        for (final long[] st : steps) {
            fixed(b + st[0], st[1]);
            final List<Vma> window = mm.vmas();
            window.removeIf(v -> v.vmStart < b || v.vmEnd > b + 0xd000);
            assertEquals(st[2], window.size(), "after mapping +" + Long.toHexString(st[0]));
            final Vma merged = mm.vmaLookup(b + st[0]);
            assertEquals(b + st[3], merged.vmStart, "start after +" + Long.toHexString(st[0]));
            assertEquals(b + st[4], merged.vmEnd, "end after +" + Long.toHexString(st[0]));
            assertEquals(merged.vmStart >>> 12, merged.vmPgoff, "pgoff follows the start");
        }
        assertEquals(b >>> 12, mm.vmaLookup(b).vmPgoff);
    }

    /**
     * MERGE-16 mmap_region_basic: 3 pages at 0x300000 and at 0x250000, then 3 at 0x303000 and at
     * 0x24d000 → two VMAs, [0x300000, 0x306000) pgoff 0x300 and [0x24d000, 0x253000) pgoff 0x24d.
     */
    @Test
    void mmapRegionBasic() {
        fixed(0x300000, 3);
        fixed(0x250000, 3);
        fixed(0x303000, 3);
        fixed(0x24d000, 3);
        final List<Vma> low = mm.vmas();
        low.removeIf(v -> v.vmStart >= 0x400000);
        assertEquals(2, low.size());
        assertEquals(0x24d000, low.get(0).vmStart);
        assertEquals(0x253000, low.get(0).vmEnd);
        assertEquals(0x24d, low.get(0).vmPgoff);
        assertEquals(0x300000, low.get(1).vmStart);
        assertEquals(0x306000, low.get(1).vmEnd);
        assertEquals(0x300, low.get(1).vmPgoff);
    }

    /**
     * SIG-09: the exit path is not killable: exit_mmap with a fatal signal pending still frees every
     * page-table page and VMA (free_pgtables must finish).
     */
    @Test
    void exitMmapFinishesWithAFatalSignalPending() throws Exception {
        final long a = fixed(top - 0x10000, 4);
        final dev.vmsim.core.cpu.Cpu cpu = mm.machine().newCpu();
        cpu.switchMm(mm);
        for (int i = 0; i < 4; i++) {
            assertEquals(0, cpu.store(a + i * P, (byte) 1));
        }
        final MmStruct victim = mm;
        final Throwable[] failed = new Throwable[1];
        final Thread t = new Thread(() -> {
            Thread.currentThread().interrupt(); // SIGKILL already pending
            try {
                victim.exitMmap();
            } catch (final Throwable e) {
                failed[0] = e;
            }
        });
        t.start();
        t.join(10_000);
        assertFalse(t.isAlive());
        assertEquals(null, failed[0]);
        assertEquals(0, mm.mapCount());
        assertEquals(0, mm.anonRss());
        assertEquals(0, mm.pageTables().tableFrames(), "every page-table page freed");
        mm = new MmStruct(TestArch.machine(64), LockingMode.PER_VMA); // for the @AfterEach validate
    }

    /**
     * ISO-06 / MERGE-17 fork variant: a VMA inherited through fork (its anon_vma chained to the
     * parent's) merges with no fresh neighbour in the child, on either side; the same maps in the
     * parent merge into one VMA.
     */
    @Test
    void aForkedVmaMergesWithNoFreshNeighbourInTheChild() {
        final long a = fixed(top - 0x10000, 2);
        final dev.vmsim.core.cpu.Cpu cpu = mm.machine().newCpu();
        cpu.switchMm(mm);
        assertEquals(0, cpu.store(a, (byte) 1)); // anon_vma set
        final MmStruct child = mm.fork();
        final MmStruct parent = mm;
        for (final MmStruct m : new MmStruct[] {parent, child}) {
            assertEquals(a + 2 * P, m.mmap(a + 2 * P, P, RW, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | FIXED));
            assertEquals(a - P, m.mmap(a - P, P, RW, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | FIXED));
            m.validate();
        }
        assertEquals(a - P, parent.vmaLookup(a).vmStart, "parent: one VMA [a-P, a+3P)");
        assertEquals(a + 3 * P, parent.vmaLookup(a).vmEnd);
        final Vma forked = child.vmaLookup(a);
        assertEquals(a, forked.vmStart, "child: the forked VMA stands alone");
        assertEquals(a + 2 * P, forked.vmEnd);
        assertTrue(forked.anonVmaChainLength > 1, "vma_is_fork_child");
        child.exitMmap();
    }

    /** A CPU running this test's mm. */
    private dev.vmsim.core.cpu.Cpu cpuOnMm() {
        final dev.vmsim.core.cpu.Cpu cpu = mm.machine().newCpu();
        cpu.switchMm(mm);
        return cpu;
    }

    /** FAULT-08: a PROT_NONE VMA below the stack enforces no guard gap: the stack grows up to it. */
    @Test
    void stackGrowsUpToAProtNoneVmaBelowIt() {
        final long st = fixed(top - 0x100000, 4);
        assertEquals(0, mm.munmap(st, 4 * P));
        assertEquals(st, map(st, 4 * P, RW, FIXED | Mman.MAP_GROWSDOWN));
        assertEquals(st - 3 * P, map(st - 3 * P, P, Mman.PROT_NONE, FIXED));
        final dev.vmsim.core.cpu.Cpu cpu = cpuOnMm();
        assertEquals(0, cpu.load(st - 2 * P), "grown into the 2-page gap above the PROT_NONE VMA");
        assertEquals(st - 2 * P, mm.vmaLookup(st).vmStart);
    }

    /** FAULT-09: growth below mmap_min_addr fails (-EPERM): SIGSEGV, the stack unchanged. */
    @Test
    void stackGrowthBelowMmapMinAddrIsSegv() {
        final long st = mm.mmapMinAddr();
        assertEquals(st, map(st, 4 * P, RW, FIXED | Mman.MAP_GROWSDOWN));
        final dev.vmsim.core.cpu.Cpu cpu = cpuOnMm();
        assertEquals(-1, cpu.load(st - P));
        assertEquals(dev.vmsim.core.arch.SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal());
        assertEquals(st, mm.vmaLookup(st).vmStart);
    }

    /** FAULT-10: growth past RLIMIT_STACK (acct_stack_growth: -ENOMEM) is SIGSEGV; up to it is fine. */
    @Test
    void stackGrowthPastRlimitStackIsSegv() {
        mm.setRlimitStack(8 * P);
        final long st = fixed(top - 0x100000, 4);
        assertEquals(0, mm.munmap(st, 4 * P));
        assertEquals(st, map(st, 4 * P, RW, FIXED | Mman.MAP_GROWSDOWN));
        final dev.vmsim.core.cpu.Cpu cpu = cpuOnMm();
        assertEquals(-1, cpu.load(st - 5 * P), "9 pages > RLIMIT_STACK");
        assertEquals(dev.vmsim.core.arch.SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal());
        assertEquals(st, mm.vmaLookup(st).vmStart);
        assertEquals(0, cpu.load(st - 4 * P), "8 pages: exactly the limit");
        assertEquals(st - 4 * P, mm.vmaLookup(st).vmStart);
    }

    @Test
    void newRangeMergesWithBothNeighbours() {
        // MERGE-01: a new range between compatible neighbours merges them.
        final long a = fixed(top - 0x10000, 1);
        fixed(a + 2 * P, 1);
        assertEquals(2, arena().size());
        fixed(a + P, 1);
        assertEquals(1, arena().size());
        assertEquals(a >>> 12, arena().get(0).vmPgoff);
        assertEquals(a + 3 * P, arena().get(0).vmEnd);
    }

    @Test
    void mremapExtendMergesWithNext() {
        // MERGE-13: [0,1P) and [3P,4P); extend the first to 3P → one VMA.
        final long a = fixed(top - 0x10000, 1);
        fixed(a + 3 * P, 1);
        assertEquals(a, mm.mremap(a, P, 3 * P, 0, 0));
        assertEquals(1, arena().size());
        assertEquals(a + 4 * P, arena().get(0).vmEnd);
    }

    @Test
    void differentAnonVmasDoNotMergeButAnUnfaultedNeighbourMergesWithEither() {
        // MERGE-10 / MERGE-17.
        final long a = fixed(top - 0x10000, 1);
        final long c = fixed(a + 2 * P, 1);
        mm.vmaLookup(a).anonVmaPrepare();
        mm.vmaLookup(c).anonVmaPrepare();
        fixed(a + P, 1);
        final List<Vma> v = arena();
        assertEquals(2, v.size(), "prev+new merge only; next keeps its own anon_vma");
        assertEquals(a + 2 * P, v.get(0).vmEnd);
        assertNotSame(v.get(0).anonVma, v.get(1).anonVma);
    }

    @Test
    void mprotectMergeTakesTheFaultedNeighboursAnonVma() {
        final long a = fixed(top - 0x10000, 2);
        assertEquals(0, mm.mprotect(a + P, P, Mman.PROT_READ));
        mm.vmaLookup(a).anonVmaPrepare();
        final AnonVma av = mm.vmaLookup(a).anonVma;
        assertEquals(0, mm.mprotect(a + P, P, RW));
        assertEquals(1, arena().size());
        assertSame(av, arena().get(0).anonVma);
    }

    @Test
    void sharedAnonymousMappingsNeverMergeButTheirPiecesDo() {
        final int sh = Mman.MAP_SHARED | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED;
        final long a = map(top - 0x10000, 2 * P, RW, sh);
        map(a + 2 * P, 2 * P, RW, sh);
        assertEquals(2, arena().size());
        assertNotSame(arena().get(0).vmFile, arena().get(1).vmFile);
        assertEquals(0, arena().get(1).vmPgoff, "shared anonymous pgoff starts at 0");
        assertEquals(0, mm.mprotect(a + P, P, Mman.PROT_READ));
        assertEquals(3, arena().size());
        assertEquals(0, mm.mprotect(a + P, P, RW));
        assertEquals(2, arena().size());
    }

    @Test
    void growsdownAndPlainVmasDoNotMerge() {
        final long s = map(top - 0x10000, 2 * P, RW, FIXED | Mman.MAP_GROWSDOWN);
        fixed(s - 2 * P, 2);
        fixed(s + 2 * P, 2);
        assertEquals(3, arena().size());
    }

    @Test
    void mremapShrinkGrowAndMove() {
        final long a = fixed(top - 0x40000, 4);
        assertEquals(a, mm.mremap(a, 4 * P, 2 * P, 0, 0));
        assertEquals(a + 2 * P, arena().get(0).vmEnd);
        assertEquals(a, mm.mremap(a, 2 * P, 3 * P, 0, 0), "grows in place");
        assertEquals(a + 3 * P, map(a + 3 * P, P, Mman.PROT_READ, FIXED));
        assertEquals(-Errno.ENOMEM, mm.mremap(a, 3 * P, 8 * P, 0, 0), "ERR-MREMAP-03");
        mm.vmaLookup(a).anonVmaPrepare();
        final long m = mm.mremap(a, 3 * P, 8 * P, Mman.MREMAP_MAYMOVE, 0);
        assertEquals(top - 8 * P, m);
        assertNull(mm.vmaLookup(a));
        assertEquals(a >>> 12, mm.vmaLookup(m).vmPgoff, "a faulted VMA keeps its pgoff when moved");
    }

    /** Maps a fresh anonymous page at {@code va} as a write fault would; returns its frame. */
    long populate(final long va) {
        final Vma v = mm.vmaLookup(va);
        v.anonVmaPrepare();
        final var pt = mm.pageTables();
        final var fmt = pt.format();
        final var frames = mm.machine().frames();
        final long pfn = frames.allocZeroed(0);
        frames.incMapcount(pfn);
        pt.setPte(pt.ptePa(va, true), fmt.pteMkwrite(fmt.pteMkdirty(fmt.pfnPte(pfn, v.vmPageProt))));
        mm.addAnonRss(1);
        return pfn;
    }

    /** The frame the PTE for {@code va} maps, or -1 if there is none. */
    long mappedPfn(final long va) {
        final var pt = mm.pageTables();
        final long pa = pt.ptePa(va, false);
        return pa < 0 || pt.format().pteNone(pt.readPte(pa)) ? -1 : pt.format().pfn(pt.readPte(pa));
    }

    @Test
    void mremapMoveThatRunsOutOfPageTablesMovesTheEntriesBackAndUnmapsTheNewArea() {
        //  src: 8 pages straddling a PTE-page boundary, all faulted in
        //  dst: the same offset in an empty 1 GiB region: a PMD table and two PTE tables to allocate
        final long pteSpan = 512 * P;
        final long src = ((top - 0x40000000L) & -pteSpan) - 4 * P;
        final long dst = src - 0x100000000L;
        fixed(src, 8);
        final long[] pfns = new long[8];
        for (int i = 0; i < 8; i++) {
            pfns[i] = populate(src + i * P);
        }
        final long totalVm = mm.totalVm();
        final int mapCount = mm.mapCount();
        final long tables = mm.pageTables().tableFrames();
        // The PMD table and the first PTE table are allocated, the second PTE table is not:
        // move_page_tables stops after the first 4 pages.
        final FaultAttr fail = FaultAttr.nth(2, 1);
        mm.machine().frames().setFailPageAlloc(fail);
        final long r = mm.mremap(src, 8 * P, 8 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, dst);
        mm.machine().frames().setFailPageAlloc(null);
        assertEquals(-Errno.ENOMEM, r);
        assertEquals(1, fail.failures(), "the injected failure was the one that stopped the move");
        assertNull(mm.findVmaIntersection(dst, dst + 8 * P), "the new area is unmapped");
        final Vma v = mm.vmaLookup(src);
        assertEquals(src, v.vmStart);
        assertEquals(src + 8 * P, v.vmEnd);
        for (int i = 0; i < 8; i++) {
            assertEquals(pfns[i], mappedPfn(src + i * P), "page " + i + " is back where it was");
            assertEquals(-1, mappedPfn(dst + i * P), "page " + i + " left nothing at the destination");
        }
        assertEquals(totalVm, mm.totalVm(), "total_vm");
        assertEquals(mapCount, mm.mapCount(), "map_count");
        assertEquals(tables, mm.pageTables().tableFrames(), "the destination's tables are freed with it");
        mm.validate();
        assertEquals(
                dst,
                mm.mremap(src, 8 * P, 8 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, dst),
                "with memory the same move succeeds");
        for (int i = 0; i < 8; i++) {
            assertEquals(pfns[i], mappedPfn(dst + i * P));
        }
    }

    @Test
    void mremapMoveOfAnMlockedVmaKeepsItsLockedVm() {
        final long a = map(top - 0x40000, 4 * P, RW, FIXED | Mman.MAP_LOCKED);
        map(a + 4 * P, P, Mman.PROT_READ, FIXED);
        assertEquals(4, mm.lockedVm());
        final long m = mm.mremap(a, 4 * P, 8 * P, Mman.MREMAP_MAYMOVE, 0);
        assertTrue(m != a && !Errno.isError(m), "moved: the page after it is taken");
        assertEquals(8, mm.lockedVm(), "vrm_stat_account counts the mlocked destination");
    }

    @Test
    void mremapErrnos() {
        final long a = fixed(top - 0x40000, 2);
        assertEquals(-Errno.EINVAL, mm.mremap(a + 1, P, P, 0, 0), "unaligned");
        assertEquals(-Errno.EINVAL, mm.mremap(a, P, 0, 0, 0), "new_len 0");
        assertEquals(-Errno.EINVAL, mm.mremap(a, P, P, 8, 0), "unknown flag");
        assertEquals(-Errno.EINVAL, mm.mremap(a, P, P, Mman.MREMAP_FIXED, top - 0x80000), "FIXED without MAYMOVE");
        assertEquals(
                -Errno.EINVAL, mm.mremap(a, 2 * P, 2 * P, Mman.MREMAP_FIXED | Mman.MREMAP_MAYMOVE, a + P), "overlap");
        assertEquals(-Errno.EINVAL, mm.mremap(a, P, 2 * P, Mman.MREMAP_DONTUNMAP | Mman.MREMAP_MAYMOVE, 0));
        assertEquals(-Errno.EFAULT, mm.mremap(top - 0x80000, P, 2 * P, 0, 0), "ERR-MREMAP-02 unmapped");
        assertEquals(-Errno.EFAULT, mm.mremap(a, 4 * P, 8 * P, Mman.MREMAP_MAYMOVE, 0), "beyond the VMA");
        assertEquals(-Errno.EINVAL, mm.mremap(a, 0, P, Mman.MREMAP_MAYMOVE, 0), "duplicate a private mapping");
    }

    @Test
    void mremapShrinkAcrossSeveralVmasAndGapsSucceeds() {
        // ERR-MREMAP-05.
        final long a = fixed(top - 0x40000, 2);
        fixed(a + 3 * P, 2);
        fixed(a + 6 * P, 2);
        assertEquals(a, mm.mremap(a, 8 * P, P, 0, 0));
        assertEquals(1, arena().size());
        assertEquals(a + P, arena().get(0).vmEnd);
    }

    @Test
    void madviseOverAHoleAppliesToTheMappedPartsThenFailsEnomem() {
        final long a = fixed(top - 0x40000, 1);
        fixed(a + 2 * P, 1);
        assertEquals(-Errno.ENOMEM, mm.madvise(a, 3 * P, Mman.MADV_DONTNEED), "ERR-MADV-01");
        assertEquals(0, mm.madvise(a, P, Mman.MADV_DONTNEED));
        assertEquals(-Errno.EINVAL, mm.madvise(a + 1, P, Mman.MADV_DONTNEED));
        assertEquals(-Errno.EINVAL, mm.madvise(a, P, 12345));
        assertEquals(0, mm.madvise(a, 0, Mman.MADV_DONTNEED));
    }

    @Test
    void mapCountLimitStopsSplitsAndNewMappings() {
        final long a = fixed(top - 0x40000, 3);
        mm.setMaxMapCount(mm.mapCount());
        assertEquals(-Errno.ENOMEM, mm.mprotect(a + P, P, Mman.PROT_READ), "split at the limit");
        assertEquals(2, mm.mapCount());
        assertEquals(top - P, map(0, P, RW, ANON), "map_count == max still maps (the check is >)");
        assertEquals(-Errno.ENOMEM, map(0, P, Mman.PROT_READ, ANON));
    }

    @Test
    void brkGrowsMergesAndShrinks() {
        final long start = mm.startBrk();
        assertEquals(start, mm.brk(0));
        assertEquals(start + 100, mm.brk(start + 100));
        assertEquals(1, mm.vmas().stream().filter(v -> v.vmStart == start).count());
        assertEquals(start + 3 * P, mm.brk(start + 3 * P));
        final Vma heap = mm.vmaLookup(start);
        assertEquals(start + 3 * P, heap.vmEnd, "the brk VMA is extended, not duplicated");
        assertEquals(start + P, mm.brk(start + P));
        assertEquals(start + P, mm.vmaLookup(start).vmEnd);
        assertEquals(start + P, mm.brk(start - P), "ERR-BRK-01: below start_brk returns the old break");
        fixed(start + 2 * P, 1);
        assertEquals(start + P, mm.brk(start + 3 * P), "growth into a mapping fails");
    }

    @Test
    void forkCopiesEveryVmaAndGivesFaultedOnesTheirOwnAnonVma() {
        final long a = fixed(top - 0x40000, 2);
        fixed(a + 4 * P, 1);
        mm.vmaLookup(a).anonVmaPrepare();
        final MmStruct child = mm.fork();
        assertNotNull(child);
        child.validate();
        assertEquals(mm.mapCount(), child.mapCount());
        assertEquals(mm.totalVm(), child.totalVm());
        final Vma cv = child.vmaLookup(a);
        assertNotSame(mm.vmaLookup(a), cv);
        assertSame(mm.vmaLookup(a).anonVma, cv.anonVma.parent);
        assertTrue(cv.isForkChild());
        // MERGE-17: the fork child's faulted VMA does not merge with a fresh neighbour.
        assertEquals(a + 2 * P, child.mmap(a + 2 * P, P, RW, FIXED));
        assertEquals(
                2,
                child.vmas().stream()
                        .filter(v -> v.vmStart >= a && v.vmEnd <= a + 3 * P)
                        .count());
        // ... while in the parent it does.
        fixed(a + 2 * P, 1);
        assertEquals(a + 3 * P, mm.vmaLookup(a).vmEnd);
        child.validate();
        child.exitMmap();
        assertEquals(0, child.mapCount());
    }

    @Test
    void forkCopiesAnonymousPtesCopyOnWrite() {
        final long a = fixed(top - 0x40000, 1);
        final long pfn = populate(a);
        final var pt = mm.pageTables();
        final var fmt = pt.format();
        final var frames = mm.machine().frames();
        mm.validate();
        final MmStruct child = mm.fork();
        final long parentPte = pt.readPte(pt.ptePa(a, false));
        final long childPte = child.pageTables().readPte(child.pageTables().ptePa(a, false));
        assertTrue(fmt.ptePresent(childPte));
        assertEquals(pfn, fmt.pfn(childPte), "the child maps the parent's page");
        assertTrue(!fmt.pteWrite(parentPte) && !fmt.pteWrite(childPte), "both sides write-protected (COW)");
        assertEquals(2, frames.mapcount(pfn));
        child.validate();
        child.exitMmap();
        assertEquals(1, frames.mapcount(pfn), "the child's exit drops its mapping");
    }

    @Test
    void exitMmapDetachesEverything() {
        final long a = fixed(top - 0x40000, 2);
        final Vma v = mm.vmaLookup(a);
        mm.exitMmap();
        assertEquals(0, v.refcnt());
        assertEquals(0, mm.mapCount());
        assertNull(mm.findVma(0));
    }

    @Test
    void validateCatchesAWritablePteInAReadOnlyVma() {
        final long a = map(top - 0x40000, P, Mman.PROT_READ, FIXED);
        final var pt = mm.pageTables();
        final long pfn = mm.machine().frames().allocZeroed(0);
        mm.machine().frames().incMapcount(pfn);
        final long ptep = pt.ptePa(a, true);
        pt.setPte(
                ptep, pt.format().pteMkwrite(pt.format().pfnPte(pfn, pt.format().vmGetPageProt(VmFlags.VM_READ))));
        mm.addAnonRss(1);
        final IllegalStateException e =
                org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, mm::validate);
        assertTrue(e.getMessage().contains("writable PTE"), e.getMessage());
        assertEquals(0, mm.mprotect(a, P, RW), "once the VMA is writable the PTE is consistent");
        mm.validate();
        assertEquals(0, mm.munmap(a, P));
    }

    @Test
    void validateCatchesAStrayPteOutsideEveryVmaAndAnRssMismatch() {
        final long a = map(top - 0x40000, P, RW, FIXED);
        final var pt = mm.pageTables();
        final var fmt = pt.format();
        final var frames = mm.machine().frames();
        final long pfn = frames.allocZeroed(0);
        frames.incMapcount(pfn);
        final long hole = a + 4 * P;
        pt.setPte(pt.ptePa(hole, true), fmt.pfnPte(pfn, fmt.vmGetPageProt(VmFlags.VM_READ)));
        final IllegalStateException stray =
                org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, mm::validate);
        assertTrue(stray.getMessage().contains("stray PTE"), stray.getMessage());
        pt.setPte(pt.ptePa(hole, false), 0);
        pt.setPte(pt.ptePa(a, false), fmt.pfnPte(pfn, fmt.vmGetPageProt(VmFlags.VM_READ)));
        final IllegalStateException rss =
                org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, mm::validate);
        assertTrue(rss.getMessage().contains("rss"), rss.getMessage());
        mm.addAnonRss(1);
        mm.validate();
        assertEquals(0, mm.munmap(a, P));
        mm.validate();
    }

    @Test
    void findVmaAndFriends() {
        final long a = fixed(top - 0x40000, 2);
        final long b = fixed(a + 4 * P, 1);
        assertSame(mm.vmaLookup(b), mm.findVma(a + 2 * P));
        assertNull(mm.vmaLookup(a + 2 * P));
        final Vma[] vp = mm.findVmaPrev(a + 3 * P);
        assertSame(mm.vmaLookup(b), vp[0]);
        assertSame(mm.vmaLookup(a), vp[1]);
        assertSame(mm.vmaLookup(a), mm.findVmaIntersection(a + P, b));
        assertNull(mm.findVmaIntersection(a + 2 * P, b));
    }

    @Test
    void expandDownwardsHonoursGuardGapRlimitAndMinAddr() {
        final long s = map(top - 0x400000, 4 * P, RW, FIXED | Mman.MAP_GROWSDOWN);
        final Vma stack = mm.vmaLookup(s);
        final long below = fixed(s - 0x200000, 1);
        mm.mmapLock().writeLock();
        try {
            assertEquals(0, mm.expandDownwards(stack, s - P));
            assertEquals(s - P, stack.vmStart);
            assertNotNull(stack.anonVma, "expansion prepares the anon_vma");
            assertEquals(-Errno.ENOMEM, mm.expandDownwards(stack, below + P + 0x10000), "guard gap");
            assertEquals(-Errno.EFAULT, mm.expandDownwards(mm.vmaLookup(below), below - P));
            assertEquals(-Errno.EPERM, mm.expandDownwards(stack, P));
            mm.setRlimitStack(8 * P);
            assertEquals(-Errno.ENOMEM, mm.expandDownwards(stack, s - 8 * P), "RLIMIT_STACK");
            assertEquals(0, mm.expandDownwards(stack, s - 4 * P));
        } finally {
            mm.mmapLock().writeUnlock();
        }
        assertEquals(0, mm.mprotect(below, P, Mman.PROT_NONE));
        mm.setRlimitStack(MmStruct.DEFAULT_RLIMIT_STACK);
        mm.mmapLock().writeLock();
        try {
            assertEquals(0, mm.expandDownwards(stack, below + P + 0x10000), "no guard against an inaccessible VMA");
        } finally {
            mm.mmapLock().writeUnlock();
        }
    }
}
