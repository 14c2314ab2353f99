package dev.vmsim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmsim.bench.workload.Workloads;
import dev.vmsim.core.lock.LockingMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The exact bytes of `run --json` and `compare --json`: member order, number forms (a double as
 * Double.toString writes it, a non-finite one as null) and nesting are what the hand-written writer
 * Jackson replaced produced, so that files written before and after compare equal and the
 * determinism check can compare bytes.
 */
class RunResultGoldenJsonTest {
    static RunResult result(final double seconds) {
        final Map<String, Long> vmstat = new LinkedHashMap<>();
        vmstat.put("pgfault", 300L);
        vmstat.put("vma_lock_success", 298L);
        final KernelCounters c = new KernelCounters(vmstat, 7, 2, 1500, 40, 300, 3, 900);
        final Map<String, Long> meminfo = new LinkedHashMap<>();
        meminfo.put("MemTotal", 16_380L);
        meminfo.put("MemFree", 15_000L);
        meminfo.put("HugePages_Total", 0L);
        return new RunResult(
                RunConfig.rounds(Workloads.find("spf"), "arm64", LockingMode.PER_VMA_WAIT, 2, 3, 5),
                seconds,
                6,
                300,
                12,
                0,
                0,
                1,
                new Latency(300, 512.5, 400, 800, 1600, 3200, 6400),
                new Latency(12, 100, 90, 95, 99, 99, 120),
                c,
                0,
                Double.NaN,
                meminfo);
    }

    private static final String RUN_JSON =
            "{\"workload\":\"spf\",\"arch\":\"arm64\",\"pageSize\":4096,\"locking\":\"per-vma-wait\","
                    + "\"mmapUpgrade\":false,\"machine\":\"host\",\"clock\":\"host\","
                    + "\"threads\":2,\"seed\":5,\"seconds\":0.25,\"rounds\":6,\"faults\":300,\"faultsPerSec\":1200.0,"
                    + "\"syscalls\":12,\"syscallsPerSec\":48.0,\"signals\":0,\"syscallErrors\":1,"
                    + "\"faultLatencyNs\":{\"p50\":400,\"p90\":800,\"p99\":1600,\"p999\":3200,\"max\":6400},"
                    + "\"syscallLatencyNs\":{\"p50\":90,\"p90\":95,\"p99\":99,\"p999\":99,\"max\":120},"
                    + "\"vmstat\":{\"pgfault\":300,\"vma_lock_success\":298},"
                    + "\"mmapLock\":{\"acquisitions\":7,\"contended\":2,\"waitNs\":1500},"
                    + "\"tlb\":{\"hits\":40,\"misses\":300,\"shootdowns\":0},"
                    + "\"pageTableFrames\":3,\"leakedFrames\":0,"
                    + "\"meminfo\":{\"MemTotal\":16380,\"MemFree\":15000,\"HugePages_Total\":0},\"hostSeconds\":0.25}";

    @Test
    void runJsonIsByteForByteTheDocumentedForm() {
        final RunResult r = result(0.25);
        assertEquals(RUN_JSON, r.toJson());
    }

    @Test
    void compareJsonWrapsTheRunsInOrder() {
        final RunResult r = result(0.25);
        final String run = RUN_JSON;
        assertEquals(
                "{\"workload\":\"spf\",\"runs\":[" + run + "," + run + "]}",
                new Comparison("spf", List.of(r, r)).toJson());
    }
}
