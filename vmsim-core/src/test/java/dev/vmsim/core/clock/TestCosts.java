package dev.vmsim.core.clock;

import java.util.HashMap;
import java.util.Map;

/** Cost models for tests: round numbers, so expected clocks are easy to state. */
public final class TestCosts {
    private TestCosts() {}

    /**
     * One socket of {@code cores} cores, no SMT, one LLC; every cost 1 ns except: c2c_llc 50,
     * c2c_remote 100, handoff_queued 20, atomic_local 2, wakeup_latency 1000, context_switch 500.
     */
    public static Map<String, Double> values(final int cores) {
        final Map<String, Double> v = new HashMap<>();
        for (final String name : CostModel.PARAMETERS) {
            v.put(name, 1.0);
        }
        v.put("cores_per_socket", (double) cores);
        v.put("cores_per_llc", (double) cores);
        v.put("c2c_llc", 50.0);
        v.put("c2c_socket", 50.0);
        v.put("c2c_remote", 100.0);
        v.put("handoff_queued", 20.0);
        v.put("atomic_local", 2.0);
        v.put("wakeup_latency", 1000.0);
        v.put("context_switch", 500.0);
        return v;
    }

    public static CostModel model(final int cores) {
        return new CostModel(values(cores));
    }
}
