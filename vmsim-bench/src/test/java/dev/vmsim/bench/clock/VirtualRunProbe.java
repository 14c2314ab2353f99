package dev.vmsim.bench.clock;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.Json;
import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.Workload;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.bench.workload.FaultVsMunmap;
import dev.vmsim.bench.workload.Pft;
import dev.vmsim.core.lock.LockingMode;

/**
 * The runs the determinism test compares, as a program so that the test can also run them in JVMs
 * of its own ({@code -XX:ActiveProcessorCount=1} and 2): prints one JSON line per run, without the
 * host's wall-clock field.
 */
public final class VirtualRunProbe {
    private VirtualRunProbe() {}

    /** pft at 16 CPUs (per-VMA rwsem, Ice Lake) and fault-vs-munmap at 6 CPUs (per-VMA, Zen 5). */
    static String runAll() {
        final StringBuilder out = new StringBuilder();
        out.append(run(new Pft(1 << 20), LockingMode.PER_VMA_RWSEM, 16, 3, "icelake-2s-64c"))
                .append('\n');
        out.append(run(new FaultVsMunmap(), LockingMode.PER_VMA, 6, 20, "zen5-2s-128c"))
                .append('\n');
        return out.toString();
    }

    static String run(
            final Workload w, final LockingMode mode, final int threads, final long rounds, final String machine) {
        final RunConfig cfg = RunConfig.rounds(w, "x86_64", mode, threads, rounds, 42)
                .withMachine(MachineProfiles.load(machine))
                .withClock(ClockKind.VIRTUAL);
        final RunResult r = new WorkloadRunner(KernelFactory.simulator()).run(cfg, WorkloadRunner.Progress.NONE);
        final ObjectNode o = r.toJsonNode();
        o.remove("hostSeconds");
        return Json.write(o);
    }

    public static void main(final String[] args) {
        System.out.print(runAll());
        System.out.flush();
        System.exit(0);
    }
}
