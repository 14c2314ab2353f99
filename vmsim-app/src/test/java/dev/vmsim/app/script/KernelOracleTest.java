package dev.vmsim.app.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The project's copy of the oracle reproduces the recorded transcripts on this machine's kernel, so
 * the differential test compares the simulator with the same kernel behaviour the corpus shows.
 * Skipped (with the reason) where gcc or a static libc is missing.
 */
@Tag("kernel")
class KernelOracleTest {
    @Test
    void recordedCorpusReproducesOnTheRecordedKernelSeries() {
        assumeOracle();
        assumeTrue(
                KernelOracle.isRecordedKernelSeries(),
                "the corpus was recorded on Linux 6.18; this kernel is " + KernelOracle.kernelRelease());
        final List<ScenarioFiles.Recorded> all = ScenarioFiles.all();
        assertTrue(all.size() >= 45, "corpus + examples: " + all.size());
        for (final ScenarioFiles.Recorded r : all) {
            final String diff = TranscriptDiff.describe(r.transcript(), KernelOracle.run(r.script()));
            assertNull(diff, () -> r.name() + " no longer reproduces on " + KernelOracle.kernelRelease() + ": " + diff);
        }
    }

    @Test
    void parserOutputNeedsNoParticularKernel() {
        assumeOracle();
        final ScenarioFiles.Recorded syntax = ScenarioFiles.in("vmscript/corpus").stream()
                .filter(r -> r.name().endsWith("47-parser-syntax.vms"))
                .findFirst()
                .orElseThrow();
        assertEquals(syntax.transcript(), KernelOracle.run(syntax.script()));
    }

    @Test
    void generatedScenarioRunsToTheEnd() {
        assumeOracle();
        final String script = ScenarioGenerator.generate(42, 30);
        final String transcript = KernelOracle.run(script);
        assertEquals(30, transcript.lines().filter(l -> !l.startsWith("  ")).count(), transcript);
        assertTrue(transcript.endsWith("\n"), transcript);
    }

    private static void assumeOracle() {
        final String why = KernelOracle.unavailableReason();
        assumeTrue(why == null, () -> "skipped: " + why);
    }
}
