package dev.vmsim.core.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Cross-process isolation after fork (catalogue I.8), the guard-regions selftests' {@code fork}
 * and {@code fork_cow}, with MADV_DONTNEED and with guard regions (MADV_GUARD_INSTALL /
 * MADV_GUARD_REMOVE): what a child does to its own page tables never reaches the parent's, and the
 * parent's guard markers are inherited by the child (copy_pte_marker).
 */
class ForkIsolationTest {
    private static final long P = 4096;
    private static final int PAGES = 4;
    private MmStruct parent;
    private MmStruct child;
    private Cpu cpu0;
    private Cpu cpu1;
    private long a;

    @BeforeEach
    void setUp() {
        parent = new MmStruct(TestArch.machine(256), LockingMode.PER_VMA);
        cpu0 = parent.machine().newCpu();
        cpu1 = parent.machine().newCpu();
        a = parent.mmap(
                0x2000_0000L,
                PAGES * P,
                Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
        cpu0.switchMm(parent);
        for (int i = 0; i < PAGES; i++) {
            assertEquals(SigInfo.OK, cpu0.store(a + i * P, (byte) (0x10 + i)));
        }
        child = parent.fork();
        assertNotNull(child);
        cpu1.switchMm(child);
    }

    @AfterEach
    void tearDown() {
        parent.validate();
        child.validate();
        child.exitMmap();
        parent.exitMmap();
    }

    private static long[] ptes(final MmStruct mm, final long a) {
        final long[] out = new long[PAGES];
        for (int i = 0; i < PAGES; i++) {
            final long pa = mm.pageTables().ptePa(a + i * P, false);
            out[i] = pa < 0 ? 0 : mm.pageTables().readPte(pa);
        }
        return out;
    }

    /**
     * ISO-01 (madvise half): after fork the child madvises (MADV_DONTNEED) the whole range; the
     * parent's PTEs are bit for bit what they were, its data is intact, and the child's range is
     * empty.
     */
    @Test
    void childMadviseLeavesTheParentsPageTablesUnchanged() {
        final long[] before = ptes(parent, a);
        assertEquals(0, child.madvise(a, PAGES * P, Mman.MADV_DONTNEED));
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(ptes(parent, a)));
        assertEquals("[0, 0, 0, 0]", java.util.Arrays.toString(ptes(child, a)), "the child's PTEs are gone");
        for (int i = 0; i < PAGES; i++) {
            assertEquals(0x10 + i, cpu0.load(a + i * P), "parent page " + i);
        }
    }

    /**
     * ISO-02 (fork_cow, madvise half): the child of a fork of populated anonymous memory zaps its
     * range (as guard-then-unguard does) and then sees zero pages; the parent still sees its data;
     * writes on either side afterwards stay on that side.
     */
    @Test
    void childZapSeesZeroesWhileTheParentKeepsItsData() {
        for (int i = 0; i < PAGES; i++) {
            assertEquals(0x10 + i, cpu1.load(a + i * P), "the child sees the parent's data before the zap");
        }
        assertEquals(0, child.madvise(a, PAGES * P, Mman.MADV_DONTNEED));
        for (int i = 0; i < PAGES; i++) {
            assertEquals(0, cpu1.load(a + i * P), "child page " + i + " is a zero page");
            assertEquals(0x10 + i, cpu0.load(a + i * P), "parent page " + i);
        }
        assertEquals(SigInfo.OK, cpu1.store(a, (byte) 0x77));
        assertEquals(SigInfo.OK, cpu0.store(a + P, (byte) 0x66));
        assertEquals(0x10, cpu0.load(a), "the child's write stays in the child");
        assertEquals(0, cpu1.load(a + P), "the parent's write stays in the parent");
        assertEquals(0x77, cpu1.load(a));
    }

    private static void assertGuarded(final Cpu cpu, final long va) {
        assertEquals(-1, Integer.signum(cpu.load(va)), "0x" + Long.toHexString(va) + " is guarded");
        assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal());
    }

    /**
     * ISO-01 (guard half): after fork the child installs guards over the whole range; the parent's
     * PTEs are bit for bit what they were and its data intact, while every child access is SIGSEGV.
     * Then the child removes them and sees zero pages (ISO-02's guard-then-unguard).
     */
    @Test
    void childGuardInstallLeavesTheParentsPageTablesUnchanged() {
        final long[] before = ptes(parent, a);
        assertEquals(0, child.madvise(a, PAGES * P, Mman.MADV_GUARD_INSTALL));
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(ptes(parent, a)));
        for (int i = 0; i < PAGES; i++) {
            assertGuarded(cpu1, a + i * P);
            assertEquals(0x10 + i, cpu0.load(a + i * P), "parent page " + i);
        }
        assertEquals(0, child.madvise(a, PAGES * P, Mman.MADV_GUARD_REMOVE));
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(ptes(parent, a)));
    }

    /**
     * ISO-02 (fork_cow, guard half): the child of a fork of populated anonymous memory guards then
     * unguards its range and sees zero pages; the parent still sees its data; writes on either side
     * afterwards stay on that side.
     */
    @Test
    void childGuardThenUnguardSeesZeroesWhileTheParentKeepsItsData() {
        assertEquals(0x12, cpu1.load(a + 2 * P), "the child sees the parent's data before the guard");
        assertEquals(0, child.madvise(a, PAGES * P, Mman.MADV_GUARD_INSTALL));
        assertEquals(0, child.madvise(a, PAGES * P, Mman.MADV_GUARD_REMOVE));
        for (int i = 0; i < PAGES; i++) {
            assertEquals(0, cpu1.load(a + i * P), "child page " + i + " is a zero page");
            assertEquals(0x10 + i, cpu0.load(a + i * P), "parent page " + i);
        }
        assertEquals(SigInfo.OK, cpu1.store(a, (byte) 0x77));
        assertEquals(0x10, cpu0.load(a), "the child's write stays in the child");
        assertEquals(0x77, cpu1.load(a));
    }

    /**
     * ISO-01: guard markers in the parent are inherited by a child forked after them (the VMA has
     * an anon_vma, so vma_needs_copy copies its tables, and copy_pte_marker keeps PTE_MARKER_GUARD);
     * the child's unguard leaves the parent's guard in place, and the parent's unguard the child's.
     */
    @Test
    void parentGuardsAreInheritedAndEachSideRemovesOnlyItsOwn() {
        assertEquals(0, parent.madvise(a + P, P, Mman.MADV_GUARD_INSTALL));
        final MmStruct second = parent.fork();
        assertNotNull(second);
        try {
            final Cpu cpu2 = parent.machine().newCpu();
            cpu2.switchMm(second);
            assertGuarded(cpu2, a + P);
            assertEquals(0x10, cpu2.load(a), "the unguarded pages are copied as usual");
            assertEquals(0, second.madvise(a + P, P, Mman.MADV_GUARD_REMOVE));
            assertEquals(0, cpu2.load(a + P));
            assertGuarded(cpu0, a + P);
            assertEquals(0, second.madvise(a + P, P, Mman.MADV_GUARD_INSTALL));
            assertEquals(0, parent.madvise(a + P, P, Mman.MADV_GUARD_REMOVE));
            assertGuarded(cpu2, a + P);
            assertEquals(0, cpu0.load(a + P));
        } finally {
            second.validate();
            second.exitMmap();
        }
    }
}
