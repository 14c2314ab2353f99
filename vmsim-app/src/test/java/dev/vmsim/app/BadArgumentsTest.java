package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every bad argument prints one line on stderr saying what is wrong, nothing on stdout, exits 2,
 * and runs nothing (the kernel factory is never called).
 */
class BadArgumentsTest {
    private final AtomicInteger kernelsMade = new AtomicInteger();
    private final KernelFactory counting = (arch, mode, frames, cpus) -> {
        kernelsMade.incrementAndGet();
        throw new AssertionError("a run started despite bad arguments");
    };

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(new String[] {"run", "no-such-workload"}, "unknown workload 'no-such-workload'"),
                Arguments.of(new String[] {"run"}, "WORKLOAD"),
                Arguments.of(new String[] {"run", "spf", "--threads", "0"}, "--threads must be at least 1"),
                Arguments.of(new String[] {"run", "spf", "--threads", "-3"}, "--threads must be at least 1"),
                Arguments.of(new String[] {"run", "spf", "--threads", "many"}, "--threads"),
                Arguments.of(new String[] {"run", "spf", "--duration", "abc"}, "invalid duration 'abc'"),
                Arguments.of(new String[] {"run", "spf", "--duration", "0s"}, "invalid duration '0s'"),
                Arguments.of(new String[] {"run", "spf", "--iterations", "0"}, "--iterations must be at least 1"),
                Arguments.of(new String[] {"run", "spf", "--duration", "1s", "--iterations", "3"}, "not both"),
                Arguments.of(new String[] {"run", "spf", "--arch", "riscv"}, "unknown arch 'riscv'"),
                Arguments.of(new String[] {"run", "spf", "--locking", "big-lock"}, "unknown locking mode 'big-lock'"),
                Arguments.of(new String[] {"run", "spf", "--bogus"}, "--bogus"),
                Arguments.of(
                        new String[] {"run", "spf", "--json", "/no/such/dir/out.json"}, "directory does not exist"),
                Arguments.of(new String[] {"compare", "nope"}, "unknown workload 'nope'"),
                Arguments.of(new String[] {"compare", "--repeat", "0"}, "--repeat must be at least 1"),
                Arguments.of(new String[] {"compare", "--locking", "foo"}, "--locking does not apply to compare"),
                Arguments.of(new String[] {"compare", "--threads", "0"}, "--threads must be at least 1"),
                Arguments.of(
                        new String[] {"compare", "--modes", "per-vma,big-lock"}, "unknown locking mode 'big-lock'"),
                Arguments.of(new String[] {"compare", "--modes", "per-vma+fast"}, "unknown option '+fast'"),
                Arguments.of(new String[] {"compare", "--modes", "per-vma,per-vma"}, "--modes names per-vma twice"),
                Arguments.of(
                        new String[] {"compare", "--modes", "per-vma,per-vma+upgrade", "--mmap-upgrade"},
                        "--modes names per-vma+upgrade twice (with --mmap-upgrade"),
                Arguments.of(new String[] {"compare", "--duration", "5x"}, "invalid duration '5x'"),
                Arguments.of(new String[] {"compare", "--html", "/no/such/dir/c.html"}, "directory does not exist"),
                Arguments.of(new String[] {"calibrate", "--arch", "sparc"}, "unknown arch 'sparc'"),
                Arguments.of(new String[] {"calibrate", "--locking", "x"}, "unknown locking mode 'x'"),
                Arguments.of(new String[] {"calibrate", "--repeat", "0"}, "--repeat must be at least 1"),
                Arguments.of(new String[] {"compare", "--iterations", "0"}, "--iterations must be at least 1"),
                Arguments.of(new String[] {"compare", "--arch", "mips"}, "unknown arch 'mips'"),
                Arguments.of(
                        new String[] {"compare", "--json", "/proc/vmsim-c.json"},
                        "--json /proc/vmsim-c.json: not writable"),
                Arguments.of(new String[] {"calibrate", "--cache", "/proc/self/status"}, "not a directory"),
                Arguments.of(new String[] {"script", "--arch", "mips", "-"}, "unknown arch 'mips'"),
                Arguments.of(new String[] {"script", "--locking", "foo", "-"}, "unknown locking mode 'foo'"),
                Arguments.of(new String[] {"script"}, "FILE"),
                Arguments.of(new String[] {"no-such-command"}, "no-such-command"),
                Arguments.of(new String[] {"run", "pft", "--threads", "1,4"}, "--threads takes one count here, got 2"),
                Arguments.of(
                        new String[] {"compare", "pft", "--threads", "1,2000"},
                        "--threads must be at most 1024, got 2000"),
                Arguments.of(
                        new String[] {"compare", "pft", "--threads", "1,0"}, "--threads must be at least 1, got 0"),
                Arguments.of(new String[] {"compare", "pft", "--threads", "4,4"}, "--threads lists a count twice"),
                Arguments.of(
                        new String[] {"compare", "pft", "--modes", "mmap-only,big-lock"},
                        "unknown locking mode 'big-lock'"),
                Arguments.of(
                        new String[] {"run", "pft", "--machine", "cray-1"},
                        "--machine cray-1: unknown machine profile (known: host, icelake-2s-64c, zen5-2s-128c"),
                Arguments.of(
                        new String[] {"compare", "--machine", "/no/such/profile.json"},
                        "--machine /no/such/profile.json: no such file"),
                Arguments.of(
                        new String[] {"script", "--machine", "nope", "-"}, "--machine nope: unknown machine profile"),
                Arguments.of(new String[] {"run", "pft", "--mem", "12Q"}, "malformed size '12Q'"),
                Arguments.of(new String[] {"run", "pft", "--mem", "M"}, "malformed size 'M'"),
                Arguments.of(new String[] {"compare", "--swap", "1.5G"}, "malformed size '1.5G'"),
                Arguments.of(new String[] {"run", "pft", "--mem", "64K"}, "--mem 65536 bytes is below the"),
                Arguments.of(new String[] {"compare", "--threads", "1,64", "--mem", "1M"}, "needs to boot 64 task(s)"),
                Arguments.of(
                        new String[] {"run", "pft", "--swap", "1E"},
                        "--swap 1152921504606846976 bytes is larger than this host can back"),
                Arguments.of(
                        new String[] {"run", "swap-storm", "--swap", "1K"},
                        "--swap 1024 bytes is below the 2 pages (8K)"),
                Arguments.of(
                        new String[] {"run", "pft", "--clock", "sundial"},
                        "--clock must be host or virtual, got 'sundial'"),
                Arguments.of(
                        new String[] {"compare", "--clock", "Virtual"},
                        "--clock must be host or virtual, got 'Virtual'"),
                Arguments.of(new String[] {"script", "--clock", "x", "-"}, "--clock must be host or virtual, got 'x'"),
                Arguments.of(new String[] {"calibrate", "--output", "/tmp/x.json"}, "--output applies to --fit only"));
    }

    /** A profile file with one field broken, and the line that names it. */
    static Stream<Arguments> badProfiles() {
        return Stream.of(
                Arguments.of("\"c2c_smt\": {\"value\": -1,", "parameters.c2c_smt: must be >= 0, got -1"),
                Arguments.of(
                        "\"c2c_smt\": {\"value\": \"slow\",",
                        "parameters.c2c_smt: must be a number, got a string \"slow\""),
                Arguments.of("\"c2c_smt\": {\"valu\": 8,", "parameters.c2c_smt.valu: unknown field"),
                Arguments.of("\"c2c_smt\": {\"value\": 8,,", "malformed JSON at line 1"));
    }

    @ParameterizedTest
    @MethodSource("badProfiles")
    void aBadMachineProfileExitsTwoNamingTheField(
            final String replacement, final String expected, @TempDir final Path dir) throws Exception {
        final String good = dev.vmsim.bench.profile.MachineProfiles.shipped("icelake-2s-64c")
                .toJsonNode()
                .toString();
        final String bad = good.replace("\"c2c_smt\":{\"value\":8,", replacement);
        assertTrue(!bad.equals(good), "the edit applied");
        final Path f = Files.writeString(dir.resolve("bad.json"), bad);
        for (final String[] args : List.of(
                new String[] {"run", "pft", "--machine", f.toString()},
                new String[] {"compare", "pft", "--machine", f.toString()},
                new String[] {"script", "--machine", f.toString(), "-"})) {
            final CliHarness r = CliHarness.run(counting, args);
            assertEquals(2, r.status, r.err);
            assertTrue(r.err.startsWith("vmsim: --machine " + f + ": " + expected), r.err);
            assertEquals(1, r.err.strip().split("\n").length, r.err);
            assertEquals(0, kernelsMade.get());
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void badArgumentExitsTwoWithOneLineOnStderr(final String[] args, final String expected) {
        final CliHarness r = CliHarness.run(counting, args);
        assertEquals(2, r.status, r.err);
        assertEquals("", r.out);
        assertEquals(1, r.err.strip().split("\n").length, "one line: " + r.err);
        assertTrue(r.err.startsWith("vmsim: "), r.err);
        assertTrue(r.err.contains(expected), r.err);
        assertFalse(r.err.contains("Exception"), r.err);
        assertEquals(0, kernelsMade.get());
    }

    @Test
    void aJsonPathThatIsADirectoryIsRefused(@TempDir final Path dir) {
        final CliHarness r = CliHarness.run(counting, "run", "mmap1", "--json", dir.toString());
        assertEquals(2, r.status);
        assertTrue(r.err.contains("is a directory"), r.err);
    }

    /**
     * /proc refuses new files whatever the caller's privileges, so this fails for root too (a
     * read-only mode bit would not stop root, and the test would prove nothing there).
     */
    @Test
    void aJsonPathThatCannotBeCreatedIsRefused() {
        final CliHarness r = CliHarness.run(counting, "run", "mmap1", "--json", "/proc/vmsim-run.json");
        assertEquals(2, r.status, r.err);
        assertTrue(r.err.startsWith("vmsim: --json /proc/vmsim-run.json: not writable ("), r.err);
        assertEquals(0, kernelsMade.get());
    }

    @Test
    void anExistingJsonFileIsLeftAsItWasByTheCheck(@TempDir final Path dir) throws Exception {
        final Path f = Files.writeString(dir.resolve("old.json"), "kept");
        final CliHarness r = CliHarness.run(counting, "run", "mmap1", "--json", f.toString(), "--threads", "0");
        assertEquals(2, r.status);
        assertEquals("kept", Files.readString(f));
    }

    @ParameterizedTest
    @ValueSource(strings = {"run", "compare", "calibrate", "script"})
    void everySubcommandHasHelp(final String command) {
        final CliHarness r = CliHarness.run(counting, command, "--help");
        assertEquals(0, r.status, r.err);
        assertTrue(r.out.startsWith("Usage: vmsim " + command), r.out);
        assertEquals("", r.err);
    }

    @Test
    void aRunThatFailsExitsOneWithOneLine() {
        final KernelFactory failing = (arch, mode, frames, cpus) -> {
            throw new IllegalArgumentException("architecture x86_64 is not on the class path");
        };
        final CliHarness r = CliHarness.run(failing, "run", "mmap1", "--iterations", "1");
        assertEquals(1, r.status);
        assertEquals("", r.out);
        assertEquals("vmsim: architecture x86_64 is not on the class path", r.err.strip());
    }
}
