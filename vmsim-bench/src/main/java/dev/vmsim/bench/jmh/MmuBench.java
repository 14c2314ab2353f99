package dev.vmsim.bench.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

/**
 * MMU costs per access, simulated and host. This branch holds only the arm64 methods; the x86
 * helper's version adds x86TlbHit, x86Walk4, hostL1Load and hostTlbMiss to the same class.
 * Targets: a TLB hit within 3x a host L1 dependent load; a 4-level walk within 2x the host's
 * TLB-miss penalty.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MmuBench {
    /** arm64 TLB hit: tag compare, permission check, physical address. */
    @Benchmark
    public long arm64TlbHit(final Arm64MmuState s) {
        return s.tlbHit();
    }

    /** arm64 TLB miss: 4K-granule 4-level walk (L0..L3) with FEAT_HAFDBS, and the TLB fill. */
    @Benchmark
    public long arm64Walk4(final Arm64MmuState s) {
        return s.walk4();
    }
}
