package dev.vmsim.arch.arm64;

import dev.vmsim.core.Machine;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.phys.PhysicalMemory;

/** Builds page tables of an {@link MmStruct} directly, bypassing core's PageTables. */
final class MmTables {
    private MmTables() {}

    /** The physical address of {@code mm}'s PTE for {@code va}, allocating intermediate tables. */
    static long ptePa(final MmStruct mm, final long va) {
        final Machine m = mm.machine();
        final PageTableFormat f = m.arch().pageTableFormat();
        final PhysicalMemory mem = m.memory();
        long table = mem.physAddr(mm.pageTables().rootPfn());
        for (int l = f.levels() - 1; l > 0; l--) {
            final long pa = table + ((long) f.index(va, l) << 3);
            long d = mem.getLong(pa);
            if (!f.isTable(d, l)) {
                d = f.mkTable(m.frames().allocZeroed(0), l);
                mem.putLong(pa, d);
            }
            table = mem.physAddr(f.pfn(d));
        }
        return table + ((long) f.index(va, 0) << 3);
    }

    /** Maps {@code va} to a new frame with {@code prot}: the frame's pfn. */
    static long map(final MmStruct mm, final long va, final long prot) {
        final long pfn = mm.machine().frames().allocZeroed(0);
        set(mm, va, pfn, prot);
        return pfn;
    }

    static void set(final MmStruct mm, final long va, final long pfn, final long prot) {
        mm.machine()
                .memory()
                .putLongVolatile(
                        ptePa(mm, va), mm.machine().arch().pageTableFormat().pfnPte(pfn, prot));
    }
}
