package dev.vmsim.app.script;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Differential test against the live kernel: {@value #SCENARIOS} seeded random scenarios of
 * {@value #LINES} lines (see {@link ScenarioGenerator}) run once on this machine's kernel through the
 * compiled oracle ({@link KernelOracle}) and once on the simulator (x86_64, per-VMA locking),
 * configured as the probes find this kernel ({@link LiveKernel#variant()}: e.g. no zero page); the
 * first scenario whose transcripts differ fails the test with its seed, the scenario and a diff.
 *
 * <p>Skipped, with the reason, where gcc or a static libc is missing, or where the kernel is not the
 * 6.18 series the simulator models. To reproduce a failure, run
 * {@code ScenarioGenerator.generate(seed, LINES)} through {@code ./vmsim script -}.
 */
@Tag("kernel")
class KernelDifferentialTest {
    private static final int SCENARIOS = 200;
    private static final int LINES = 30;
    /** Seeds are FIRST_SEED .. FIRST_SEED + SCENARIOS - 1; fixed so that a failure is reproducible. */
    private static final long FIRST_SEED = 1;

    @Test
    void simulatorMatchesTheLiveKernelOnSeededRandomScenarios() {
        final UnaryOperator<String> oracle = LiveKernel.oracle();
        assumeTrue(
                KernelOracle.isRecordedKernelSeries(),
                () -> "skipped: the simulator models Linux 6.18; this kernel is " + KernelOracle.kernelRelease());
        final Arch arch = ArchRegistry.find("x86_64");
        final KernelVariant variant = LiveKernel.variant();
        assertNotNull(arch, () -> "x86_64 not on the class path; found " + ArchRegistry.names());
        for (long seed = FIRST_SEED; seed < FIRST_SEED + SCENARIOS; seed++) {
            final String script = ScenarioGenerator.generate(seed, LINES);
            final String kernel = oracle.apply(script);
            final String simulator;
            try {
                simulator = VmScript.run(script, arch, LockingMode.PER_VMA, false, variant);
            } catch (final RuntimeException e) {
                throw new AssertionError("seed " + seed + ": the simulator threw on\n" + script, e);
            }
            final String diff = TranscriptDiff.describe(kernel, simulator);
            if (diff != null) {
                fail("seed " + seed + " (variant " + variant + ", ScenarioGenerator.generate(" + seed + ", " + LINES
                        + "))\n--- scenario\n"
                        + script + "--- " + diff + "--- kernel transcript\n" + kernel
                        + "--- simulator transcript\n" + simulator);
            }
        }
    }
}
