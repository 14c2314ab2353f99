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
import java.util.function.UnaryOperator;

/**
 * The real kernel as a vmscript runner: the project's oracle ({@code vmscript/oracle/vmoracle.c}
 * on the class path) compiled with {@code gcc -O1 -static} into a directory and run once per
 * scenario, the scenario on its stdin.
 *
 * <p>The binary is cached in its directory: it is rebuilt only when the C source differs from the
 * copy kept next to it. It must be static, or the holes between ld.so's mappings would catch small
 * mappings above the arena (see the vmscript spec).
 *
 * <p>{@link #build(Path)} says why the oracle cannot run here (not Linux, no gcc, no static libc,
 * ...): {@code check-kernel} prints it on one line, and tests skip with it.
 */
public final class KernelOracle {
    /** The oracle's C source on the class path. */
    public static final String SOURCE_RESOURCE = "/vmscript/oracle/vmoracle.c";

    private static final long RUN_TIMEOUT_SECONDS = 20;
    private static final long COMPILE_TIMEOUT_SECONDS = 120;

    private final Path binary;

    private KernelOracle(final Path binary) {
        this.binary = binary;
    }

    /**
     * A kernel to run scenarios on (the compiled oracle's {@link #run}, or in tests a stand-in), or
     * why there is none on this machine.
     */
    public record Built(UnaryOperator<String> kernel, String unavailable) {
        /** The kernel; throws with the reason when the oracle could not be built. */
        public UnaryOperator<String> get() {
            if (kernel == null) {
                throw new IllegalStateException("kernel oracle unavailable: " + unavailable);
            }
            return kernel;
        }
    }

    /**
     * Compiles the oracle into {@code dir} (created if needed) unless the binary there was built from
     * the same source; never throws for a machine that lacks gcc, a static libc or Linux.
     */
    public static Built build(final Path dir) {
        final String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) {
            return unavailable("the oracle runs scenarios on the real Linux kernel; this is " + os);
        }
        try (InputStream src = KernelOracle.class.getResourceAsStream(SOURCE_RESOURCE)) {
            if (src == null) {
                return unavailable("resource " + SOURCE_RESOURCE + " is missing from the class path");
            }
            final byte[] source = src.readAllBytes();
            Files.createDirectories(dir);
            final Path cachedSource = dir.resolve("vmoracle.c");
            final Path exe = dir.resolve("vmoracle");
            if (Files.isExecutable(exe)
                    && Files.exists(cachedSource)
                    && Arrays.equals(Files.readAllBytes(cachedSource), source)) {
                return new Built(new KernelOracle(exe)::run, null);
            }
            final Path tmpSource = Files.createTempFile(dir, "vmoracle", ".c");
            final Path tmpExe = Files.createTempFile(dir, "vmoracle", ".bin");
            try {
                Files.write(tmpSource, source);
                final String err = compile(tmpSource, tmpExe);
                if (err != null) {
                    return unavailable(err);
                }
                Files.move(tmpExe, exe, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                Files.move(
                        tmpSource, cachedSource, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                return new Built(new KernelOracle(exe)::run, null);
            } finally {
                Files.deleteIfExists(tmpSource);
                Files.deleteIfExists(tmpExe);
            }
        } catch (final IOException e) {
            return unavailable("cannot prepare the oracle in " + dir.toAbsolutePath() + ": " + e.getMessage());
        }
    }

    private static Built unavailable(final String why) {
        return new Built(null, why);
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
    public String run(final String script) {
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
            if (!p.waitFor(COMPILE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "gcc did not finish within " + COMPILE_TIMEOUT_SECONDS + " s";
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while compiling the oracle";
        }
        if (p.exitValue() != 0) {
            return "gcc -static failed (a static libc is needed, e.g. Debian's libc6-dev): " + firstLine(log);
        }
        return null;
    }

    private static String firstLine(final String log) {
        final String t = log.strip();
        final int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
