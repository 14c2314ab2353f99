package dev.vmsim.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.cpu.TlbFlush;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.rmap.Rmap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * folio_referenced on x86: the young bit is _PAGE_ACCESSED, which the page walker sets on a TLB
 * miss. ptep_clear_flush_young does not flush, so an access that hits the TLB does not set it
 * again until the entry is flushed.
 */
@Timeout(30)
class X86FolioReferencedTest {
    @Test
    void theAccessedBitIsReadAndClearedAndSetAgainByTheNextWalk() {
        final Machine m = new Machine(new X86Arch(), 1024, 2);
        final Cpu cpu = m.newCpu();
        final MmStruct mm = new MmStruct(m, LockingMode.PER_VMA);
        cpu.switchMm(mm);
        final long a = mm.mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        assertEquals(SigInfo.OK, cpu.store(a, (byte) 1));
        final PageTables pt = mm.pageTables();
        final long ptePa = pt.ptePa(a, false);
        final long pfn = pt.format().pfn(pt.readPte(ptePa));
        assertTrue((pt.readPte(ptePa) & X86Pte.ACCESSED) != 0);
        final long[] vmFlags = new long[1];

        assertEquals(1, Rmap.folioReferenced(m.frames(), pfn, vmFlags));
        assertFalse((pt.readPte(ptePa) & X86Pte.ACCESSED) != 0, "_PAGE_ACCESSED cleared");
        assertEquals(0, Rmap.folioReferenced(m.frames(), pfn, vmFlags));

        assertEquals(1, cpu.load(a), "a TLB hit");
        assertEquals(0, Rmap.folioReferenced(m.frames(), pfn, vmFlags), "no flush: the TLB hit set nothing");

        TlbFlush.flushTlbMm(mm);
        assertEquals(1, cpu.load(a));
        assertTrue((pt.readPte(ptePa) & X86Pte.ACCESSED) != 0, "the walk after the flush set it");
        assertEquals(1, Rmap.folioReferenced(m.frames(), pfn, vmFlags));
        assertTrue((vmFlags[0] & dev.vmsim.core.mm.VmFlags.VM_WRITE) != 0, "the mapping VMA's flags");
    }
}
