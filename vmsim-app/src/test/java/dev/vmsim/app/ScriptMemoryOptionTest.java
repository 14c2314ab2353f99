package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vmsim script --mem/--swap}: run's bad-input rules, the script machine's bounds, and the script's line winning. */
class ScriptMemoryOptionTest {
    private static CliHarness run(final String... args) {
        return CliHarness.run(KernelFactory.simulator(), args);
    }

    private static Path script(final Path dir, final String text) throws IOException {
        return Files.writeString(dir.resolve("s.vms"), text);
    }

    @Test
    void aMalformedSizeIsOneLineAndStatus2(@TempDir final Path dir) throws IOException {
        final CliHarness r =
                run("script", "--mem", "1.5M", script(dir, "meminfo\n").toString());
        assertEquals(2, r.status);
        assertEquals(1, r.err.strip().lines().count(), r.err);
        assertTrue(r.err.contains("malformed size '1.5M'"), r.err);
    }

    @Test
    void memBelowTheBootMinimumOrAboveTheScriptMachineIsStatus2(@TempDir final Path dir) throws IOException {
        final Path f = script(dir, "meminfo\n");
        final CliHarness low = run("script", "--mem", "16K", f.toString());
        assertEquals(2, low.status);
        assertTrue(low.err.startsWith("vmsim: --mem 16384 bytes is below the "), low.err);
        final CliHarness high = run("script", "--mem", "1G", f.toString());
        assertEquals(2, high.status);
        assertTrue(high.err.startsWith("vmsim: --mem 1073741824 bytes is above the 262144K"), high.err);
    }

    @Test
    void swapTheHostCannotBackIsStatus2(@TempDir final Path dir) throws IOException {
        final CliHarness r =
                run("script", "--swap", "1E", script(dir, "meminfo\n").toString());
        assertEquals(2, r.status);
        assertTrue(r.err.contains("larger than this host can back"), r.err);
    }

    @Test
    void theOptionsSizeTheMachineAndTheScriptsLineWins(@TempDir final Path dir) throws IOException {
        final CliHarness opt = run(
                "script",
                "--mem",
                "2M",
                "--swap",
                "1M",
                script(dir, "meminfo\n").toString());
        assertEquals(0, opt.status, opt.err);
        assertTrue(opt.out.contains("\n  MemTotal:           2044 kB\n"), opt.out);
        assertTrue(opt.out.contains("\n  SwapTotal:          1024 kB\n"), opt.out);
        final CliHarness line =
                run("script", "--mem", "2M", script(dir, "mem 1M\nmeminfo\n").toString());
        assertEquals(0, line.status, line.err);
        assertTrue(line.out.contains("\n  MemTotal:           1020 kB\n"), line.out);
    }
}
