package dev.vmsim.app;

import dev.vmsim.core.lock.LockingMode;
import picocli.CommandLine.Option;

/** {@code --locking}, as every subcommand that runs one locking mode takes it (a picocli mixin). */
final class LockingOption {
    @Option(
            names = "--locking",
            defaultValue = "per-vma",
            converter = Converters.LockingConverter.class,
            description = "Fault locking: mmap-only, per-vma, per-vma-wait, per-vma-rwsem (6.4-6.14) or"
                    + " per-vma-rwsem-embedded (the 2023 series) (default: ${DEFAULT-VALUE}).")
    LockingMode locking;
}
