package dev.vmsim.bench.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.bench.profile.MachineProfiles;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** calibrate --fit on this machine's own kernel: needs gcc and Linux (the kernel profile). */
@Tag("kernel")
class HostFitKernelTest {
    @TempDir
    Path cache;

    @Test
    void theNativeProbesFitAHostProfileThatReadsBack() throws Exception {
        final String why = NativeToolchain.unavailableReason();
        assumeTrue(why == null, () -> "skipped: " + why);
        final HostFit.Result r = new HostFit(
                        new NativeProbe("page_fault1", cache)::run,
                        new NativeProbe("mmap1", cache)::run,
                        Optional::empty)
                .run(MachineProfiles.shipped("host"), 2, "kernel test", WorkloadRunner.Progress.NONE);
        assertEquals(2, r.faultNs().n());
        assertTrue(r.faultNs().min() > 0 && r.mmapMunmapNs().min() > 0, r.report());
        final MachineProfile back = MachineProfiles.parse(r.profile().toJson());
        assertTrue(back.parameters().get("fault_other").source().startsWith("fit: page_fault1"));
    }
}
