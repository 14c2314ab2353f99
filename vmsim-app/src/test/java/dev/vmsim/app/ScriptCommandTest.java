package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.app.script.ScenarioFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** {@code vmsim script}: exit statuses, error lines, and transcripts of recorded fault-free scenarios. */
class ScriptCommandTest {
    record Result(int status, String out, String err) {}

    static Result run(final String... args) {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cl = new CommandLine(new VmsimMain());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        final int status = cl.execute(args);
        return new Result(status, out.toString(), err.toString());
    }

    @Test
    void unknownArchitectureIsOneLineOnStderrAndStatus2() {
        final Result r = run("script", "--arch", "mips", "-");
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("unknown architecture 'mips'"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void unreadableFileIsOneLineOnStderrAndStatus2() {
        final Result r = run("script", "/nonexistent/scenario.vms");
        assertEquals(2, r.status());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("cannot read /nonexistent/scenario.vms"), r.err());
    }

    @Test
    void unknownLockingModeIsStatus2() {
        final Result r = run("script", "--locking", "none", "-");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("unknown locking mode"), r.err());
    }

    @Test
    void runsAFileAndPrintsTheTranscript(@TempDir final Path dir) throws IOException {
        final Path f = dir.resolve("s.vms");
        Files.writeString(f, "map a 16K rw-\nunmap a+4K 4K\nmaps extra\nmaps\n", StandardCharsets.UTF_8);
        final Result r = run("script", "--arch", "x86_64", "--locking", "mmap-only", f.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("map a 16K rw- -> ok top-0x4000\nunmap a+4K 4K -> ok\nmaps extra ->syntax\nmaps ->\n"
                + "  top-0x4000 top-0x3000 rw-p\n  top-0x2000 top+0x0 rw-p\n", r.out());
    }

    /** Recorded scenarios that need no page fault (no read, write or populate). */
    static Stream<ScenarioFiles.Recorded> faultFree() {
        final List<ScenarioFiles.Recorded> all = ScenarioFiles.all();
        return all.stream().filter(r -> r.script().lines().map(String::trim)
                .noneMatch(l -> l.startsWith("read") || l.startsWith("write") || l.contains("populate")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faultFree")
    void faultFreeScenarioMatchesTheKernelOnX86(final ScenarioFiles.Recorded r, @TempDir final Path dir)
            throws IOException {
        final Path f = dir.resolve("s.vms");
        Files.writeString(f, r.script(), StandardCharsets.UTF_8);
        final Result res = run("script", "--arch", "x86_64", f.toString());
        assertEquals(0, res.status(), res.err());
        assertEquals(r.transcript(), res.out(), r.name());
    }
}
