package dev.vmsim.app.script;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Finds, by running vmscript probes on a kernel, the {@link KernelVariant} of the simulator that
 * behaves as that kernel does: whether an anonymous read fault maps the zero page, and the stack
 * guard gap. It also reports whether transparent huge pages change where the kernel places a
 * mapping, which the simulator does not model.
 *
 * <p>Each probe is a scenario whose transcript differs between the settings; the kernel's transcript
 * is then checked against the simulator configured with the setting found, so a probe that cannot
 * tell reports so instead of guessing.
 */
public final class KernelProbe {
    /** Pages the guard-gap probe's stack sits above an accessible mapping: gaps up to this are measured. */
    static final int GAP_PROBE_PAGES = 1024;
    /** The 2 MiB mapping of the THP probe, tried a few times: top is 2 MiB-aligned now and then by chance. */
    private static final String THP_PROBE = "map a 2M rw-\n";

    private static final int THP_TRIES = 3;
    private static final Path THP_ENABLED = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

    /** One behaviour probed: what it is, what the kernel does, and whether the simulator matches it. */
    public record Finding(String behaviour, String kernel, String simulator) {}

    /** The variant that matches the kernel, and what each probe found. */
    public record Result(KernelVariant variant, List<Finding> findings) {}

    private final UnaryOperator<String> kernel;
    private final Arch arch;

    /** Probes {@code kernel} (a scenario in, its transcript out), comparing with the simulator of {@code arch}. */
    public KernelProbe(final UnaryOperator<String> kernel, final Arch arch) {
        this.kernel = kernel;
        this.arch = arch;
    }

    /** Runs every probe. */
    public Result run() {
        final List<Finding> findings = new ArrayList<>();
        KernelVariant v = KernelVariant.VANILLA;
        final String zero = kernel.apply(zeroPageScript());
        if (zero.equals(simulate(zeroPageScript(), v))) {
            findings.add(new Finding("zero page on anonymous read faults", "mapped", "as the kernel (the default)"));
        } else if (zero.equals(simulate(zeroPageScript(), v.withZeroPage(false)))) {
            v = v.withZeroPage(false);
            findings.add(new Finding(
                    "zero page on anonymous read faults",
                    "never mapped: a read fault allocates a page (mm_forbids_zeropage)",
                    "--no-zero-page"));
        } else {
            findings.add(new Finding(
                    "zero page on anonymous read faults",
                    "neither variant's transcript (see the differences below)",
                    "as the vanilla kernel"));
        }
        final String gapScript = guardGapScript();
        final String gapTranscript = kernel.apply(gapScript);
        final long gap = guardGapPages(gapTranscript);
        final KernelVariant withGap = v.withStackGuardGapPages(gap);
        final String gapText = gap >= GAP_PROBE_PAGES - 1 ? "at least " + gap + " pages" : gap + " pages";
        if (gapTranscript.equals(simulate(gapScript, withGap))) {
            v = withGap;
            findings.add(new Finding(
                    "stack guard gap",
                    gapText,
                    gap == KernelVariant.DEFAULT_STACK_GUARD_GAP_PAGES
                            ? "as the kernel (the default)"
                            : "set to " + gap + " pages"));
        } else {
            findings.add(new Finding(
                    "stack guard gap", gapText + "?", "the probe's transcripts differ; left at the default"));
        }
        findings.add(thp());
        return new Result(v, findings);
    }

    private String simulate(final String script, final KernelVariant v) {
        return VmScript.run(script, arch, LockingMode.PER_VMA, false, v);
    }

    /** Sixteen read faults on a fresh 64 KiB private mapping, then its smaps (Rss, Anonymous). */
    static String zeroPageScript() {
        final StringBuilder sb = new StringBuilder("map a 64K rw-\n");
        for (int i = 0; i < 16; i++) {
            sb.append("read a+").append(i * 4).append("K\n");
        }
        return sb.append("smaps a\n").toString();
    }

    /**
     * An accessible page, and a one-page growsdown stack {@value #GAP_PROBE_PAGES} pages above it;
     * then reads ever further below the stack, each growing it by a page while the gap to the page
     * below stays at least stack_guard_gap (expand_downwards). The first read refused gives the gap.
     */
    static String guardGapScript() {
        final StringBuilder sb = new StringBuilder();
        sb.append("map b 4K rw- at top-0x")
                .append(Long.toHexString(2L * GAP_PROBE_PAGES * 4096))
                .append(" fixed\n");
        sb.append("map s 4K rw- growsdown at b+0x")
                .append(Long.toHexString((long) GAP_PROBE_PAGES * 4096))
                .append(" fixed\n");
        for (int n = 1; n < GAP_PROBE_PAGES; n++) {
            sb.append("read s-0x").append(Long.toHexString(n * 4096L)).append('\n');
        }
        return sb.toString();
    }

    /**
     * The gap, in pages, that {@link #guardGapScript()}'s transcript shows: the stack reached n pages
     * below its start while the gap left above the page below ({@value #GAP_PROBE_PAGES} - 1 - n
     * pages) was at least stack_guard_gap.
     */
    static long guardGapPages(final String transcript) {
        int n = 0;
        for (final String line : transcript.split("\n")) {
            if (!line.startsWith("read s-")) {
                continue;
            }
            if (!line.endsWith("-> ok 0")) {
                return GAP_PROBE_PAGES - 1 - n;
            }
            n++;
        }
        return GAP_PROBE_PAGES - 1 - n;
    }

    /**
     * Transparent huge pages: with CONFIG_TRANSPARENT_HUGEPAGE, __get_unmapped_area places an
     * anonymous mapping whose length is a multiple of 2 MiB on a 2 MiB boundary
     * (thp_get_unmapped_area), whatever the sysfs setting. The simulator does not: top is not
     * 2 MiB-aligned on the kernel (ASLR), so such a placement is not reproducible relative to top.
     */
    private Finding thp() {
        final String setting = thpSetting();
        final String expected = simulate(THP_PROBE, KernelVariant.VANILLA);
        boolean aligned = false;
        for (int i = 0; i < THP_TRIES && !aligned; i++) {
            aligned = !kernel.apply(THP_PROBE).equals(expected);
        }
        final String kernelSide = (setting.isEmpty() ? "" : "enabled " + setting + "; ")
                + (aligned ? "a 2 MiB-multiple anonymous mapping is placed 2 MiB-aligned" : "placement unchanged");
        return new Finding(
                "transparent huge pages",
                kernelSide,
                aligned
                        ? "not modelled: scenarios that map a 2 MiB multiple without an address differ (none recorded or generated does)"
                        : "as the kernel");
    }

    private static String thpSetting() {
        try {
            return Files.readString(THP_ENABLED).strip();
        } catch (final IOException | RuntimeException e) {
            return "";
        }
    }
}
