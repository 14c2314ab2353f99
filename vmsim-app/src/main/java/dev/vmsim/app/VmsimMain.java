package dev.vmsim.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code vmsim} command line. */
@Command(
        name = "vmsim",
        mixinStandardHelpOptions = true,
        version = "vmsim 0.1.0",
        description = "A simulated Linux virtual-memory subsystem: page faults, mmap_lock and per-VMA locks.",
        subcommands = {CommandLine.HelpCommand.class, ScriptCommand.class})
public final class VmsimMain implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(final String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit status: 0 ok, 1 failure, 2 bad usage. */
    public static int run(final String... args) {
        final CommandLine cl = new CommandLine(new VmsimMain());
        cl.setParameterExceptionHandler((ex, a) -> {
            final CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("vmsim: " + ex.getMessage());
            return 2;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
