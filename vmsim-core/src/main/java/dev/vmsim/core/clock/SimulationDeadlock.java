package dev.vmsim.core.clock;

/**
 * Thrown in every parked task when no simulated CPU can run any more: each task is parked or
 * done, so nothing will ever wake the parked ones (a lost wake-up, a lock never released). The
 * message lists who waits on what.
 */
public final class SimulationDeadlock extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SimulationDeadlock(final String message) {
        super(message);
    }
}
