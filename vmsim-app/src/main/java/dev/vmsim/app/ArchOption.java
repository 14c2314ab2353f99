package dev.vmsim.app;

import picocli.CommandLine.Option;

/** {@code --arch}, as every subcommand that builds a machine takes it (a picocli mixin). */
final class ArchOption {
    @Option(
            names = "--arch",
            defaultValue = "x86_64",
            converter = Converters.ArchConverter.class,
            description = "Architecture: x86_64 or arm64 (default: ${DEFAULT-VALUE}).")
    String arch;
}
