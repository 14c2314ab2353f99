package dev.vmsim.bench.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("kernel")
class NativeProbeTest {
    private static void assumeToolchain() {
        final String why = NativeToolchain.unavailableReason();
        assumeTrue(why == null, () -> "skipped: " + why);
    }

    @Test
    void parsesKeyValueLinesAndIgnoresTheRest() {
        assertEquals(Map.of("a", "1", "ns_per_fault", "12.5"), NativeProbe.parse("a=1\nnoise\nns_per_fault = 12.5\n"));
    }

    @Test
    void compilesOnceAndReusesTheCachedBinary(@TempDir final Path cache) throws Exception {
        assumeToolchain();
        final NativeProbe p = new NativeProbe("mmap1", cache);
        final Path bin = p.binary();
        assertTrue(Files.isExecutable(bin));
        final long mtime = Files.getLastModifiedTime(bin).toMillis();
        assertEquals(bin, new NativeProbe("mmap1", cache).binary());
        assertEquals(mtime, Files.getLastModifiedTime(bin).toMillis(), "recompiled");
    }

    @Test
    void pageFault1ProbeCountsOneMinorFaultPerPage(@TempDir final Path cache) throws Exception {
        assumeToolchain();
        final Map<String, String> out = new NativeProbe("page_fault1", cache).run("1");
        final long pages = Long.parseLong(out.get("pages"));
        final long minflt = Long.parseLong(out.get("minflt"));
        assertEquals(32768, pages);
        // THP could satisfy many pages with one fault; without it, one fault per page (+ a few).
        assertTrue(minflt <= pages + 64, "minflt " + minflt);
        assertTrue(Double.parseDouble(out.get("ns_per_fault")) > 0);
        assertTrue(Long.parseLong(out.get("vmpte_peak_kb")) >= Long.parseLong(out.get("vmpte_before_kb")));
        final long peakAddr = Calibration.peakAddress(out.get("peak_addr"));
        assertTrue(peakAddr != 0 && (peakAddr & 0xfff) == 0, "peak_addr " + out.get("peak_addr"));
    }

    @Test
    void mmap1ProbeReportsNsPerPair(@TempDir final Path cache) throws Exception {
        assumeToolchain();
        final Map<String, String> out = new NativeProbe("mmap1", cache).run("100");
        assertEquals("100", out.get("rounds"));
        assertTrue(Double.parseDouble(out.get("ns_per_mmap_munmap")) > 0);
    }

    /**
     * The c2c probe: on two CPUs a transfer of tens to hundreds of ns, the fastest batch no slower than
     * the median; on one, it says why it skipped.
     */
    @Test
    void c2cProbeReportsTheFastestHalfRoundTripOrWhyItSkipped(@TempDir final Path cache) throws Exception {
        assumeToolchain();
        final Map<String, String> out = new NativeProbe("c2c", cache).run("200", "50");
        if (out.containsKey("skipped")) {
            assertTrue(
                    Runtime.getRuntime().availableProcessors() < 2
                            || !out.get("skipped").isEmpty(),
                    out.toString());
            return;
        }
        final double c2c = Double.parseDouble(out.get(HostFit.C2C_NS));
        assertTrue(c2c > 0 && c2c < 100_000, "c2c_ns " + c2c);
        assertEquals(2 * c2c, Double.parseDouble(out.get("round_trip_ns_min")), 0.11);
        assertTrue(Double.parseDouble(out.get("round_trip_ns_median"))
                >= Double.parseDouble(out.get("round_trip_ns_min")));
    }
}
