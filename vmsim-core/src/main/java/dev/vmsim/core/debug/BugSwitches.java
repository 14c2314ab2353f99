package dev.vmsim.core.debug;

import dev.vmsim.core.sync.Lockdep;

/**
 * One switch per historical {@link Bug}: when on, the simulator runs that bug's code as it was
 * before the fix, so a regression test can show the failure the kernel saw.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li><b>Debug only.</b> The switches exist only in the debug build: the JVM runs with
 *       {@code -Dvmsim.lockdep=true} (surefire sets it) or {@code -Dvmsim.bugswitches=true}.
 *       {@link #AVAILABLE} is a static final, so otherwise every {@link #on} folds to {@code false}
 *       after JIT and turning a switch on throws.
 *   <li><b>Off by default.</b> Every switch starts off; {@link #reintroduce} turns one on for a
 *       try-with-resources block and restores it after.
 *   <li><b>Global.</b> A switch holds for every thread (a volatile word: a switch set before a
 *       thread starts, or before a latch it waits on, is seen by it). Tests that flip switches must
 *       not run in parallel with tests that read them; the build runs test classes one at a time.
 * </ul>
 */
public final class BugSwitches {
    /** Read once: the debug build. */
    public static final boolean AVAILABLE = Lockdep.ENABLED || Boolean.getBoolean("vmsim.bugswitches");

    /** Bit {@code ordinal} set = that bug reintroduced. Volatile: read by simulated tasks. */
    private static volatile int reintroduced;

    private BugSwitches() {}

    /** Is {@code bug} reintroduced (its fix turned off)? Always false outside the debug build. */
    public static boolean on(final Bug bug) {
        return AVAILABLE && (reintroduced & (1 << bug.ordinal())) != 0;
    }

    /** Turns the fix for {@code bug} off ({@code true}) or back on. */
    public static synchronized void set(final Bug bug, final boolean on) {
        if (on && !bug.replayable()) {
            throw new IllegalArgumentException(bug.id() + " " + bug.title());
        }
        if (on && !AVAILABLE) {
            throw new IllegalStateException(bug.id()
                    + ": bug switches need the debug build (-Dvmsim.lockdep=true or -Dvmsim.bugswitches=true)");
        }
        final int bit = 1 << bug.ordinal();
        reintroduced = on ? reintroduced | bit : reintroduced & ~bit;
    }

    /** Reintroduces {@code bug} until the returned handle is closed, which restores the previous state. */
    public static Reintroduced reintroduce(final Bug bug) {
        final boolean was = on(bug);
        set(bug, true);
        return new Reintroduced(bug, was);
    }

    /** A reintroduced bug; closing it puts the switch back as it was. */
    public static final class Reintroduced implements AutoCloseable {
        private final Bug bug;
        private final boolean was;

        Reintroduced(final Bug bug, final boolean was) {
            this.bug = bug;
            this.was = was;
        }

        @Override
        public void close() {
            set(bug, was);
        }
    }
}
