package dev.vmsim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.workload.Workloads;
import dev.vmsim.core.lock.LockingMode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunResultJsonTest {
    /** Checks the keys and types `vmsim run --json` promises; shared with the app's tests. */
    @SuppressWarnings("unchecked")
    public static void assertRunShape(final Object parsed) {
        final Map<String, Object> m = assertInstanceOf(Map.class, parsed);
        for (final String k : List.of("workload", "arch", "locking")) {
            assertInstanceOf(String.class, m.get(k), k);
        }
        for (final String k : List.of("threads", "faults", "syscalls")) {
            assertInstanceOf(Long.class, m.get(k), k);
        }
        for (final String k : List.of("seconds", "faultsPerSec", "syscallsPerSec")) {
            assertInstanceOf(Number.class, m.get(k), k);
        }
        for (final String k : List.of("faultLatencyNs", "syscallLatencyNs")) {
            final Map<String, Object> l = assertInstanceOf(Map.class, m.get(k), k);
            for (final String p : List.of("p50", "p90", "p99", "p999", "max")) {
                assertInstanceOf(Long.class, l.get(p), k + "." + p);
            }
        }
        final Map<String, Object> vmstat = assertInstanceOf(Map.class, m.get("vmstat"));
        assertInstanceOf(Long.class, vmstat.get("pgfault"));
        final Map<String, Object> lock = assertInstanceOf(Map.class, m.get("mmapLock"));
        for (final String k : List.of("acquisitions", "contended", "waitNs")) {
            assertInstanceOf(Long.class, lock.get(k), "mmapLock." + k);
        }
    }

    @Test
    void runJsonHasEveryPromisedKeyWithItsType() {
        final RunResult r = new WorkloadRunner(ToyKernel.factory())
                .run(
                        RunConfig.rounds(Workloads.find("spf"), "x86_64", LockingMode.PER_VMA, 2, 3, 5),
                        WorkloadRunner.Progress.NONE);
        final Object parsed = MiniJson.parse(r.toJson());
        assertRunShape(parsed);
        @SuppressWarnings("unchecked")
        final Map<String, Object> m = (Map<String, Object>) parsed;
        assertEquals("spf", m.get("workload"));
        assertEquals("per-vma", m.get("locking"));
        assertEquals(2L, m.get("threads"));
        assertEquals(600L, m.get("faults"));
        assertTrue(((Number) m.get("faultsPerSec")).doubleValue() > 0);
    }
}
