package dev.vmsim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vmsim.bench.report.HtmlReport;
import dev.vmsim.bench.report.TextReport;
import dev.vmsim.bench.workload.Pft;
import dev.vmsim.core.lock.LockingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScalingTest {
    private static final LockingVariant MMAP_ONLY = LockingVariant.of(LockingMode.MMAP_ONLY);
    private static final LockingVariant PER_VMA_RWSEM = LockingVariant.of(LockingMode.PER_VMA_RWSEM);
    private static final List<LockingVariant> MODES = List.of(MMAP_ONLY, PER_VMA_RWSEM);

    @Test
    void oneRowPerThreadCountWithEachModesRunsInterleaved() {
        final Scaling t = Scaling.run(
                new WorkloadRunner(KernelFactory.simulator()),
                RunConfig.rounds(new Pft(32 * 4096), "x86_64", LockingMode.MMAP_ONLY, 1, 2, 1),
                List.of(1, 3),
                MODES,
                2,
                WorkloadRunner.Progress.NONE);
        assertEquals(List.of(1, 3), t.rows().stream().map(Scaling::threads).toList());
        for (final Comparison row : t.rows()) {
            assertEquals(MODES, row.columns());
            assertEquals(4, row.runs().size(), "2 repeats x 2 modes, warm-ups not recorded");
            assertEquals(
                    List.of(MMAP_ONLY, PER_VMA_RWSEM, PER_VMA_RWSEM, MMAP_ONLY),
                    row.runs().stream().map(r -> r.config().variant()).toList());
        }
        final JsonNode j = Json.mapper().valueToTree(t.toJsonNode());
        assertEquals("pft", j.get("workload").asText());
        assertEquals(2, j.get("rows").size());
        assertEquals(3, j.get("rows").get(1).get("threads").asInt());
        assertTrue(j.get("rows").get(1).get("faultsPerSec").get("per-vma-rwsem").asDouble() > 0);
        assertFalse(j.get("rows").get(0).get("delta").has("mmap-only"), "the baseline has no delta");
        assertEquals(2, j.get("comparisons").size());
    }

    /** Rows built from given figures: the delta is each mode's median against the first mode's. */
    @Test
    void theDeltaIsAgainstTheFirstModeOfTheRowAsThePublishedTablesShowIt() {
        final Scaling t = new Scaling("pft", MODES, List.of(row(1, 1000, 995), row(48, 1000, 1196)));
        assertEquals(-0.005, Scaling.delta(t.rows().get(0), PER_VMA_RWSEM), 1e-12);
        assertEquals(0.196, Scaling.delta(t.rows().get(1), PER_VMA_RWSEM), 1e-12);
        final String text = TextReport.scaling(t);
        assertTrue(text.contains("delta against mmap-only"), text);
        assertTrue(text.matches("(?s).*\\n {6}1 +1000 +995 +-0\\.5%\\n.*"), text);
        assertTrue(text.matches("(?s).*\\n {5}48 +1000 +1196 +\\+19\\.6%\\n.*"), text);
        final String html = HtmlReport.render(t);
        assertTrue(html.contains("faults/s against threads") && html.contains("<polyline"), "a chart");
        assertTrue(html.contains("+19.6%"), "the table");
    }

    /** A row of one run per mode with the given faults/s (pft's own figure). */
    private static Comparison row(final int threads, final double... faultsPerSec) {
        final List<RunResult> runs = new ArrayList<>();
        for (int i = 0; i < MODES.size(); i++) {
            final RunConfig c =
                    RunConfig.rounds(new Pft(), "x86_64", MODES.get(i).mode(), threads, 1, 1);
            runs.add(new RunResult(
                    c,
                    1,
                    1,
                    0,
                    0,
                    0,
                    0,
                    0,
                    new Latency(0, 0, 0, 0, 0, 0, 0),
                    new Latency(0, 0, 0, 0, 0, 0, 0),
                    new KernelCounters(Map.of(), 0, 0, 0, 0, 0, 0, 0),
                    0,
                    faultsPerSec[i],
                    Map.of()));
        }
        return new Comparison("pft", MODES, runs);
    }
}
