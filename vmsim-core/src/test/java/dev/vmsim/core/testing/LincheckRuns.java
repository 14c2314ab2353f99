package dev.vmsim.core.testing;

import dev.vmsim.core.sync.Lockdep;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;

/**
 * Runs a Lincheck model check with lockdep suppressed around it, the one shape every Lincheck test in
 * core used to spell out itself. Lincheck test classes stay public with public no-arg constructors;
 * only the run is shared, not the operations, so each class's scenario generation is unchanged.
 *
 * <p><b>Budget.</b> Each test names the invocations per iteration it runs in the default build (a few
 * seconds on 2 cores); the {@code lincheck} Maven profile sets {@code -Dvmsim.lincheck.scale=N}, and
 * {@link #budget} multiplies the invocations by N.
 */
public final class LincheckRuns {
    /** The factor on invocations per iteration: 1 in the default build, more under -Plincheck. */
    public static final int SCALE = Integer.getInteger("vmsim.lincheck.scale", 1);

    private LincheckRuns() {}

    /** {iterations, invocationsPerIteration × {@link #SCALE}}. */
    public static int[] budget(final int iterations, final int invocationsPerIteration) {
        return new int[] {iterations, invocationsPerIteration * SCALE};
    }

    /** A model-checking run of {@code testClass} with the given shape, lockdep off for its duration. */
    public static void modelCheck(
            final Class<?> testClass,
            final int iterations,
            final int invocationsPerIteration,
            final int threads,
            final int actorsPerThread) {
        modelCheck(testClass, null, new int[] {iterations, invocationsPerIteration}, threads, actorsPerThread);
    }

    /**
     * A model-checking run of {@code testClass} against {@code sequentialSpec} (null: the class itself
     * run sequentially) with {@code budget} = {iterations, invocations per iteration}.
     */
    public static void modelCheck(
            final Class<?> testClass,
            final Class<?> sequentialSpec,
            final int[] budget,
            final int threads,
            final int actorsPerThread) {
        Lockdep.setSuppressed(true);
        try {
            final ModelCheckingOptions o = new ModelCheckingOptions()
                    .iterations(budget[0])
                    .invocationsPerIteration(budget[1])
                    .threads(threads)
                    .actorsPerThread(actorsPerThread);
            if (sequentialSpec != null) {
                o.sequentialSpecification(sequentialSpec);
            }
            o.check(testClass);
        } finally {
            Lockdep.setSuppressed(false);
        }
    }
}
