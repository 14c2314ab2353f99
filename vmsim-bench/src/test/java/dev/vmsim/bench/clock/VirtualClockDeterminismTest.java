package dev.vmsim.bench.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The same command and seed give byte-identical JSON under the virtual clock (the host's
 * wall-clock field aside): twice in this JVM, in JVMs that see 1 and 2 host CPUs, and with the
 * simulated CPUs on virtual threads (a Java 21+ runtime) as on platform threads.
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

    /**
     * Simulated CPUs carried by virtual threads (Java 21+, see Carriers) run the same schedule as on
     * platform threads. Needs a Java 21+ runtime besides the one running the tests: the system property
     * vmsim.test.java21 (a java executable) or one found under /usr/lib/jvm.
     */
    @Test
    void sameJsonOnVirtualThreadCarriers() throws Exception {
        final Optional<Path> java21 = java21();
        assumeTrue(java21.isPresent(), "no Java 21+ runtime found (set -Dvmsim.test.java21=/path/to/bin/java)");
        final String here = VirtualRunProbe.runAll();
        assertEquals(here, fork(java21.get().toString(), 2), java21.get().toString());
        assertEquals(here, fork(javaHere(), 2, "-Dvmsim.carriers=platform"), "-Dvmsim.carriers=platform");
    }

    private static Optional<Path> java21() throws IOException {
        final String given = System.getProperty("vmsim.test.java21");
        if (given != null && !given.isEmpty()) {
            return Optional.of(Path.of(given));
        }
        final Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (Stream<Path> homes = Files.list(jvms)) {
            return homes.sorted()
                    .filter(h -> featureVersion(h.resolve("release")) >= 21)
                    .map(h -> h.resolve("bin").resolve("java"))
                    .filter(Files::isExecutable)
                    .findFirst();
        }
    }

    /** JAVA_VERSION="21.0.2" in a JDK's release file gives 21; 0 when unreadable. */
    private static int featureVersion(final Path release) {
        try {
            for (final String line : Files.readAllLines(release)) {
                if (line.startsWith("JAVA_VERSION=")) {
                    final String v = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                    return Integer.parseInt(v.split("[.+-]")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    private static String javaHere() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String fork(final int cpus) throws IOException, InterruptedException {
        return fork(javaHere(), cpus);
    }

    private static String fork(final String java, final int cpus, final String... flags)
            throws IOException, InterruptedException {
        final List<String> cmd = new ArrayList<>(List.of(java, "-XX:ActiveProcessorCount=" + cpus, "-Xmx1g"));
        cmd.addAll(List.of(flags));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), VirtualRunProbe.class.getName()));
        final Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the forked run ended");
        assertEquals(0, p.exitValue(), "the forked run succeeded");
        return out;
    }
}
