package dev.vmsim.core.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenarios whose expected transcripts were recorded with the oracle (vmoracle.c) on Linux 6.18,
 * run on the core test architecture under every locking mode: the spec's examples and scenarios
 * written for the mm work (errors, merge rules incl. VM_ACCOUNT, guard gap, mremap, parse quirks).
 */
class VmScriptTest {
    static Stream<Arguments> scenarios() {
        final String[] names = {
            "nofault/02-errors",
            "nofault/10-mixed",
            "nofault/11-merge-rules",
            "nofault/12-guard-gap",
            "nofault/13-parse",
            "examples/01-split-and-merge",
            "examples/03-stack-growth",
            "examples/04-mremap-move",
            "examples/05-unmap-hole"
        };
        return Stream.of(LockingMode.values()).flatMap(m -> Stream.of(names).map(n -> Arguments.of(n, m)));
    }

    static String resource(final String path) throws IOException {
        try (InputStream in = VmScriptTest.class.getResourceAsStream(path)) {
            assertNotNull(in, path);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("scenarios")
    void transcriptMatchesTheKernel(final String name, final LockingMode mode) throws IOException {
        final String vms = resource("/vmscript/" + name + ".vms");
        final String expected = resource("/vmscript/" + name + ".out");
        assertEquals(expected, VmScript.run(vms, new TestArch(), mode));
    }
}
