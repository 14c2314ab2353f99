package dev.vmsim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.report.HtmlReport;
import dev.vmsim.bench.report.TextReport;
import dev.vmsim.bench.workload.Workloads;
import dev.vmsim.core.lock.LockingMode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ComparisonTest {
    private static Comparison compare() {
        return Comparison.run(
                new WorkloadRunner(ToyKernel.factory()),
                RunConfig.rounds(Workloads.find("fault-vs-munmap"), "x86_64", LockingMode.MMAP_ONLY, 3, 2, 1),
                2,
                WorkloadRunner.Progress.NONE);
    }

    @Test
    void runsTheModesInterleavedWithARotatingFirstMode() {
        final Comparison c = compare();
        final List<LockingMode> order =
                c.runs().stream().map(r -> r.config().locking()).toList();
        assertEquals(
                List.of(
                        LockingMode.MMAP_ONLY,
                        LockingMode.PER_VMA,
                        LockingMode.PER_VMA_WAIT,
                        LockingMode.PER_VMA,
                        LockingMode.PER_VMA_WAIT,
                        LockingMode.MMAP_ONLY),
                order,
                "the warm-up runs are not recorded; repeat k starts at mode k");
        assertEquals(1.0, c.ratio(LockingVariant.of(LockingMode.MMAP_ONLY), RunResult::faultsPerSec), 1e-9);
        assertFalse(c.runs().stream().anyMatch(r -> r.config().mmapUpgrade()), "the default columns are the kernel's");
    }

    /** Chosen columns, one of them with the simulator's mmap_lock upgrade: the first is the ratios' baseline. */
    @Test
    void chosenColumnsRunInTheirOrderAndTheFirstIsTheBaseline() {
        final List<LockingVariant> cols =
                List.of(LockingVariant.parse("per-vma"), LockingVariant.parse("per-vma+upgrade"));
        final Comparison c = Comparison.run(
                new WorkloadRunner(ToyKernel.factory()),
                RunConfig.rounds(Workloads.find("stack-growth"), "x86_64", LockingMode.MMAP_ONLY, 2, 2, 1),
                cols,
                2,
                WorkloadRunner.Progress.NONE);
        assertEquals(
                List.of("per-vma", "per-vma+upgrade", "per-vma+upgrade", "per-vma"),
                c.runs().stream().map(r -> r.config().variant().name()).toList());
        assertEquals(2, c.runsOf(cols.get(1)).size());
        final String table = TextReport.compare(c);
        assertTrue(table.contains("(ratio to per-vma)"), table);
        assertTrue(table.contains("per-vma+upgrade"), table);
        assertFalse(table.contains("mmap-only"), table);
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        final Comparison c = compare();
        final List<RunResult> runs = c.runsOf(LockingVariant.of(LockingMode.PER_VMA));
        final double expected = (runs.get(0).seconds() + runs.get(1).seconds()) / 2;
        assertEquals(expected, c.median(LockingVariant.of(LockingMode.PER_VMA), RunResult::seconds), 1e-12);
    }

    @Test
    void jsonHasTheWorkloadAndEveryRun() {
        @SuppressWarnings("unchecked")
        final Map<String, Object> m =
                (Map<String, Object>) MiniJson.parse(compare().toJson());
        assertEquals("fault-vs-munmap", m.get("workload"));
        final List<?> runs = assertInstanceOf(List.class, m.get("runs"));
        assertEquals(6, runs.size());
    }

    @Test
    void tableHasOneColumnPerModeAndHtmlIsSelfContained() {
        final Comparison c = compare();
        final String table = TextReport.compare(c);
        assertEquals(Comparison.MODES, c.columns(), "the default modes");
        for (final LockingVariant m : c.columns()) {
            assertTrue(table.contains(m.name()), table);
        }
        assertTrue(table.contains("faults/s"), table);
        final String html = HtmlReport.render(c);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertEquals(4, html.split("<svg ", -1).length - 1, "four charts");
        assertTrue(html.contains("<polyline"), "latency curves");
        assertTrue(html.contains("<rect"), "throughput bars");
        assertFalse(
                html.contains("http://") || html.contains("https://") || html.contains("src="), "external reference");
    }
}
