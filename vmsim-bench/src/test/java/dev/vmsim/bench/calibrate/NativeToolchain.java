package dev.vmsim.bench.calibrate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Whether the native probes can be built and run here: Linux (they read /proc) and a gcc that the
 * PATH finds, as {@link NativeProbe} runs it. The kernel-tagged tests skip with the reason otherwise.
 */
final class NativeToolchain {
    private NativeToolchain() {}

    /** Null when the probes can be built; otherwise why not. */
    static String unavailableReason() {
        if (!Files.isRegularFile(Path.of("/proc/self/status"))) {
            return "needs /proc (Linux)";
        }
        try {
            final Process p = new ProcessBuilder("gcc", "--version")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "gcc --version did not finish within 30 s";
            }
            return p.exitValue() == 0 ? null : "gcc --version exited with " + p.exitValue();
        } catch (final IOException e) {
            return "needs gcc on the PATH: " + e.getMessage();
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while looking for gcc";
        }
    }
}
