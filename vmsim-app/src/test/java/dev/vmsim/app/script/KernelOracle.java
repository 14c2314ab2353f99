package dev.vmsim.app.script;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The real kernel as a vmscript runner: the project's copy of the oracle
 * ({@code src/test/resources/vmscript/oracle/vmoracle.c}) compiled with {@code gcc -O1 -static} into
 * {@code target/vmoracle/} and run once per scenario, the scenario on its stdin.
 *
 * <p>The binary is cached: it is rebuilt only when the C source differs from the copy kept next to
 * it. It must be static, or the holes between ld.so's mappings would catch small mappings above
 * the arena (see the vmscript spec).
 *
 * <p>{@link #unavailableReason()} says why the oracle cannot run here (not Linux, no gcc, no static
 * libc, ...); tests use it with {@code Assumptions} so that a machine without gcc skips them with a
 * clear message instead of failing.
 */
public final class KernelOracle {
    private static final String SOURCE_RESOURCE = "/vmscript/oracle/vmoracle.c";
    private static final Path DIR = Path.of("target", "vmoracle");
    private static final long RUN_TIMEOUT_SECONDS = 20;

    private static Path binary;
    private static String unavailable;

    private KernelOracle() {}

    /** Null when the oracle is ready to run; otherwise why it cannot run on this machine. */
    public static synchronized String unavailableReason() {
        if (binary == null && unavailable == null) {
            build();
        }
        return unavailable;
    }

    /** The kernel release ({@code uname -r}), or "" if it cannot be read. */
    public static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (final IOException | RuntimeException e) {
            return "";
        }
    }

    /**
     * True on the kernel series the corpus was recorded on (Linux 6.18): the simulator models that
     * kernel, and other releases differ in what a transcript shows (6.17 added multi-VMA mremap moves).
     */
    public static boolean isRecordedKernelSeries() {
        return kernelRelease().startsWith("6.18.");
    }

    /** Runs {@code script} on the real kernel and returns the oracle's transcript. */
    public static String run(final String script) {
        final String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException("kernel oracle unavailable: " + why);
        }
        try {
            final Process p = new ProcessBuilder(binary.toAbsolutePath().toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(script.getBytes(StandardCharsets.UTF_8));
            }
            final byte[] out;
            try (InputStream stdout = p.getInputStream()) {
                out = stdout.readAllBytes();
            }
            if (!p.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("kernel oracle did not finish within " + RUN_TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("kernel oracle exited with " + p.exitValue() + " on:\n" + script);
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void build() {
        final String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) {
            unavailable = "the oracle runs scenarios on the real Linux kernel; this is " + os;
            return;
        }
        try (InputStream src = KernelOracle.class.getResourceAsStream(SOURCE_RESOURCE)) {
            if (src == null) {
                unavailable = "test resource " + SOURCE_RESOURCE + " is missing";
                return;
            }
            final byte[] source = src.readAllBytes();
            Files.createDirectories(DIR);
            final Path cachedSource = DIR.resolve("vmoracle.c");
            final Path exe = DIR.resolve("vmoracle");
            if (Files.isExecutable(exe)
                    && Files.exists(cachedSource)
                    && Arrays.equals(Files.readAllBytes(cachedSource), source)) {
                binary = exe;
                return;
            }
            final Path tmpSource = Files.createTempFile(DIR, "vmoracle", ".c");
            final Path tmpExe = Files.createTempFile(DIR, "vmoracle", ".bin");
            try {
                Files.write(tmpSource, source);
                final String err = compile(tmpSource, tmpExe);
                if (err != null) {
                    unavailable = err;
                    return;
                }
                Files.move(tmpExe, exe, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                Files.move(tmpSource, cachedSource, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                binary = exe;
            } finally {
                Files.deleteIfExists(tmpSource);
                Files.deleteIfExists(tmpExe);
            }
        } catch (final IOException e) {
            unavailable = "cannot prepare the oracle in " + DIR.toAbsolutePath() + ": " + e;
        }
    }

    /** Compiles the oracle; null on success, else the reason (gcc missing, static link failed...). */
    private static String compile(final Path source, final Path exe) throws IOException {
        final Process p;
        try {
            p = new ProcessBuilder("gcc", "-O1", "-static", "-o", exe.toString(), source.toString())
                    .redirectErrorStream(true)
                    .start();
        } catch (final IOException e) {
            return "gcc is not installed (needed to build the kernel oracle): " + e.getMessage();
        }
        final String log;
        try (InputStream out = p.getInputStream()) {
            log = new String(out.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "gcc did not finish within 120 s";
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while compiling the oracle";
        }
        if (p.exitValue() != 0) {
            return "gcc -static failed (a static libc is needed): " + log.strip();
        }
        return null;
    }
}
