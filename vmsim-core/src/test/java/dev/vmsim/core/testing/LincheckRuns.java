package dev.vmsim.core.testing;

import dev.vmsim.core.sync.Lockdep;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;

/**
 * Runs a Lincheck model check with lockdep suppressed around it, the one shape every Lincheck test in
 * core used to spell out itself. Lincheck test classes stay public with public no-arg constructors;
 * only the run is shared, not the operations, so each class's scenario generation is unchanged.
 */
public final class LincheckRuns {
    private LincheckRuns() {}

    /** A model-checking run of {@code testClass} with the given shape, lockdep off for its duration. */
    public static void modelCheck(
            final Class<?> testClass,
            final int iterations,
            final int invocationsPerIteration,
            final int threads,
            final int actorsPerThread) {
        Lockdep.setSuppressed(true);
        try {
            new ModelCheckingOptions()
                    .iterations(iterations)
                    .invocationsPerIteration(invocationsPerIteration)
                    .threads(threads)
                    .actorsPerThread(actorsPerThread)
                    .check(testClass);
        } finally {
            Lockdep.setSuppressed(false);
        }
    }
}
