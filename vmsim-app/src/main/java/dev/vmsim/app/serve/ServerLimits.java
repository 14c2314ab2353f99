package dev.vmsim.app.serve;

import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * What keeps a classroom server up: the size of a script and its operations, how long a run may last
 * and how many run at once, and how long one request may take. Each is a property
 * ({@code vmsim.limits.*}) with the default given here.
 *
 * @param scriptBytes    the largest script, in UTF-8 bytes
 * @param scriptLines    the most non-blank lines (operations) in one script
 * @param runDuration    the longest --duration a run or compare may ask for (compare: in all)
 * @param runThreads     the most simulated threads a run may ask for
 * @param runIterations  the most iterations per thread a run may ask for
 * @param jobs           runs at once; another gets 429
 * @param requestTimeout the longest a script request may take before it gets 503
 */
@Singleton
public record ServerLimits(
        @Value("${vmsim.limits.script-bytes:65536}") int scriptBytes,
        @Value("${vmsim.limits.script-lines:2000}") int scriptLines,
        @Value("${vmsim.limits.run-duration:30s}") Duration runDuration,
        @Value("${vmsim.limits.run-threads:16}") int runThreads,
        @Value("${vmsim.limits.run-iterations:1000000}") long runIterations,
        @Value("${vmsim.limits.jobs:2}") int jobs,
        @Value("${vmsim.limits.request-timeout:10s}") Duration requestTimeout) {}
