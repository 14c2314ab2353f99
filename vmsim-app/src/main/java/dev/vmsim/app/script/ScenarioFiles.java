package dev.vmsim.app.script;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The recorded vmscript scenarios on the class path (vmsim-app's resources, so in vmsim.jar too): {@code vmscript/corpus/} (this project's
 * corpus), {@code vmscript/examples/} (the examples of the spec), {@code vmscript/fork/} (scenarios
 * of several tasks: fork, exit, {@code in NAME:}), {@code vmscript/proc/} (smaps, smaps_rollup,
 * status) and {@code vmscript/guard/} (guard regions and populate), each {@code NN-name.vms} with the transcript the real kernel (Linux 6.18, vanilla) printed
 * for it in {@code NN-name.out}. {@code vmscript/no-zero-page/} holds scenarios recorded on a 6.18
 * kernel that never maps the zero page ({@link #NO_ZERO_PAGE}), for the simulator's variant of it.
 */
public final class ScenarioFiles {
    /** One recorded scenario. */
    public record Recorded(String name, String script, String transcript) {}

    /**
     * Guard regions (MADV_GUARD_INSTALL/REMOVE, Linux 6.13+), MADV_POPULATE_READ/WRITE and
     * MADV_WIPEONFORK, alone and across fork: recorded on Linux 6.18.44 booted without the zero page
     * (pvm_no_zero_page=1). They print no /proc view, so nothing in them depends on the zero page:
     * the simulator gives them with and without --no-zero-page.
     */
    public static final String GUARD = "vmscript/guard";

    /** Scenarios recorded on a kernel where mm_forbids_zeropage() holds (booted with pvm_no_zero_page=1). */
    public static final String NO_ZERO_PAGE = "vmscript/no-zero-page";

    /** The folders of {@link #all}, in its order: the scenarios any zero-page setting runs. */
    public static final List<String> FOLDERS =
            List.of("vmscript/examples", "vmscript/corpus", "vmscript/fork", "vmscript/proc", GUARD);

    private ScenarioFiles() {}

    /** Every scenario of the examples, the corpus, the fork, the /proc and the guard scenarios, sorted by folder then name. */
    public static List<Recorded> all() {
        return FOLDERS.stream().flatMap(folder -> in(folder).stream()).collect(Collectors.toList());
    }

    /** The scenarios in one class-path folder, sorted by name (from the build tree or from vmsim.jar). */
    public static List<Recorded> in(final String folder) {
        final URL url = ScenarioFiles.class.getClassLoader().getResource(folder);
        if (url == null) {
            throw new IllegalStateException("resource folder " + folder + " is missing from the class path");
        }
        try {
            final URI uri = url.toURI();
            if (!uri.getScheme().equals("jar")) {
                return list(Path.of(uri));
            }
            try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of())) {
                return list(jar.getPath("/" + folder));
            }
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        } catch (final URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Recorded> list(final Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".vms"))
                    .sorted()
                    .map(ScenarioFiles::load)
                    .collect(Collectors.toList());
        }
    }

    private static Recorded load(final Path vms) {
        final String file = vms.getFileName().toString();
        final Path out = vms.resolveSibling(file.substring(0, file.length() - ".vms".length()) + ".out");
        try {
            return new Recorded(
                    vms.getParent().getFileName() + "/" + file,
                    Files.readString(vms, StandardCharsets.UTF_8),
                    Files.readString(out, StandardCharsets.UTF_8));
        } catch (final IOException e) {
            throw new UncheckedIOException("no transcript recorded for " + vms, e);
        }
    }
}
