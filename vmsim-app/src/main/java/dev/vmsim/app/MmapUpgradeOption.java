package dev.vmsim.app;

import picocli.CommandLine.Option;

/** {@code --mmap-upgrade}, as script, run and compare take it (a picocli mixin). */
final class MmapUpgradeOption {
    @Option(
            names = "--mmap-upgrade",
            description =
                    "Let lock_mm_and_find_vma upgrade the mmap_lock from read to write atomically to expand a stack"
                            + " (a simulator feature; the kernel's mmap_upgrade_trylock always fails, so by default the read"
                            + " lock is dropped and the write lock taken, as in Linux).")
    boolean on;
}
