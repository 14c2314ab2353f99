package dev.vmsim.core.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.pgtable.PageTableFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * MADV_POPULATE_READ / MADV_POPULATE_WRITE (madvise_populate → faultin_page_range, mm/gup.c): the
 * range is faulted in through the ordinary fault path, and FOLL_MADV_POPULATE's errno rules hold:
 * FAULT-15 (a guard marker in the range is EFAULT, after the pages before it were populated), a VMA
 * without the permission is EINVAL, a hole is ENOMEM.
 */
class MadvisePopulateTest {
    private static final long P = 4096;
    private static final long BASE = 0x2000_0000L;

    private final BalancedMachine balanced = new BalancedMachine();
    private final Machine machine = balanced.machine;
    private MmStruct mm;
    private Cpu cpu;

    @BeforeEach
    void setUp() {
        mm = new MmStruct(machine, LockingMode.PER_VMA);
        cpu = machine.newCpu();
        cpu.switchMm(mm);
    }

    @AfterEach
    void tearDown() {
        balanced.validateExitAndBalance(mm);
    }

    private long map(final long pages, final int prot) {
        final long a = mm.mmap(BASE, pages * P, prot, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
        assertEquals(BASE, a);
        return a;
    }

    private long pte(final long va) {
        final long pa = mm.pageTables().ptePa(va, false);
        return pa < 0 ? 0 : mm.pageTables().readPte(pa);
    }

    /** POPULATE_WRITE gives every page its own writable page: rss counts them, no fault is left. */
    @Test
    void populateWriteMapsWritablePages() {
        final long a = map(4, Mman.PROT_READ | Mman.PROT_WRITE);
        assertEquals(0, mm.madvise(a, 4 * P, Mman.MADV_POPULATE_WRITE));
        assertEquals(4, mm.anonRss());
        final PageTableFormat fmt = mm.pageTables().format();
        for (int i = 0; i < 4; i++) {
            assertTrue(fmt.ptePresent(pte(a + i * P)) && fmt.pteWrite(pte(a + i * P)), "page " + i);
        }
    }

    /** POPULATE_READ maps the pages readable (the zero page here: no rss) and keeps the data of written ones. */
    @Test
    void populateReadMapsReadablePages() {
        final long a = map(3, Mman.PROT_READ | Mman.PROT_WRITE);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 4));
        assertEquals(0, mm.madvise(a, 3 * P, Mman.MADV_POPULATE_READ));
        final PageTableFormat fmt = mm.pageTables().format();
        assertTrue(fmt.ptePresent(pte(a + P)) && fmt.ptePresent(pte(a + 2 * P)));
        assertEquals(1, mm.anonRss(), "read faults map the zero page");
        assertEquals(4, cpu.load(a));
    }

    /** FAULT-15: a guard marker in the range gives EFAULT; the pages before it were populated, those after not. */
    @Test
    void populateOverAGuardIsEfault() {
        final long a = map(4, Mman.PROT_READ | Mman.PROT_WRITE);
        assertEquals(0, mm.madvise(a + 2 * P, P, Mman.MADV_GUARD_INSTALL));
        assertEquals(-Errno.EFAULT, mm.madvise(a, 4 * P, Mman.MADV_POPULATE_WRITE));
        assertEquals(-Errno.EFAULT, mm.madvise(a + 2 * P, P, Mman.MADV_POPULATE_READ));
        final PageTableFormat fmt = mm.pageTables().format();
        assertTrue(fmt.ptePresent(pte(a)) && fmt.ptePresent(pte(a + P)), "populated up to the guard");
        assertTrue(fmt.isGuardPteMarker(pte(a + 2 * P)), "the guard stays");
        assertEquals(0, pte(a + 3 * P), "nothing beyond it");
        assertEquals(2, mm.anonRss());
        assertEquals(0, mm.madvise(a + 2 * P, P, Mman.MADV_GUARD_REMOVE));
        assertEquals(0, mm.madvise(a, 4 * P, Mman.MADV_POPULATE_WRITE), "without the guard it succeeds");
        assertEquals(4, mm.anonRss());
    }

    /** check_vma_flags refusals are EINVAL under FOLL_MADV_POPULATE: a write of a read-only VMA, a read of PROT_NONE. */
    @Test
    void aVmaWithoutThePermissionIsEinval() {
        final long a = map(2, Mman.PROT_READ);
        assertEquals(-Errno.EINVAL, mm.madvise(a, 2 * P, Mman.MADV_POPULATE_WRITE));
        assertEquals(0, pte(a), "nothing was faulted in");
        assertEquals(0, mm.madvise(a, 2 * P, Mman.MADV_POPULATE_READ));
        assertEquals(0, mm.mprotect(a, 2 * P, Mman.PROT_NONE));
        assertEquals(-Errno.EINVAL, mm.madvise(a, P, Mman.MADV_POPULATE_READ));
    }

    /** vma_lookup failing is ENOMEM: a hole at the start, or one reached after populating the first VMA. */
    @Test
    void aHoleIsEnomem() {
        final long a = map(3, Mman.PROT_READ | Mman.PROT_WRITE);
        assertEquals(0, mm.munmap(a + P, P));
        assertEquals(-Errno.ENOMEM, mm.madvise(a, 3 * P, Mman.MADV_POPULATE_WRITE));
        assertFalse(pte(a) == 0, "the first page was populated before the hole");
        assertEquals(0, pte(a + 2 * P), "populate stops at the hole, unlike the VMA walk of other advice");
        assertEquals(-Errno.ENOMEM, mm.madvise(a + P, P, Mman.MADV_POPULATE_READ));
    }

    /** After fork, the child's POPULATE_WRITE breaks copy-on-write: its own pages, the parent's data intact. */
    @Test
    void populateWriteInAForkChildCopies() {
        final long a = map(2, Mman.PROT_READ | Mman.PROT_WRITE);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 0x31));
        final MmStruct child = mm.fork();
        assertNotNull(child);
        try {
            final Cpu c = machine.newCpu();
            c.switchMm(child);
            assertEquals(0, child.madvise(a, 2 * P, Mman.MADV_POPULATE_WRITE));
            final long childPte = child.pageTables().readPte(child.pageTables().ptePa(a, false));
            assertTrue(child.pageTables().format().pteWrite(childPte));
            assertFalse(
                    child.pageTables().format().pfn(childPte)
                            == mm.pageTables().format().pfn(pte(a)),
                    "the child has its own copy");
            assertEquals(SigInfo.OK, c.store(a, (byte) 0x32));
            assertEquals(0x31, cpu.load(a));
            assertEquals(0x32, c.load(a));
        } finally {
            child.validate();
            child.exitMmap();
        }
    }
}
