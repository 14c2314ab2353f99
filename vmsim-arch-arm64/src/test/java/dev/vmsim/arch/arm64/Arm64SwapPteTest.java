package dev.vmsim.arch.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.swap.SwpEntry;
import org.junit.jupiter.api.Test;

/** The arm64 swap-PTE layout of arch/arm64/include/asm/pgtable.h, for every granule. */
class Arm64SwapPteTest {
    @Test
    void typeAndOffsetRoundTripWithAndWithoutTheExclusiveBit() {
        for (final Granule g : Granule.values()) {
            final Arm64PageTableFormat fmt = Arm64PageTableFormat.forGranule(g);
            final long[] offsets = {1, 2, 0x1234, (1L << 40) + 7, (1L << 50) - 1};
            for (int type = 0; type < SwpEntry.MAX_SWAPFILES; type += 5) {
                for (final long off : offsets) {
                    final long pte = fmt.mkSwapPte(type, off);
                    for (final long p : new long[] {pte, fmt.pteSwpMkexclusive(pte)}) {
                        assertFalse(fmt.pteNone(p));
                        assertFalse(fmt.ptePresent(p), "a swap PTE is neither valid nor PRESENT_INVALID");
                        assertTrue(fmt.isSwapPte(p));
                        assertEquals(type, fmt.swapPteType(p));
                        assertEquals(off, fmt.swapPteOffset(p));
                    }
                    assertTrue(fmt.pteSwpExclusive(fmt.pteSwpMkexclusive(pte)));
                    assertFalse(fmt.pteSwpExclusive(pte));
                    assertEquals(pte, fmt.pteSwpClearExclusive(fmt.pteSwpMkexclusive(pte)));
                    assertEquals(pte, fmt.swpEntryToPte(fmt.pteToSwpEntry(pte)));
                }
            }
        }
    }

    /** Bits 0-1 zero, exclusive bit 2, type at 6-10, bit 11 (PTE_PRESENT_INVALID) zero, offset at 12-61. */
    @Test
    void theBitsAreTheKernels() {
        final Arm64PageTableFormat fmt = Arm64PageTableFormat.DEFAULT;
        final long pte = fmt.mkSwapPte(0x15, 0x2a);
        assertEquals((0x15L << 6) | (0x2aL << 12), pte);
        assertEquals(Arm64Pte.PTE_SWP_EXCLUSIVE, 1L << 2);
        assertEquals(pte | 4, fmt.pteSwpMkexclusive(pte));
        assertEquals(0, pte & (Arm64Pte.PTE_VALID | Arm64Pte.PTE_PRESENT_INVALID));
    }

    @Test
    void theDescriptorDecoderPrintsTheEntry() {
        final Arm64PageTableFormat fmt = Arm64PageTableFormat.DEFAULT;
        assertEquals(
                "swap type=1 offset=0x1f EXCLUSIVE", fmt.describe(fmt.pteSwpMkexclusive(fmt.mkSwapPte(1, 0x1f)), 0));
    }
}
