package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.MiniJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** --mem and --swap end to end on the simulator: the run reclaims and swaps, the JSON shows it. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MemoryOptionTest {
    @Test
    @SuppressWarnings("unchecked")
    void aRunInLessMemoryThanItsWorkingSetSwapsAndMeminfoShowsTheDevice(@TempDir final Path dir) throws Exception {
        final Path json = dir.resolve("run.json");
        // spf touches 100 pages per round; 300K is 75 frames
        final CliHarness r = CliHarness.run(
                KernelFactory.simulator(),
                "run",
                "spf",
                "--threads",
                "1",
                "--iterations",
                "20",
                "--mem",
                "300K",
                "--swap",
                "8M",
                "--json",
                json.toString());
        assertEquals(0, r.status, r.err);
        final Map<String, Object> m = (Map<String, Object>) MiniJson.parse(Files.readString(json));
        final Map<String, Object> vmstat = assertInstanceOf(Map.class, m.get("vmstat"));
        assertTrue((Long) vmstat.get("pswpout") > 0, "swapped out: " + vmstat);
        // 75 frames, 32 below min: should_reclaim_retry counts the swappable LRU folios, so the slow
        // path reclaims to swap instead of killing (SmallMachineOomTest reproduces the old kill).
        assertEquals(0L, vmstat.get("oom_kill"), "swap made room: nobody killed");
        final Map<String, Object> meminfo = assertInstanceOf(Map.class, m.get("meminfo"));
        assertEquals(8192L, meminfo.get("SwapTotal"));
        assertEquals(296L, meminfo.get("MemTotal"), "75 frames less the reserved zero page");
    }

    @Test
    void theHostBackingCheckComparesWithTheHeapLimit() {
        final CommandLine cl = new CommandLine(new VmsimMain(KernelFactory.simulator(), () -> 1, null));
        MemoryOption.checkHostBacks(cl, 64L << 20, 4096, 1L << 30); // fits
        final CommandLine.ParameterException e = org.junit.jupiter.api.Assertions.assertThrows(
                CommandLine.ParameterException.class, () -> MemoryOption.checkHostBacks(cl, 1L << 30, 4096, 1L << 30));
        assertTrue(e.getMessage().contains("Runtime.maxMemory) is 1073741824 bytes"), e.getMessage());
    }
}
