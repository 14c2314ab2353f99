package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code --granule} on script, run and compare: the page size of an arm64 machine, refused elsewhere. */
class GranuleOptionTest {
    private static CliHarness run(final String... args) {
        return CliHarness.run(KernelFactory.simulator(), args);
    }

    /** The script command on {@code script} as standard input. */
    private static CliHarness script(final String script, final String... args) {
        final InputStream in = System.in;
        System.setIn(new ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8)));
        try {
            return run(args);
        } finally {
            System.setIn(in);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"script", "run", "compare"})
    void aGranuleOnX86IsOneLineAndStatus2(final String command) {
        final CliHarness r = command.equals("script")
                ? run("script", "--granule", "16K", "-")
                : run(command, "spf", "--granule", "64K", "--iterations", "1");
        assertEquals(2, r.status);
        assertEquals("", r.out);
        assertEquals("vmsim: --granule applies to arm64 only; x86_64 has 4K pages", r.err.strip());
    }

    @Test
    void anUnknownGranuleIsOneLineAndStatus2() {
        final CliHarness r = run("run", "spf", "--arch", "arm64", "--granule", "8K", "--iterations", "1");
        assertEquals(2, r.status);
        assertEquals(
                "vmsim: Invalid value for option '--granule': unknown granule '8K' (known: 4K, 16K, 64K)",
                r.err.strip());
    }

    @Test
    void aMappingIsRoundedUpToTheGranuleAsThe64KKernelDoes() {
        final CliHarness r = script(
                "map a 16K rw-\nwrite a+20K\nmaps\nunmap a 4K\nmaps\n",
                "script",
                "--arch",
                "arm64",
                "--granule",
                "64k",
                "-");
        assertEquals(0, r.status, r.err);
        assertEquals(
                "map a 16K rw- -> ok top-0x10000\n"
                        + "write a+20K -> ok\n"
                        + "maps ->\n"
                        + "  top-0x10000 top+0x0 rw-p\n"
                        + "unmap a 4K -> ok\n"
                        + "maps ->\n",
                r.out);
    }

    @Test
    void runNamesThePageSizeAndPageFault1Takes2048FaultsPerRoundOn64K() {
        final CliHarness r =
                run("run", "page-fault1", "--arch", "arm64", "--granule", "64K", "--threads", "1", "--iterations", "3");
        assertEquals(0, r.status, r.err);
        assertTrue(r.out.startsWith("page-fault1  arch=arm64/64K  locking="), r.out);
        assertTrue(r.out.contains("3 rounds: 6144 faults"), r.out);
    }
}
