package dev.vmsim.bench.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.core.lock.LockingMode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page-table count calibrate sets beside the probe's VmPTE: made at the probe's own address, so
 * that the boundaries the 128 MiB crosses decide it as they do on the real kernel.
 */
class CalibrationTest {
    private static final long MIB = 1L << 20;
    /** 1 GiB-aligned, not 512 GiB-aligned: crossing it needs a new PMD table, not a new PUD table. */
    private static final long GIB_BOUNDARY = 0x7f0040000000L;

    @TempDir
    Path cache;

    private Calibration calibration(final String arch) {
        return new Calibration(
                KernelFactory.simulator(),
                new NativeProbe("page_fault1", cache),
                new NativeProbe("mmap1", cache),
                arch,
                LockingMode.PER_VMA,
                MachineProfiles.defaultProfile());
    }

    @Test
    void aMappingInsideOneGigabyteNeedsOnePteTablePerTwoMegabytes() {
        assertEquals(64, calibration("x86_64").simPeakPageTableFrames(GIB_BOUNDARY));
    }

    @Test
    void aMappingAcrossAGigabyteBoundaryAlsoNeedsAPmdTable() {
        assertEquals(65, calibration("x86_64").simPeakPageTableFrames(GIB_BOUNDARY - 64 * MIB));
    }

    @Test
    void anUnalignedMappingSharesItsTopPteTableWithThePageAboveIt() {
        // 65 two-megabyte regions, the top one already mapped for the page just above.
        assertEquals(64, calibration("x86_64").simPeakPageTableFrames(GIB_BOUNDARY + MIB));
    }

    @Test
    void withoutAnAddressTheSimulatorPlacesTheMappingItself() {
        final long n = calibration("x86_64").simPeakPageTableFrames(0);
        assertTrue(n == 64 || n == 65, "page-table frames " + n);
    }

    @Test
    void anAddressTheSimulatedMmCannotHoldFallsBackToItsOwnPlacement() {
        // Above the 47-bit user address space of 4-level x86-64: MAP_FIXED_NOREPLACE fails there.
        final long n = calibration("x86_64").simPeakPageTableFrames(1L << 50);
        assertTrue(n == 64 || n == 65, "page-table frames " + n);
    }

    @Test
    void peakAddressReadsTheProbesHexAndTakesAnythingElseAsMissing() {
        assertEquals(0x7fbbab800000L, Calibration.peakAddress("0x7fbbab800000"));
        assertEquals(0, Calibration.peakAddress(null));
        assertEquals(0, Calibration.peakAddress("garbage"));
    }
}
