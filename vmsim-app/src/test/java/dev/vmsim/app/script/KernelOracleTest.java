package dev.vmsim.app.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The project's copy of the oracle reproduces the recorded transcripts on this machine's kernel, so
 * the differential test compares the simulator with the same kernel behaviour the corpus shows.
 * Where this kernel is a variant (the probes say so, e.g. no zero page), a transcript may differ
 * from the recorded one only as the simulator configured as that variant differs. Skipped (with
 * the reason) where gcc or a static libc is missing.
 */
@Tag("kernel")
class KernelOracleTest {
    @Test
    void recordedCorpusReproducesOnTheRecordedKernelSeries() {
        final UnaryOperator<String> kernel = LiveKernel.oracle();
        assumeTrue(
                KernelOracle.isRecordedKernelSeries(),
                "the corpus was recorded on Linux 6.18; this kernel is " + KernelOracle.kernelRelease());
        final KernelVariant variant = LiveKernel.variant();
        final List<ScenarioFiles.Recorded> all = ScenarioFiles.all();
        assertTrue(all.size() >= 45, "corpus + examples: " + all.size());
        for (final ScenarioFiles.Recorded r : all) {
            final String live = kernel.apply(r.script());
            if (live.equals(r.transcript())) {
                continue;
            }
            final String diff = TranscriptDiff.describe(r.transcript(), live);
            assertTrue(
                    !variant.equals(KernelVariant.VANILLA) && live.equals(simulate(r.script(), variant)),
                    () -> r.name() + " no longer reproduces on " + KernelOracle.kernelRelease() + " (variant " + variant
                            + "), and the simulator in that variant does not explain it: " + diff);
        }
    }

    /** The scenarios recorded on a kernel without the zero page reproduce where the probe finds one. */
    @Test
    void noZeroPageScenariosReproduceOnAKernelWithoutTheZeroPage() {
        final UnaryOperator<String> kernel = LiveKernel.oracle();
        assumeTrue(LiveKernel.variant().forbidsZeropage(), "this kernel maps the zero page");
        for (final ScenarioFiles.Recorded r : ScenarioFiles.in(ScenarioFiles.NO_ZERO_PAGE)) {
            assertEquals(r.transcript(), kernel.apply(r.script()), r.name());
        }
    }

    @Test
    void parserOutputNeedsNoParticularKernel() {
        final ScenarioFiles.Recorded syntax = ScenarioFiles.in("vmscript/corpus").stream()
                .filter(r -> r.name().endsWith("47-parser-syntax.vms"))
                .findFirst()
                .orElseThrow();
        assertEquals(syntax.transcript(), LiveKernel.oracle().apply(syntax.script()));
    }

    @Test
    void generatedScenarioRunsToTheEnd() {
        final String script = ScenarioGenerator.generate(42, 30);
        final String transcript = LiveKernel.oracle().apply(script);
        assertEquals(30, transcript.lines().filter(l -> !l.startsWith("  ")).count(), transcript);
        assertTrue(transcript.endsWith("\n"), transcript);
    }

    private static String simulate(final String script, final KernelVariant variant) {
        return VmScript.run(script, ArchRegistry.find("x86_64"), LockingMode.PER_VMA, false, variant);
    }
}
