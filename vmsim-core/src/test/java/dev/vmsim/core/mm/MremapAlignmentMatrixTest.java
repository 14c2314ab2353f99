package dev.vmsim.core.mm;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.MREMAP_FIXED;
import static dev.vmsim.core.mm.Mman.MREMAP_MAYMOVE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * TLB-09, after the selftest mremap_test's alignment matrix: a 4 MiB region whose source and
 * destination are aligned to a page only, 1 MiB, a PMD (2 MiB) or a PUD (1 GiB), moved with
 * MREMAP_MAYMOVE|MREMAP_FIXED; every page's bytes are found at the destination and the source is
 * unmapped. Departure: the kernel moves whole PTE tables (move_normal_pmd) or PMD tables
 * (move_normal_pud) where both ends allow it; the simulator moves PTE by PTE in every case, so this
 * checks the outcome each alignment must have, not the whole-table path.
 */
class MremapAlignmentMatrixTest {
    private static final long P = 4096;
    private static final long LEN = 4L << 20;
    private static final long GIB = 1L << 30;

    /** An address {@code align} bytes past a 1 GiB boundary's natural alignment: aligned to that and no more. */
    private static long at(final long gibBase, final String align) {
        switch (align) {
            case "PTE":
                return gibBase + 3 * P; // 4 KiB-aligned, not 1 MiB
            case "1M":
                return gibBase + (1L << 20); // 1 MiB-aligned, not 2 MiB
            case "PMD":
                return gibBase + (2L << 20); // 2 MiB-aligned, not 1 GiB
            case "PUD":
                return gibBase; // 1 GiB-aligned
            default:
                throw new IllegalArgumentException(align);
        }
    }

    private static byte sig(final long page, final int salt) {
        return (byte) (page * 7 + salt | 1);
    }

    @ParameterizedTest(name = "src {0}, dst {1}")
    @CsvSource({
        "PTE,PTE", "PTE,1M", "PTE,PMD", "PTE,PUD",
        "1M,PTE", "1M,1M", "1M,PMD", "1M,PUD",
        "PMD,PTE", "PMD,1M", "PMD,PMD", "PMD,PUD",
        "PUD,PTE", "PUD,1M", "PUD,PMD", "PUD,PUD"
    })
    void everyByteArrivesAndTheSourceIsUnmapped(final String srcAlign, final String dstAlign) {
        final Machine machine = TestArch.machine(4096);
        try {
            final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
            final Cpu cpu = machine.newCpu();
            cpu.switchMm(mm);
            final long src = at(4 * GIB, srcAlign);
            final long dst = at(8 * GIB, dstAlign);
            assertEquals(src, mm.mmap(src, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
            for (long pg = 0; pg < LEN / P; pg++) {
                assertEquals(SigInfo.OK, cpu.store(src + pg * P, sig(pg, 1)));
                assertEquals(SigInfo.OK, cpu.store(src + pg * P + P - 1, sig(pg, 3)));
            }
            assertEquals(dst, mm.mremap(src, LEN, LEN, MREMAP_MAYMOVE | MREMAP_FIXED, dst));
            for (long pg = 0; pg < LEN / P; pg++) {
                assertEquals(sig(pg, 1) & 0xff, cpu.load(dst + pg * P), "first byte of page " + pg);
                assertEquals(sig(pg, 3) & 0xff, cpu.load(dst + pg * P + P - 1), "last byte of page " + pg);
            }
            assertNull(mm.vmaLookup(src), "the source is unmapped");
            assertNull(mm.vmaLookup(src + LEN - 1));
            assertEquals(-1, cpu.load(src + LEN / 2));
            assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal(), "no stale translation of the source");
            assertEquals(LEN / P, mm.anonRss(), "every page moved, none copied or lost");
            mm.validate();
        } finally {
            machine.close();
        }
    }
}
