package dev.vmsim.app;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.MemoryLimits;
import dev.vmsim.bench.profile.CostModels;
import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.clock.HostPlatform;
import dev.vmsim.core.clock.SchedulePolicy;
import dev.vmsim.core.clock.VirtualScheduler;
import dev.vmsim.core.script.ScriptSession;
import dev.vmsim.core.script.VmScript;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vmsim script [--arch x86_64|arm64] [--granule 4K|16K|64K] [--locking mmap-only|per-vma|per-vma-wait] [--mmap-upgrade] [--no-zero-page] [--mem SIZE] [--swap SIZE] [--trace] FILE|-}: runs a
 * vmscript scenario on a fresh simulated process and prints its transcript, which is meant to be
 * byte-identical to the real kernel's (vmoracle.c). Exit status 0; 2 for an unknown architecture,
 * locking mode, a file that cannot be read as UTF-8 text, or a bad --mem or --swap (one line on
 * stderr, as for every subcommand). --mem and --swap set the machine the script starts with; the
 * script's own {@code mem} and {@code swap} lines win over them.
 */
@Command(
        name = "script",
        mixinStandardHelpOptions = true,
        description = "Run a vmscript scenario and print the canonical transcript.")
public final class ScriptCommand implements Callable<Integer> {
    /** Events one --trace run may record (a script line faults a handful of times; this is generous). */
    static final int TRACE_CAPACITY = 1 << 20;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Mixin
    private ArchOption arch;

    @Mixin
    private GranuleOption granule;

    @Mixin
    private LockingOption locking;

    @Mixin
    private MmapUpgradeOption mmapUpgrade;

    @Mixin
    private MachineOption machine;

    @Mixin
    private ZeroPageOption zeroPage;

    @Mixin
    private ClockOption clock;

    @Mixin
    private MemoryOption memory;

    @Option(
            names = "--trace",
            description = "After each line that faulted, print each fault's path (arch decode, locks, handler,"
                    + " result) as '  # ' lines; the transcript lines are unchanged.")
    private boolean trace;

    @Parameters(index = "0", paramLabel = "FILE", description = "The scenario, or - for standard input.")
    private String file;

    @Override
    public Integer call() {
        final CommandLine cl = spec.commandLine();
        final MachineProfile profile = machine.load(cl);
        final boolean virtual = clock.kind(cl) == ClockKind.VIRTUAL;
        final Arch found = ArchRegistry.find(arch.arch);
        if (found == null) {
            throw new CommandLine.ParameterException(cl, "architecture " + arch.arch + " is not on the class path");
        }
        final Arch a = found.withPageSize(granule.pageSize(cl, arch.arch));
        final String script;
        try {
            script = read(file);
        } catch (IOException e) {
            throw new CommandLine.ParameterException(cl, "cannot read " + file + ": " + IoErrors.reason(e));
        }
        final long pageSize = 1L << a.pageTableFormat().pageShift();
        final MemoryLimits limits = scriptLimits(cl, pageSize);
        final PrintWriter out = cl.getOut();
        if (virtual) {
            out.print(virtualRun(script, a, profile, limits, cl));
        } else {
            out.print(
                    trace
                            ? VmScript.runTraced(
                                    script,
                                    a,
                                    locking.locking,
                                    mmapUpgrade.on,
                                    zeroPage.variant(),
                                    limits.memBytes(),
                                    limits.swapBytes(),
                                    TRACE_CAPACITY)
                            : VmScript.run(
                                    script,
                                    ScriptSession.start(
                                            a,
                                            locking.locking,
                                            mmapUpgrade.on,
                                            zeroPage.variant(),
                                            HostPlatform.INSTANCE,
                                            limits.memBytes(),
                                            limits.swapBytes(),
                                            null)));
        }
        out.flush();
        return 0;
    }

    /**
     * The script as the one task of a virtual machine charging {@code profile}: the same transcript,
     * then '# ' lines with the virtual time the script took and where it went.
     */
    private String virtualRun(
            final String script,
            final Arch a,
            final MachineProfile profile,
            final MemoryLimits limits,
            final CommandLine cl) {
        if (trace) {
            throw new CommandLine.ParameterException(cl, "--trace is for the host clock; use --clock host");
        }
        final VirtualScheduler vs = new VirtualScheduler(CostModels.of(profile), SchedulePolicy.earliestClock());
        final StringBuilder out = new StringBuilder();
        vs.spawn(
                "cpu0",
                () -> out.append(VmScript.run(
                        script,
                        ScriptSession.start(
                                a,
                                locking.locking,
                                mmapUpgrade.on,
                                zeroPage.variant(),
                                vs,
                                limits.memBytes(),
                                limits.swapBytes(),
                                null))));
        vs.run();
        out.append(String.format(Locale.ROOT, "# virtual time %d ns on %s%n", vs.elapsedNs(), profile.name()));
        vs.attribution().forEach((k, v) -> {
            if (v > 0) {
                out.append(String.format(Locale.ROOT, "#   %-32s %12d ns%n", k, v));
            }
        });
        return out.toString();
    }

    /**
     * --mem and --swap as run checks them (one task to boot), and as the script's {@code mem} and
     * {@code swap} lines bound them: --mem at most the script machine's default size (it only
     * shrinks it), --swap at least a page (a slot after the header). The script's own lines win.
     */
    private MemoryLimits scriptLimits(final CommandLine cl, final long pageSize) {
        final MemoryLimits limits = memory.limits(cl, 1, pageSize);
        if (limits.memBytes() / pageSize > VmScript.FRAMES) {
            throw new CommandLine.ParameterException(
                    cl,
                    "--mem " + limits.memBytes() + " bytes is above the " + VmScript.FRAMES * pageSize / 1024
                            + "K a script's machine has (--mem only shrinks it)");
        }
        if (limits.swapBytes() != 0 && limits.swapBytes() < pageSize) {
            throw new CommandLine.ParameterException(
                    cl,
                    "--swap " + limits.swapBytes() + " bytes is below one " + pageSize
                            + "-byte page (the device needs a slot besides its header)");
        }
        return limits;
    }

    /** The scenario's text; malformed UTF-8 is an error, not replacement characters. */
    private static String read(final String file) throws IOException {
        if (file.equals("-")) {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(System.in.readAllBytes()))
                    .toString();
        }
        final Path p = Path.of(file);
        if (Files.isDirectory(p)) {
            throw new java.nio.file.FileSystemException(file, null, "Is a directory");
        }
        return Files.readString(p, StandardCharsets.UTF_8);
    }
}
