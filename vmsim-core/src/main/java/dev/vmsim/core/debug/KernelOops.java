package dev.vmsim.core.debug;

/**
 * What the kernel would have oopsed on: a dereference the simulator can see is bad (a marker taken
 * for an object, as BUG-09's XA_ZERO_ENTRY taken for a VMA). Only a reintroduced {@link Bug} reaches
 * one. Departure: the kernel's oops kills the task with its locks and references held; this unwinds
 * through the callers' finally blocks, so that a test can check the failure and clean up.
 */
public final class KernelOops extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public KernelOops(final String message) {
        super(message);
    }
}
