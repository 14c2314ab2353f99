package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.app.script.ScenarioFiles;
import dev.vmsim.bench.KernelFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code vmsim script}: exit statuses, error lines, and transcripts of recorded fault-free scenarios. */
class ScriptCommandTest {
    static CliHarness run(final String... args) {
        return CliHarness.run(KernelFactory.simulator(), args);
    }

    @Test
    void unknownArchitectureIsOneLineOnStderrAndStatus2() {
        final CliHarness r = run("script", "--arch", "mips", "-");
        assertEquals(2, r.status);
        assertEquals("", r.out);
        assertEquals(
                "vmsim: Invalid value for option '--arch': unknown arch 'mips' (known: x86_64, arm64)", r.err.strip());
    }

    @Test
    void missingFileIsOneLineOnStderrAndStatus2() {
        final CliHarness r = run("script", "/nonexistent/scenario.vms");
        assertEquals(2, r.status);
        assertEquals("vmsim: cannot read /nonexistent/scenario.vms: no such file or directory", r.err.strip());
    }

    @Test
    void aDirectoryIsNotAScenario(@TempDir final Path dir) {
        final CliHarness r = run("script", dir.toString());
        assertEquals(2, r.status);
        assertEquals("vmsim: cannot read " + dir + ": is a directory", r.err.strip());
    }

    @Test
    void aFileThatIsNotUtf8IsRefused(@TempDir final Path dir) throws IOException {
        final Path f = Files.write(dir.resolve("bin.vms"), new byte[] {(byte) 0xff, (byte) 0xfe, 'm', '\n'});
        final CliHarness r = run("script", f.toString());
        assertEquals(2, r.status);
        assertEquals("vmsim: cannot read " + f + ": not UTF-8 text", r.err.strip());
    }

    @Test
    void unknownLockingModeIsStatus2() {
        final CliHarness r = run("script", "--locking", "none", "-");
        assertEquals(2, r.status);
        assertEquals(1, r.err.lines().count(), r.err);
        assertTrue(r.err.contains("unknown locking mode 'none'"), r.err);
    }

    @Test
    void runsAFileAndPrintsTheTranscript(@TempDir final Path dir) throws IOException {
        final Path f = dir.resolve("s.vms");
        Files.writeString(f, "map a 16K rw-\nunmap a+4K 4K\nmaps extra\nmaps\n", StandardCharsets.UTF_8);
        final CliHarness r = run("script", "--arch", "x86_64", "--locking", "mmap-only", f.toString());
        assertEquals(0, r.status, r.err);
        assertEquals(
                "map a 16K rw- -> ok top-0x4000\nunmap a+4K 4K -> ok\nmaps extra ->syntax\nmaps ->\n"
                        + "  top-0x4000 top-0x3000 rw-p\n  top-0x2000 top+0x0 rw-p\n",
                r.out);
    }

    /** Recorded scenarios that need no page fault (no read, write or populate). */
    static Stream<ScenarioFiles.Recorded> faultFree() {
        final List<ScenarioFiles.Recorded> all = ScenarioFiles.all();
        return all.stream().filter(r -> r.script()
                .lines()
                .map(String::trim)
                .noneMatch(l -> l.startsWith("read") || l.startsWith("write") || l.contains("populate")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faultFree")
    void faultFreeScenarioMatchesTheKernelOnX86(final ScenarioFiles.Recorded r, @TempDir final Path dir)
            throws IOException {
        final Path f = dir.resolve("s.vms");
        Files.writeString(f, r.script(), StandardCharsets.UTF_8);
        final CliHarness res = run("script", "--arch", "x86_64", f.toString());
        assertEquals(0, res.status, res.err);
        assertEquals(r.transcript(), res.out, r.name());
    }

    /** --no-zero-page: the scenarios recorded on a kernel without the zero page, as that kernel printed them. */
    @Test
    void noZeroPageGivesTheTranscriptsOfAKernelWithoutTheZeroPage(@TempDir final Path dir) throws IOException {
        for (final ScenarioFiles.Recorded r : ScenarioFiles.in(ScenarioFiles.NO_ZERO_PAGE)) {
            final Path f = dir.resolve("s.vms");
            Files.writeString(f, r.script());
            final CliHarness res = run("script", "--no-zero-page", f.toString());
            assertEquals(0, res.status, res.err);
            assertEquals(r.transcript(), res.out, r.name());
        }
    }
}
