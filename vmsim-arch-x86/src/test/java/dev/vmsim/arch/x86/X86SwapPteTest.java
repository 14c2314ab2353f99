package dev.vmsim.arch.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.swap.SwpEntry;
import org.junit.jupiter.api.Test;

/** The x86-64 swap-PTE layout of arch/x86/include/asm/pgtable_64.h. */
class X86SwapPteTest {
    private static final X86PageTableFormat FMT = X86PageTableFormat.FOUR_LEVEL;

    @Test
    void typeAndOffsetRoundTripWithAndWithoutTheExclusiveBit() {
        final long[] offsets = {1, 2, 0x1234, (1L << 40) + 7, (1L << 49) + 3
        }; // all-ones would encode as pte_none: max_swapfile_size excludes it
        for (int type = 0; type < SwpEntry.MAX_SWAPFILES; type += 5) {
            for (final long off : offsets) {
                final long pte = FMT.mkSwapPte(type, off);
                for (final long p : new long[] {pte, FMT.pteSwpMkexclusive(pte)}) {
                    assertFalse(FMT.pteNone(p));
                    assertFalse(FMT.ptePresent(p), "a swap PTE is not present");
                    assertTrue(FMT.isSwapPte(p));
                    assertEquals(type, FMT.swapPteType(p));
                    assertEquals(off, FMT.swapPteOffset(p));
                    assertEquals(SwpEntry.swpEntry(type, off), FMT.pteToSwpEntry(p));
                }
                assertFalse(FMT.pteSwpExclusive(pte));
                assertTrue(FMT.pteSwpExclusive(FMT.pteSwpMkexclusive(pte)));
                assertEquals(pte, FMT.pteSwpClearExclusive(FMT.pteSwpMkexclusive(pte)));
                assertEquals(pte, FMT.swpEntryToPte(FMT.pteToSwpEntry(pte)));
            }
        }
    }

    /** The exact bits: type 3 at 59-63, ~offset at 9-58, the exclusive marker in PWT (bit 3), bits 0 and 8 clear. */
    @Test
    void theOffsetIsStoredInvertedForL1tf() {
        final long pte = FMT.mkSwapPte(3, 0x2a);
        assertEquals(3L, pte >>> 59);
        assertEquals(~0x2aL & ((1L << 50) - 1), (pte >>> 9) & ((1L << 50) - 1));
        assertEquals(0, pte & 0x1ff, "PRESENT, PROTNONE and the flag bits are clear");
        assertEquals(X86Pte.PWT, FMT.pteSwpMkexclusive(pte) ^ pte);
        // A small offset sets the high address bits: the "pfn" a speculative walk would use is above MAXPHYADDR.
        assertTrue(FMT.reservedBits(pte | X86Pte.PRESENT, 0) != 0, "points outside physical memory");
    }

    @Test
    void theWalkDumpDecodesASwapPte() {
        final long pte = FMT.pteSwpMkexclusive(FMT.mkSwapPte(0, 0x1f));
        assertEquals("swap type=0 offset=0x1f EXCLUSIVE", FMT.describe(pte, 0));
    }
}
