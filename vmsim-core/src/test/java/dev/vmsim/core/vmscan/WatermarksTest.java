package dev.vmsim.core.vmscan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.phys.Watermarks;
import org.junit.jupiter.api.Test;

/** The zone watermarks as init_per_zone_wmark_min and __setup_per_zone_wmarks compute them. */
class WatermarksTest {
    @Test
    void sixteenMebibytes() {
        // lowmem_kbytes 16380, int_sqrt(16380 * 16) = 511; step max(127 / 4, 4095 * 10 / 10000) = 31
        final Watermarks w = new Watermarks(4095, 12);
        assertEquals(511, w.minFreeKbytes());
        assertEquals(127, w.min());
        assertEquals(158, w.low());
        assertEquals(189, w.high());
        assertEquals(220, w.promo());
    }

    @Test
    void theFloorOf128KibOnATinyMachine() {
        final Watermarks w = new Watermarks(63, 12); // int_sqrt(252 * 16) = 63 < 128
        assertEquals(128, w.minFreeKbytes());
        assertEquals(32, w.min());
        assertEquals(40, w.low());
    }

    @Test
    void sixtyFourGibibytesIsScaledByWatermarkScaleFactor() {
        final Watermarks w = new Watermarks(16L << 20, 12); // 64 GiB of 4 KiB pages
        assertEquals(32768, w.minFreeKbytes());
        assertEquals(8192, w.min());
        assertEquals(8192 + 16777, w.low(), "0.1% of memory beats min / 4");
        assertEquals(8192 + 2 * 16777, w.high());
    }

    @Test
    void theCeilingOf256MibAndOtherPageSizes() {
        assertEquals(262144, new Watermarks(1L << 32, 12).minFreeKbytes(), "16 TiB: clamped");
        final Watermarks k64 = new Watermarks(16384, 16); // 1 GiB of 64 KiB pages
        assertEquals(4096, k64.minFreeKbytes());
        assertEquals(64, k64.min(), "min_free_kbytes >> (PAGE_SHIFT - 10)");
    }

    @Test
    void zoneWatermarkOkFailsAtTheMark() {
        assertTrue(Watermarks.zoneWatermarkOk(11, 10));
        assertFalse(Watermarks.zoneWatermarkOk(10, 10), "free_pages <= mark fails");
    }
}
