package dev.vmsim.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;

/** Anonymous memory written through a CPU, so that tests can check the data survives what follows. */
public final class Pages {
    private Pages() {}

    /**
     * mmaps {@code pages} private anonymous read-write pages in {@code mm}, switches {@code cpu} to it
     * and stores {@link #sig} at the start of each page; returns the mapping's address.
     */
    public static long mapAndFill(final Cpu cpu, final MmStruct mm, final int pages) {
        cpu.switchMm(mm);
        final long page = mm.pageSize();
        final long a =
                mm.mmap(0, pages * page, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        assertTrue(a > 0, "mmap: " + a);
        for (int p = 0; p < pages; p++) {
            assertEquals(SigInfo.OK, cpu.store(a + p * page, sig(p)), "page " + p);
        }
        return a;
    }

    /** The byte {@link #mapAndFill} stores at the start of page {@code p}. */
    public static byte sig(final int p) {
        return (byte) (p + 1);
    }
}
