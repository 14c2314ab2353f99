package dev.vmsim.bench.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The same command and seed give byte-identical JSON under the virtual clock (the host's
 * wall-clock field aside): twice in this JVM, and in JVMs that see 1 and 2 host CPUs.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class VirtualClockDeterminismTest {
    @Test
    void sameSeedSameJsonInThisJvm() {
        final String first = VirtualRunProbe.runAll();
        assertTrue(first.contains("\"clock\":\"virtual\"") && first.contains("\"virtualTimeNs\""), first);
        assertTrue(first.contains("line transfer: vma_lock"), "the per-VMA rwsem's line moved: " + first);
        assertEquals(first, VirtualRunProbe.runAll());
    }

    @Test
    void sameJsonWhateverTheHostsCpuCount() throws Exception {
        final String here = VirtualRunProbe.runAll();
        assertEquals(here, fork(1), "-XX:ActiveProcessorCount=1");
        assertEquals(here, fork(2), "-XX:ActiveProcessorCount=2");
    }

    private static String fork(final int cpus) throws IOException, InterruptedException {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process p = new ProcessBuilder(List.of(java, "-XX:ActiveProcessorCount=" + cpus, "-Xmx1g",
                        "-cp", System.getProperty("java.class.path"), VirtualRunProbe.class.getName()))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the forked run ended");
        assertEquals(0, p.exitValue(), "the forked run succeeded");
        return out;
    }
}
