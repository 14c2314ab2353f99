package dev.vmsim.bench;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.lock.LockingMode;

/** Builds a fresh simulated machine and one mm on it for a run; tests substitute their own. */
@FunctionalInterface
public interface KernelFactory {
    /**
     * A new machine of architecture {@code arch} with {@code frames} 4 KiB frames and room for
     * {@code cpus} CPUs, and one mm on it locked in {@code mode}.
     */
    SimKernel create(String arch, LockingMode mode, long frames, int cpus);

    /**
     * The same with PAGE_SIZE {@code pageSize} (frames of that size). A factory that builds only
     * 4 KiB machines, as the default does, refuses any other size.
     */
    default SimKernel create(
            final String arch, final long pageSize, final LockingMode mode, final long frames, final int cpus) {
        if (pageSize != 4096) {
            throw new IllegalArgumentException("this kernel factory builds only 4K-page machines");
        }
        return create(arch, mode, frames, cpus);
    }

    /** The same on a machine running kernel {@code variant}, on the host clock. */
    default SimKernel create(
            final String arch,
            final long pageSize,
            final LockingMode mode,
            final long frames,
            final int cpus,
            final KernelVariant variant) {
        return create(arch, pageSize, mode, frames, cpus, variant, dev.vmsim.core.clock.HostPlatform.INSTANCE);
    }

    /** The same on the clock {@code platform}, running the vanilla kernel. */
    default SimKernel create(
            final String arch,
            final long pageSize,
            final LockingMode mode,
            final long frames,
            final int cpus,
            final Platform platform) {
        return create(arch, pageSize, mode, frames, cpus, KernelVariant.VANILLA, platform);
    }

    /**
     * The same on a machine running kernel {@code variant} on the clock {@code platform} (a virtual
     * scheduler or the host's). A factory that builds only vanilla host-clock machines, as the
     * default does, refuses anything else.
     */
    default SimKernel create(
            final String arch,
            final long pageSize,
            final LockingMode mode,
            final long frames,
            final int cpus,
            final KernelVariant variant,
            final Platform platform) {
        if (!variant.equals(KernelVariant.VANILLA)) {
            throw new IllegalArgumentException("this kernel factory builds only the vanilla kernel");
        }
        if (platform.isVirtual()) {
            throw new IllegalArgumentException("this kernel factory builds only host-clock machines");
        }
        return create(arch, pageSize, mode, frames, cpus);
    }

    /** The real simulator: {@link MmStructKernel}, on every page size its architectures have. */
    static KernelFactory simulator() {
        return new KernelFactory() {
            @Override
            public SimKernel create(final String arch, final LockingMode mode, final long frames, final int cpus) {
                return MmStructKernel.create(arch, 4096, mode, frames, cpus);
            }

            @Override
            public SimKernel create(
                    final String arch, final long pageSize, final LockingMode mode, final long frames, final int cpus) {
                return MmStructKernel.create(arch, pageSize, mode, frames, cpus);
            }

            @Override
            public SimKernel create(
                    final String arch,
                    final long pageSize,
                    final LockingMode mode,
                    final long frames,
                    final int cpus,
                    final KernelVariant variant,
                    final Platform platform) {
                return MmStructKernel.create(arch, pageSize, mode, frames, cpus, variant, platform);
            }
        };
    }
}
