package dev.vmsim.core.mm;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.MREMAP_FIXED;
import static dev.vmsim.core.mm.Mman.MREMAP_MAYMOVE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * TLB-10: mremap moving half of a 2 MiB-aligned block onto its neighbour leaves the unrelated half of
 * the source intact (tools/testing/selftests/mm/mremap_test.c, mremap_move_within_range and
 * mremap_move_1mb_from_start). One character is 256 KiB; lower case moves (s to d), upper case stays:
 *
 * <pre>
 *  dest           src              (each 2 MiB, src 2 MiB-aligned, inside a 20 MiB mapping)
 *  |DDDDdddd|SSSSssss|   before: src holds the pattern, dest holds zeros
 *  |DDDDssss|SSSS    |   after:  the moved half sits at dest + 1 MiB; src's first 1 MiB unchanged
 * </pre>
 *
 * The CPU that wrote the pattern still has the source translations in its TLB when mremap runs, so a
 * stale entry for the moved half, or a PMD-level move that took the unmoved half's page table with it,
 * would show up as a wrong byte or a missing fault.
 */
class MremapMoveWithinRangeTest {
    private static final long MB = 1L << 20;
    private static final long PAGE = 4096;

    private final MmStruct mm = new MmStruct(TestArch.machine(8192), LockingMode.PER_VMA);
    private final Cpu cpu = mm.machine().newCpu();

    @AfterEach
    void validate() {
        mm.validate();
    }

    /** The byte the pattern puts at {@code offset} into src (never 0, so zero pages do not pass). */
    private static byte pattern(final long offset) {
        return (byte) (0x80 | ((offset / PAGE * 7 + 3) & 0x7f));
    }

    private long twentyMbAligned() {
        final long raw = mm.mmap(0, 20 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(raw > 0, "mmap: " + raw);
        return (raw + 4 * MB - 1) & ~(2 * MB - 1); // 2 MiB-aligned, with 2 MiB of mapping below it
    }

    private void fill(final long src, final long len) {
        for (long o = 0; o < len; o += PAGE) {
            assertEquals(SigInfo.OK, cpu.store(src + o, pattern(o)));
            assertEquals(pattern(o), (byte) cpu.load(src + o)); // and keep the translation in the TLB
        }
    }

    private void expect(final long at, final long patternOffset, final long len, final String what) {
        for (long o = 0; o < len; o += PAGE) {
            final int v = cpu.load(at + o);
            assertEquals(pattern(patternOffset + o), (byte) v, what + " at +0x" + Long.toHexString(o));
        }
    }

    @Test
    void movingTheUpperHalfOntoTheNeighbourLeavesTheLowerHalfIntact() {
        cpu.switchMm(mm);
        final long src = twentyMbAligned();
        final long dest = src - 2 * MB;
        fill(src, 2 * MB);
        final long moved = mm.mremap(src + MB, MB, MB, MREMAP_MAYMOVE | MREMAP_FIXED, dest + MB);
        assertEquals(dest + MB, moved);
        expect(src, 0, MB, "the unmoved half of src (SSSS)");
        expect(dest + MB, MB, MB, "the moved half at dest (ssss)");
        assertEquals(-1, cpu.load(src + MB), "the old place of the moved half is unmapped: the access faults");
        assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal());
    }

    @Test
    void movingOneMbFromAnUnalignedStartKeepsTheRestOfTheBlock() {
        // mremap_move_1mb_from_start: src at 1 MiB + 256 KiB into a 2 MiB-aligned block, moved to the
        // start of the next block; the bytes before and after the moved MiB stay where they were.
        cpu.switchMm(mm);
        final long block = twentyMbAligned();
        fill(block, 4 * MB);
        final long src = block + MB + 256 * 1024;
        final long dest = block + 2 * MB + 512 * 1024;
        final long munmapped = mm.munmap(dest, MB);
        assertEquals(0, munmapped);
        assertEquals(dest, mm.mremap(src, MB, MB, MREMAP_MAYMOVE | MREMAP_FIXED, dest));
        expect(block, 0, src - block, "below the moved MiB");
        expect(dest, src - block, MB, "the moved MiB at its destination");
        expect(dest + MB, dest + MB - block, block + 4 * MB - dest - MB, "above the destination");
    }
}
