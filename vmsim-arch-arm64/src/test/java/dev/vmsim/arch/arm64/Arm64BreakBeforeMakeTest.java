package dev.vmsim.arch.arm64;

import static dev.vmsim.arch.arm64.Arm64Pte.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.cpu.TlbFlush;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.pgtable.SafePteUpdate;
import dev.vmsim.core.pgtable.SafePteUpdate.UnsafeUpdate;
import dev.vmsim.core.testing.LeakCheck;
import org.junit.jupiter.api.Test;

/**
 * TLB-06's software half: every entry store of the kernel model passes the break-before-make check
 * (SafePteUpdate, on in the debug build the tests run), which reports a valid entry replaced by a
 * valid one with another output address or type, and lets through permission, AF, DBM and
 * software-bit changes and the clear + TLBI + store sequence. The kernel's own paths are checked by
 * every other test in the build, which would fail on a report.
 */
@LeakCheck.Skip(
        "plants PTEs by hand (the check is its subject), outside the paths that keep mapcounts and rss: exit cannot balance them")
class Arm64BreakBeforeMakeTest {
    private static final Arm64PageTableFormat F = Arm64PageTableFormat.DEFAULT;

    private final Machine machine = new Machine(new Arm64Arch(Arm64Config.DEFAULT, FaultOps.KERNEL), 1 << 12, 2);
    private final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
    private final Cpu cpu = machine.newCpu();
    private final PageTables pt = mm.pageTables();

    /** A written private page: its address. */
    private long mappedPage() {
        final long a = mm.mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        cpu.switchMm(mm);
        assertEquals(SigInfo.OK, cpu.store(a + 5, (byte) 7));
        return a;
    }

    @Test
    void theCheckIsOnInTheTestBuild() {
        assertTrue(SafePteUpdate.ENABLED, "surefire runs with -Dvmsim.lockdep=true");
    }

    @Test
    void aValidEntryWithAnotherOutputAddressOverAValidOneIsReported() {
        final long a = mappedPage();
        final long ptePa = pt.ptePa(a, false);
        final long old = pt.readPte(ptePa);
        final long other = machine.frames().allocZeroed(0);
        final long planted = F.pfnPte(other, old & ~(F.pfn(old) << 12));
        final UnsafeUpdate report = assertThrows(UnsafeUpdate.class, () -> pt.setPte(ptePa, planted));
        assertEquals(a, report.va());
        assertEquals(0, report.level());
        assertEquals(old, report.oldEntry());
        assertEquals(planted, report.newEntry());
        assertTrue(report.getMessage().contains("break-before-make"), report.getMessage());
        assertTrue(report.getMessage().contains("Arm64BreakBeforeMakeTest"), "the report carries the stack");
        assertEquals(old, pt.readPte(ptePa), "reported before the store");
        assertThrows(UnsafeUpdate.class, () -> pt.casPte(ptePa, old, planted), "the compare-and-set path too");
        assertTrue(SafePteUpdate.reports().stream().anyMatch(r -> r.contains(Long.toHexString(a))));
    }

    @Test
    void clearThenTlbiThenStoreIsNotReported() {
        final long a = mappedPage();
        final long ptePa = pt.ptePa(a, false);
        final long old = pt.readPte(ptePa);
        final long other = machine.frames().allocZeroed(0);
        machine.memory().fillFrame(other, (byte) 9);
        pt.setPte(ptePa, 0); // break
        TlbFlush.flushTlbPage(mm, a);
        pt.setPte(ptePa, F.pfnPte(other, old & ~(F.pfn(old) << 12))); // make
        assertEquals(9, cpu.load(a));
    }

    @Test
    void permissionAccessFlagAndSoftwareBitChangesAreLive() {
        final long a = mappedPage();
        final long ptePa = pt.ptePa(a, false);
        final long old = pt.readPte(ptePa);
        assertTrue(pt.casPte(ptePa, old, F.pteWrprotect(old)));
        assertTrue(pt.casPte(ptePa, F.pteWrprotect(old), F.pteMkold(F.pteWrprotect(old))));
        pt.setPte(ptePa, old | PTE_UXN | PTE_PXN | PTE_SPECIAL);
    }

    @Test
    void theRuleForEachKindOfEntry() {
        final long page = F.pfnPte(5, PAGE_DEFAULT | PTE_NG | PTE_USER);
        assertTrue(F.pgattrChangeIsSafe(0, page, 0), "creating");
        assertTrue(F.pgattrChangeIsSafe(page, 0, 0), "taking down");
        assertTrue(F.pgattrChangeIsSafe(page, page | PTE_RDONLY | PTE_DBM | PTE_DIRTY, 0));
        assertFalse(F.pgattrChangeIsSafe(page, F.pfnPte(6, PAGE_DEFAULT | PTE_NG | PTE_USER), 0), "output address");
        assertFalse(F.pgattrChangeIsSafe(page, page & ~PTE_NG, 0), "non-global to global");
        assertTrue(F.pgattrChangeIsSafe(page & ~PTE_NG, page, 0), "global to non-global");
        assertFalse(F.pgattrChangeIsSafe(page, page | PTE_CONT, 0), "contiguous hint");
        assertFalse(F.pgattrChangeIsSafe(page, page ^ (1L << 2), 0), "memory type (AttrIndx)");
        final long table = F.mkTable(7, 1);
        assertTrue(F.pgattrChangeIsSafe(table, table | PMD_TABLE_UXN | PMD_TABLE_AP_RDONLY, 1), "APTable/XNTable");
        assertFalse(F.pgattrChangeIsSafe(table, F.mkTable(8, 1), 1), "another next-level table");
        final long block = F.mkBlock(7L << 12, PAGE_DEFAULT, 1);
        assertFalse(F.pgattrChangeIsSafe(table, block, 1), "table to block");
        assertFalse(F.pgattrChangeIsSafe(block, table, 1), "block to table");
    }
}
