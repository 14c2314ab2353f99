package dev.vmsim.bench;

import dev.vmsim.core.lock.LockingMode;

/** Builds a fresh simulated machine and one mm on it for a run; tests substitute their own. */
@FunctionalInterface
public interface KernelFactory {
    /**
     * A new machine of architecture {@code arch} with {@code frames} 4 KiB frames and room for
     * {@code cpus} CPUs, and one mm on it locked in {@code mode}.
     */
    SimKernel create(String arch, LockingMode mode, long frames, int cpus);

    /** The real simulator: {@link MmStructKernel}. */
    static KernelFactory simulator() {
        return MmStructKernel::create;
    }
}
