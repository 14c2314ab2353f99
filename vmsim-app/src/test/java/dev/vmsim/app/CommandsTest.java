package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.MiniJson;
import dev.vmsim.bench.ToyKernel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `run` and `compare` end to end over the toy kernel: the report, the JSON file, the HTML page. */
class CommandsTest {
    @Test
    @SuppressWarnings("unchecked")
    void runPrintsTheReportAndWritesJson(@TempDir final Path dir) throws Exception {
        final Path json = dir.resolve("run.json");
        final CliHarness r = CliHarness.run(
                ToyKernel.factory(),
                "run",
                "spf",
                "--threads",
                "2",
                "--iterations",
                "3",
                "--locking",
                "mmap-only",
                "--seed",
                "9",
                "--json",
                json.toString());
        assertEquals(0, r.status, r.err);
        assertEquals("", r.err);
        assertTrue(r.out.contains("faults"), r.out);
        assertTrue(r.out.contains("p99.9"), r.out);
        assertTrue(r.out.contains("pgfault"), r.out);
        assertTrue(r.out.contains("mmap_lock"), r.out);
        final Map<String, Object> m = (Map<String, Object>) MiniJson.parse(Files.readString(json));
        assertEquals("spf", m.get("workload"));
        assertEquals("mmap-only", m.get("locking"));
        assertEquals("x86_64", m.get("arch"));
        assertEquals(9L, m.get("seed"));
        assertEquals(600L, m.get("faults"));
        final Map<String, Object> vmstat = assertInstanceOf(Map.class, m.get("vmstat"));
        assertEquals(600L, vmstat.get("pgfault"));
        assertInstanceOf(Map.class, m.get("mmapLock"));
        assertInstanceOf(Map.class, m.get("faultLatencyNs"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void compareRunsEveryModeAndWritesJsonAndHtml(@TempDir final Path dir) throws Exception {
        final Path json = dir.resolve("cmp.json");
        final Path html = dir.resolve("cmp.html");
        final CliHarness r = CliHarness.run(
                ToyKernel.factory(),
                "compare",
                "shared-vma",
                "--arch",
                "arm64",
                "--iterations",
                "2",
                "--repeat",
                "2",
                "--json",
                json.toString(),
                "--html",
                html.toString());
        assertEquals(0, r.status, r.err);
        for (final String mode : List.of("mmap-only", "per-vma", "per-vma-wait")) {
            assertTrue(r.out.contains(mode), r.out);
        }
        final Map<String, Object> m = (Map<String, Object>) MiniJson.parse(Files.readString(json));
        assertEquals("shared-vma", m.get("workload"));
        final List<Object> runs = assertInstanceOf(List.class, m.get("runs"));
        assertEquals(6, runs.size());
        assertEquals("arm64", ((Map<String, Object>) runs.get(0)).get("arch"));
        assertEquals(3L, ((Map<String, Object>) runs.get(0)).get("threads"), "compare's default threads");
        final String page = Files.readString(html);
        assertTrue(page.contains("<svg "), page);
        assertTrue(!page.contains("http"), "self-contained");
    }

    /** --modes chooses the columns (the first is the baseline); +upgrade and --mmap-upgrade reach the run. */
    @Test
    @SuppressWarnings("unchecked")
    void compareModesChoosesTheColumnsAndTheUpgradeVariant(@TempDir final Path dir) throws Exception {
        final Path json = dir.resolve("cmp.json");
        final CliHarness r = CliHarness.run(
                ToyKernel.factory(),
                "compare",
                "stack-growth",
                "--iterations",
                "2",
                "--repeat",
                "1",
                "--modes",
                "per-vma,per-vma+upgrade",
                "--json",
                json.toString());
        assertEquals(0, r.status, r.err);
        assertTrue(r.out.contains("(ratio to per-vma)"), r.out);
        final String header =
                r.out.lines().filter(l -> l.startsWith("metric")).findFirst().orElseThrow();
        assertEquals(
                List.of("metric", "per-vma", "per-vma+upgrade"),
                List.of(header.trim().split("\\s+")));
        final List<Object> runs =
                (List<Object>) ((Map<String, Object>) MiniJson.parse(Files.readString(json))).get("runs");
        assertEquals(
                List.of(false, true),
                runs.stream()
                        .map(o -> ((Map<String, Object>) o).get("mmapUpgrade"))
                        .toList());
        final CliHarness all = CliHarness.run(
                ToyKernel.factory(), "compare", "spf", "--iterations", "1", "--repeat", "1", "--mmap-upgrade");
        assertEquals(0, all.status, all.err);
        assertTrue(all.out.contains("mmap-only+upgrade") && all.out.contains("per-vma-wait+upgrade"), all.out);
    }

    @Test
    @SuppressWarnings("unchecked")
    void runMmapUpgradeIsInTheReportAndTheJson(@TempDir final Path dir) throws Exception {
        final Path json = dir.resolve("run.json");
        final CliHarness r = CliHarness.run(
                ToyKernel.factory(),
                "run",
                "stack-growth",
                "--iterations",
                "2",
                "--mmap-upgrade",
                "--json",
                json.toString());
        assertEquals(0, r.status, r.err);
        assertTrue(r.out.contains("locking=per-vma+upgrade"), r.out);
        final Map<String, Object> m = (Map<String, Object>) MiniJson.parse(Files.readString(json));
        assertEquals("per-vma", m.get("locking"));
        assertEquals(true, m.get("mmapUpgrade"));
    }

    /** More simulated tasks than host CPUs: one warning line on stderr, once per command; none at or below. */
    @Test
    void oversubscribedRunsWarnOnceOnStderr() {
        final String warning = "vmsim: warning: 3 simulated tasks on 2 host CPUs: the figures measure the host's"
                + " scheduler, which deschedules lock holders (use --threads 2 or fewer)\n";
        final CliHarness run =
                CliHarness.runOn(2, ToyKernel.factory(), "run", "spf", "--threads", "3", "--iterations", "1");
        assertEquals(0, run.status, run.err);
        assertEquals(warning, run.err);
        final CliHarness cmp =
                CliHarness.runOn(2, ToyKernel.factory(), "compare", "spf", "--iterations", "1", "--repeat", "2");
        assertEquals(0, cmp.status, cmp.err);
        assertEquals(warning, cmp.err, "compare's default of 3 threads, warned once for all its runs");
        assertTrue(cmp.out.startsWith("spf"), "the report is unchanged on stdout");
        final CliHarness fits =
                CliHarness.runOn(2, ToyKernel.factory(), "run", "spf", "--threads", "2", "--iterations", "1");
        assertEquals(0, fits.status, fits.err);
        assertEquals("", fits.err);
    }

    @Test
    void compareWithAThreadListPrintsAScalingTableOfTheChosenModes(@TempDir final Path dir) throws Exception {
        final Path json = dir.resolve("scaling.json");
        final Path html = dir.resolve("scaling.html");
        final CliHarness r = CliHarness.run(
                ToyKernel.factory(),
                "compare",
                "spf",
                "--threads",
                "1,2",
                "--modes",
                "per-vma-rwsem,per-vma",
                "--iterations",
                "1",
                "--repeat",
                "1",
                "--machine",
                "zen5-2s-128c",
                "--json",
                json.toString(),
                "--html",
                html.toString());
        assertEquals(0, r.status, r.err);
        assertTrue(r.out.startsWith("spf  arch=x86_64  machine=zen5-2s-128c"), r.out);
        assertTrue(r.out.contains("delta against per-vma-rwsem"), r.out);
        final List<String> rows =
                r.out.lines().filter(l -> l.matches(" +[0-9]+ .*")).toList();
        assertEquals(2, rows.size(), r.out);
        assertTrue(rows.get(1).matches(" +2 +\\S+ +\\S+ +[+-][0-9]+\\.[0-9]%"), rows.get(1));
        final com.fasterxml.jackson.databind.JsonNode j =
                dev.vmsim.bench.Json.mapper().readTree(json.toFile());
        assertEquals(2, j.get("rows").size());
        assertEquals("per-vma-rwsem", j.get("modes").get(0).asText());
        assertEquals(
                "zen5-2s-128c",
                j.get("comparisons").get(0).get("runs").get(0).get("machine").asText());
        assertTrue(Files.readString(html).contains("faults/s against threads"));
    }

    /** --clock virtual: 64 CPUs on this host, costs from the profile, and where the virtual time went. */
    @Test
    void runOnTheVirtualClockReportsVirtualTimeByMechanism() {
        final CliHarness r = CliHarness.run(
                dev.vmsim.bench.KernelFactory.simulator(),
                "run",
                "pft",
                "--clock",
                "virtual",
                "--machine",
                "zen5-2s-128c",
                "--threads",
                "64",
                "--iterations",
                "1",
                "--locking",
                "per-vma-rwsem");
        assertEquals(0, r.status, r.err);
        assertEquals("", r.err, "no oversubscription warning on the virtual clock");
        assertTrue(r.out.contains("clock=virtual  machine=zen5-2s-128c"), r.out);
        assertTrue(r.out.contains("virtual time by mechanism"), r.out);
        assertTrue(r.out.contains("line transfer: vma_lock"), r.out);
        assertTrue(r.out.contains("zero_page_4k"), r.out);
    }

    @Test
    void runHelpListsPft() {
        final CliHarness r = CliHarness.run(ToyKernel.factory(), "run", "--help");
        assertTrue(r.out.contains("pft"), r.out);
        assertTrue(r.out.contains("--machine"), r.out);
    }

    /** The WORKLOAD line comes from Workloads, so a workload added there shows in both helps. */
    @Test
    void runAndCompareHelpListEveryWorkload() {
        for (final String command : List.of("run", "compare")) {
            final String help =
                    CliHarness.run(ToyKernel.factory(), command, "--help").out.replaceAll("\\s+", " ");
            for (final dev.vmsim.bench.Workload w : dev.vmsim.bench.workload.Workloads.all()) {
                assertTrue(
                        help.contains(w.name() + ",") || help.contains(w.name() + "."),
                        command + ": " + w.name() + " in " + help);
            }
        }
    }

    @Test
    void compareWithNoWorkloadRunsFaultVsMunmap() {
        final CliHarness r = CliHarness.run(ToyKernel.factory(), "compare", "--iterations", "1", "--repeat", "1");
        assertEquals(0, r.status, r.err);
        assertTrue(r.out.startsWith("fault-vs-munmap"), r.out);
        assertTrue(r.out.contains("threads=3"), r.out);
    }

    @Test
    void helpListsTheCommands() {
        final CliHarness r = CliHarness.run(ToyKernel.factory(), "help");
        assertEquals(0, r.status);
        for (final String c : List.of("run", "compare", "calibrate")) {
            assertTrue(r.out.contains(c), r.out);
        }
    }

    /** run and compare --no-zero-page run on a machine that forbids the zero page, and say so. */
    @Test
    void runOnAKernelWithoutTheZeroPage() {
        final CliHarness r = CliHarness.run(
                KernelFactory.simulator(),
                "run",
                "page-fault1",
                "--threads",
                "1",
                "--iterations",
                "1",
                "--no-zero-page");
        assertEquals(0, r.status, r.err);
        assertTrue(r.out.lines().findFirst().orElseThrow().endsWith("  kernel=--no-zero-page"), r.out);
        final CliHarness cmp = CliHarness.run(
                KernelFactory.simulator(),
                "compare",
                "page-fault1",
                "--threads",
                "1",
                "--iterations",
                "1",
                "--repeat",
                "1",
                "--no-zero-page");
        assertEquals(0, cmp.status, cmp.err);
        assertTrue(cmp.out.startsWith("page-fault1  arch=x86_64  threads=1  kernel=--no-zero-page  "), cmp.out);
        final CliHarness toy = CliHarness.run(
                ToyKernel.factory(), "run", "spf", "--threads", "1", "--iterations", "1", "--no-zero-page");
        assertEquals(1, toy.status, toy.out);
        assertEquals("vmsim: this kernel factory builds only the vanilla kernel\n", toy.err);
    }
}
