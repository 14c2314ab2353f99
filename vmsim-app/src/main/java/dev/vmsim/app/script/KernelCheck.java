package dev.vmsim.app.script;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Runs scenarios through a kernel and through the simulator configured as that kernel (a {@link
 * KernelVariant}), and counts the identical transcripts: the recorded scenarios (their scripts;
 * what the kernel prints now is compared, not the recorded transcript) and seeded random ones.
 */
public final class KernelCheck {
    /** Lines of each random scenario. */
    public static final int LINES = 30;

    /** Folders of recorded scenarios whose scripts are run: every folder the project keeps. */
    static final List<String> FOLDERS = Stream.concat(
                    ScenarioFiles.FOLDERS.stream(), Stream.of(ScenarioFiles.NO_ZERO_PAGE))
            .toList();

    /** One scenario whose transcripts differ. */
    public record Difference(String name, String script, String diff) {}

    /** How many of a set of scenarios were identical, and the first that was not (null if none). */
    public record Tally(int identical, int total, Difference first) {}

    private final UnaryOperator<String> kernel;
    private final Arch arch;
    private final KernelVariant variant;

    /** Compares {@code kernel} (a scenario in, its transcript out) with the simulator of {@code arch} running {@code variant}. */
    public KernelCheck(final UnaryOperator<String> kernel, final Arch arch, final KernelVariant variant) {
        this.kernel = kernel;
        this.arch = arch;
        this.variant = variant;
    }

    /** Every recorded scenario's script, in folder then name order. */
    public static List<ScenarioFiles.Recorded> recorded() {
        return FOLDERS.stream().flatMap(f -> ScenarioFiles.in(f).stream()).collect(Collectors.toList());
    }

    /** The recorded scenarios. */
    public Tally corpus() {
        final List<Named> all = new ArrayList<>();
        for (final ScenarioFiles.Recorded r : recorded()) {
            all.add(new Named(r.name(), r.script()));
        }
        return tally(all.stream());
    }

    /** The random scenarios of seeds {@code 1..seeds} ({@link ScenarioGenerator}, {@value #LINES} lines). */
    public Tally random(final int seeds) {
        return tally(Stream.iterate(1L, s -> s <= seeds, s -> s + 1)
                .map(s -> new Named(
                        "seed " + s + " (ScenarioGenerator.generate(" + s + ", " + LINES + "))",
                        ScenarioGenerator.generate(s, LINES))));
    }

    /** The difference between the kernel's and the simulator's transcripts of {@code script}, or null. */
    public String diff(final String script) {
        final String k = kernel.apply(script);
        final String sim = VmScript.run(script, arch, LockingMode.PER_VMA, false, variant);
        return TranscriptDiff.describe(k, sim);
    }

    private Tally tally(final Stream<Named> scenarios) {
        final int[] counts = new int[2];
        final Difference[] first = new Difference[1];
        scenarios.forEach(n -> {
            counts[1]++;
            final String d = diff(n.script);
            if (d == null) {
                counts[0]++;
            } else if (first[0] == null) {
                first[0] = new Difference(n.name, n.script, d);
            }
        });
        return new Tally(counts[0], counts[1], first[0]);
    }

    private record Named(String name, String script) {}
}
