package dev.vmsim.arch.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.rmap.Rmap;
import dev.vmsim.core.stat.VmEvent;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * folio_referenced on arm64: the young bit is AF. ptep_clear_flush_young flushes the entry, so the
 * next access walks: with FEAT_HAFDBS the walker sets AF itself; without it the access takes an
 * access-flag fault and handle_pte_fault sets AF.
 */
@Timeout(30)
class Arm64FolioReferencedTest {
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void afIsReadClearedAndSetAgainByHardwareOrByAnAccessFlagFault(final boolean hafdbs) {
        final Machine m = new Machine(new Arm64Arch(Arm64Config.DEFAULT.withHafdbs(hafdbs), FaultOps.KERNEL), 1024, 2);
        final Cpu cpu = m.newCpu();
        final MmStruct mm = new MmStruct(m, LockingMode.PER_VMA);
        cpu.switchMm(mm);
        final long a = mm.mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 1));
        final PageTables pt = mm.pageTables();
        final long ptePa = pt.ptePa(a, false);
        final long pfn = pt.format().pfn(pt.readPte(ptePa));
        assertTrue((pt.readPte(ptePa) & Arm64Pte.PTE_AF) != 0);
        final long[] vmFlags = new long[1];

        assertEquals(1, Rmap.folioReferenced(m.frames(), pfn, vmFlags));
        assertFalse((pt.readPte(ptePa) & Arm64Pte.PTE_AF) != 0, "AF cleared");
        assertEquals(0, Rmap.folioReferenced(m.frames(), pfn, vmFlags));

        final long faults = m.vmstat().get(VmEvent.PGFAULT);
        assertEquals(1, cpu.load(a), "the entry was flushed: this access walks");
        assertTrue((pt.readPte(ptePa) & Arm64Pte.PTE_AF) != 0, "AF set again");
        assertEquals(
                hafdbs ? faults : faults + 1,
                m.vmstat().get(VmEvent.PGFAULT),
                hafdbs ? "FEAT_HAFDBS: the walker set AF" : "no HAFDBS: an access-flag fault set AF");
        assertEquals(1, Rmap.folioReferenced(m.frames(), pfn, vmFlags));
    }
}
