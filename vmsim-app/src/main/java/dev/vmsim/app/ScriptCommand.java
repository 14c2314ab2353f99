package dev.vmsim.app;

import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vmsim script [--arch x86_64|arm64] [--locking mmap-only|per-vma|per-vma-wait] [--trace] FILE|-}: runs a
 * vmscript scenario on a fresh simulated process and prints its transcript, which is meant to be
 * byte-identical to the real kernel's (vmoracle.c). Exit status 0; 2 for an unknown architecture,
 * locking mode, or an unreadable file (one line on stderr).
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

    @Option(names = "--arch", defaultValue = "x86_64", description = "Architecture: x86_64 or arm64 (default ${DEFAULT-VALUE}).")
    private String arch;

    @Option(names = "--locking", defaultValue = "per-vma",
            description = "Fault locking: mmap-only, per-vma or per-vma-wait (default ${DEFAULT-VALUE}).")
    private String locking;

    @Option(names = "--trace",
            description = "After each line that faulted, print each fault's path (arch decode, locks, handler,"
                    + " result) as '  # ' lines; the transcript lines are unchanged.")
    private boolean trace;

    @Parameters(index = "0", paramLabel = "FILE", description = "The scenario, or - for standard input.")
    private String file;

    @Override
    public Integer call() {
        final PrintWriter err = spec.commandLine().getErr();
        final Arch a = ArchRegistry.find(arch);
        if (a == null) {
            err.println("vmsim script: unknown architecture '" + arch + "' (known: "
                    + String.join(", ", ArchRegistry.names()) + ")");
            return 2;
        }
        final LockingMode mode = LockingMode.fromCliName(locking);
        if (mode == null) {
            err.println("vmsim script: unknown locking mode '" + locking + "' (mmap-only, per-vma, per-vma-wait)");
            return 2;
        }
        final String script;
        try {
            script = read(file);
        } catch (IOException e) {
            final String why = e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage();
            err.println("vmsim script: cannot read " + file + ": " + why);
            return 2;
        }
        final PrintWriter out = spec.commandLine().getOut();
        out.print(trace ? VmScript.runTraced(script, a, mode, TRACE_CAPACITY) : VmScript.run(script, a, mode));
        out.flush();
        return 0;
    }

    private static String read(final String file) throws IOException {
        if (file.equals("-")) {
            final InputStream in = System.in;
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        return Files.readString(Path.of(file), StandardCharsets.UTF_8);
    }
}
