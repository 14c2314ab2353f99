package dev.vmsim.app;

import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.script.VmScript;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vmsim script [--arch x86_64|arm64] [--granule 4K|16K|64K] [--locking mmap-only|per-vma|per-vma-wait] [--mmap-upgrade] [--no-zero-page] [--trace] FILE|-}: runs a
 * vmscript scenario on a fresh simulated process and prints its transcript, which is meant to be
 * byte-identical to the real kernel's (vmoracle.c). Exit status 0; 2 for an unknown architecture,
 * locking mode, or a file that cannot be read as UTF-8 text (one line on stderr, as for every
 * subcommand).
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

    @Option(names = "--trace",
            description = "After each line that faulted, print each fault's path (arch decode, locks, handler,"
                    + " result) as '  # ' lines; the transcript lines are unchanged.")
    private boolean trace;

    @Parameters(index = "0", paramLabel = "FILE", description = "The scenario, or - for standard input.")
    private String file;

    @Override
    public Integer call() {
        final CommandLine cl = spec.commandLine();
        machine.load(cl); // checked now; the cost model applies once the virtual clock runs scripts
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
        final PrintWriter out = cl.getOut();
        out.print(trace
                ? VmScript.runTraced(script, a, locking.locking, mmapUpgrade.on, zeroPage.variant(), TRACE_CAPACITY)
                : VmScript.run(script, a, locking.locking, mmapUpgrade.on, zeroPage.variant()));
        out.flush();
        return 0;
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
