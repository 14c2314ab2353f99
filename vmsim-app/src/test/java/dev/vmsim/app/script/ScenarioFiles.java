package dev.vmsim.app.script;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The recorded vmscript scenarios on the test class path: {@code vmscript/corpus/} (this project's
 * corpus), {@code vmscript/examples/} (the examples of the spec), {@code vmscript/fork/} (scenarios
 * of several tasks: fork, exit, {@code in NAME:}) and {@code vmscript/proc/} (smaps, smaps_rollup,
 * status), each {@code NN-name.vms} with
 * the transcript the real kernel printed for it in {@code NN-name.out}.
 */
public final class ScenarioFiles {
    /** One recorded scenario. */
    public record Recorded(String name, String script, String transcript) {}

    private ScenarioFiles() {}

    /** Every scenario of the examples, the corpus, the fork and the /proc scenarios, sorted by folder then name. */
    public static List<Recorded> all() {
        return Stream.of("vmscript/examples", "vmscript/corpus", "vmscript/fork", "vmscript/proc")
                .flatMap(folder -> in(folder).stream())
                .collect(Collectors.toList());
    }

    /** The scenarios in one class-path folder, sorted by name. */
    public static List<Recorded> in(final String folder) {
        final URL url = ScenarioFiles.class.getClassLoader().getResource(folder);
        if (url == null) {
            throw new IllegalStateException("test resource folder " + folder + " is missing");
        }
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".vms"))
                    .sorted()
                    .map(ScenarioFiles::load)
                    .collect(Collectors.toList());
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        } catch (final URISyntaxException e) {
            throw new IllegalStateException(e);
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
