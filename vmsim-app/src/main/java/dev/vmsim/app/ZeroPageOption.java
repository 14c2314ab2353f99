package dev.vmsim.app;

import dev.vmsim.core.KernelVariant;
import picocli.CommandLine.Option;

/** {@code --no-zero-page}, as script, run and compare take it (a picocli mixin). */
final class ZeroPageOption {
    @Option(
            names = "--no-zero-page",
            description = "Simulate a kernel where mm_forbids_zeropage() holds: an anonymous read fault allocates a"
                    + " zeroed page and prepares the anon_vma instead of mapping the shared zero page (so the VMA"
                    + " merges as a written one). Some kernels are built or booted so; check-kernel says whether"
                    + " this machine's is.")
    boolean off;

    /** The kernel variant these options select. */
    KernelVariant variant() {
        return KernelVariant.VANILLA.withZeroPage(!off);
    }
}
