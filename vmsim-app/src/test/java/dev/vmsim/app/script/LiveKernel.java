package dev.vmsim.app.script;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.arch.ArchRegistry;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * This machine's kernel for the kernel-tagged tests: the oracle compiled once into {@code
 * target/vmoracle/}, and the kernel variant the probes find ({@link KernelProbe}), so that the
 * simulator is configured as check-kernel configures it. A test that needs them skips, with the
 * reason, where the oracle cannot be built (no gcc, no static libc, not Linux).
 */
final class LiveKernel {
    private static KernelOracle.Built built;
    private static KernelVariant variant;

    private LiveKernel() {}

    /** The oracle's runner; skips the calling test when there is none. */
    static synchronized UnaryOperator<String> oracle() {
        if (built == null) {
            built = KernelOracle.build(Path.of("target", "vmoracle"));
        }
        assumeTrue(built.kernel() != null, () -> "skipped: " + built.unavailable());
        return built.kernel();
    }

    /** The variant of the simulator that matches this kernel (probed once). */
    static synchronized KernelVariant variant() {
        if (variant == null) {
            variant =
                    new KernelProbe(oracle(), ArchRegistry.find("x86_64")).run().variant();
        }
        return variant;
    }
}
