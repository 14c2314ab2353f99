package dev.vmsim.core.testing;

import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.fault.FaultFlags;
import dev.vmsim.core.fault.Memory;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTables;

/** Faults and PTE reads for tests that drive the fault path without a CPU access around it. */
public final class Faults {
    private Faults() {}

    /** A user write fault at {@code va} through handle_mm_fault under the mmap read lock (no access retry). */
    public static int writeFault(final MmStruct mm, final long va) {
        mm.mmapLock().readLock();
        try {
            final Vma vma = mm.findVma(va);
            return Memory.handleMmFault(
                    vma,
                    va,
                    FaultFlags.FAULT_FLAG_DEFAULT | FaultFlags.FAULT_FLAG_USER | FaultFlags.FAULT_FLAG_WRITE,
                    PtRegs.USER);
        } finally {
            mm.mmapLock().readUnlock();
        }
    }

    /** The PTE mapping {@code va}, or 0 when no table maps it. */
    public static long pte(final MmStruct mm, final long va) {
        final PageTables pt = mm.pageTables();
        final long pa = pt.ptePa(va, false);
        return pa < 0 ? 0 : pt.readPte(pa);
    }
}
