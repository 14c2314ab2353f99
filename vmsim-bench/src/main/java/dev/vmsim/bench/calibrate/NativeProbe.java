package dev.vmsim.bench.calibrate;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One of the project's own C probes of the real kernel (resources dev/vmsim/bench/native), compiled
 * with gcc on first use into a cache directory keyed by a hash of its source, then run; it prints
 * key=value lines.
 */
public final class NativeProbe {
    private static final String RESOURCES = "/dev/vmsim/bench/native/";
    private static final String HEADER = "probe_common.h";
    private static final long TIMEOUT_S = 120;

    private final String name;
    private final Path cacheRoot;

    /** The probe {@code name} (page_fault1, mmap1), cached under {@code cacheRoot}. */
    public NativeProbe(final String name, final Path cacheRoot) {
        this.name = name;
        this.cacheRoot = cacheRoot;
    }

    /** The default cache: vmsim-probes under java.io.tmpdir. */
    public static Path defaultCache() {
        return Path.of(System.getProperty("java.io.tmpdir"), "vmsim-probes");
    }

    /** Compiles the probe unless a binary of the same source is cached; returns the binary. */
    public Path binary() throws IOException, InterruptedException {
        final byte[] source = resource(name + ".c");
        final byte[] header = resource(HEADER);
        final Path dir = cacheRoot.resolve(name + "-" + hash(source, header));
        final Path bin = dir.resolve(name);
        if (Files.isExecutable(bin)) {
            return bin;
        }
        Files.createDirectories(dir);
        Files.write(dir.resolve(name + ".c"), source);
        Files.write(dir.resolve(HEADER), header);
        final Path tmp = dir.resolve(name + ".tmp" + ProcessHandle.current().pid());
        final Result r = exec(
                List.of(
                        "gcc",
                        "-O2",
                        "-pthread",
                        "-o",
                        tmp.toString(),
                        dir.resolve(name + ".c").toString()),
                dir);
        if (r.status != 0) {
            throw new IOException("gcc failed to compile " + name + ".c: " + r.output.trim());
        }
        Files.move(
                tmp,
                bin,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return bin;
    }

    /** Runs the probe with {@code args}; its key=value output. */
    public Map<String, String> run(final String... args) throws IOException, InterruptedException {
        final List<String> cmd = new ArrayList<>();
        cmd.add(binary().toString());
        cmd.addAll(List.of(args));
        final Result r = exec(cmd, cacheRoot);
        if (r.status != 0) {
            throw new IOException(name + " probe failed (" + r.status + "): " + r.output.trim());
        }
        return parse(r.output);
    }

    /** key=value lines to a map; other lines are ignored. */
    static Map<String, String> parse(final String output) {
        final Map<String, String> m = new LinkedHashMap<>();
        for (final String line : output.split("\n")) {
            final int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        return m;
    }

    private static Result exec(final List<String> cmd, final Path dir) throws IOException, InterruptedException {
        final Process p;
        try {
            p = new ProcessBuilder(cmd)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            throw new IOException("cannot run " + cmd.get(0) + " (is gcc installed?): " + e.getMessage(), e);
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(cmd.get(0) + " did not finish in " + TIMEOUT_S + " s");
        }
        return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    }

    private static byte[] resource(final String file) throws IOException {
        try (InputStream in = NativeProbe.class.getResourceAsStream(RESOURCES + file)) {
            if (in == null) {
                throw new IOException("probe source " + file + " missing from the class path");
            }
            return in.readAllBytes();
        }
    }

    private static String hash(final byte[]... parts) {
        try {
            final MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (final byte[] p : parts) {
                md.update(p);
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class Result {
        final int status;
        final String output;

        Result(final int status, final String output) {
            this.status = status;
            this.output = output;
        }
    }
}
