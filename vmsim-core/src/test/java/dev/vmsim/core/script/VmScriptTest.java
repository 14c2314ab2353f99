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
 * Scenarios whose expected transcripts were recorded with the oracle (vmoracle.c) on Linux 6.18
 * and that need no page faults (map/unmap/protect/remap/dontneed/maps and parse errors), run on
 * the core test architecture under every locking mode.
 */
class VmScriptTest {
    static Stream<Arguments> scenarios() {
        final String[] names = {"02-errors", "10-mixed", "11-merge-rules", "12-guard-gap", "13-parse"};
        return Stream.of(LockingMode.values())
                .flatMap(m -> Stream.of(names).map(n -> Arguments.of(n, m)));
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
        final String vms = resource("/vmscript/nofault/" + name + ".vms");
        final String expected = resource("/vmscript/nofault/" + name + ".out");
        assertEquals(expected, VmScript.run(vms, new TestArch(), mode));
    }
}
