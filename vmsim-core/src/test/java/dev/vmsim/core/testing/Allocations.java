package dev.vmsim.core.testing;

import java.lang.management.ManagementFactory;
import java.util.function.IntConsumer;

/** Heap bytes the calling thread allocates, for tests that show a disabled event site allocates nothing. */
public final class Allocations {
    private Allocations() {}

    /**
     * Bytes this thread allocated running {@code rounds(100_000)}, after {@code rounds(1000)} to load
     * classes and warm up the JIT.
     */
    public static long ofHundredThousandRounds(final IntConsumer rounds) {
        final com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        final long tid = Thread.currentThread().getId();
        rounds.accept(1000);
        final long before = mx.getThreadAllocatedBytes(tid);
        rounds.accept(100_000);
        return mx.getThreadAllocatedBytes(tid) - before;
    }
}
