package dev.vmsim.bench.workload;

import dev.vmsim.bench.Workload;
import java.util.List;
import java.util.stream.Collectors;

/** The workloads the command line knows, by name. */
public final class Workloads {
    private static final List<Workload> ALL = List.of(
            new PageFault1(),
            new Mmap1(),
            new Spf(),
            new FaultVsMunmap(),
            new SharedVma(),
            new StackGrowth(),
            new Pft(),
            new SwapStorm(true),
            new SwapStorm(false),
            new Thrash(150));

    private Workloads() {}

    public static List<Workload> all() {
        return ALL;
    }

    /** The workload named {@code name}, or null. */
    public static Workload find(final String name) {
        for (final Workload w : ALL) {
            if (w.name().equals(name)) {
                return w;
            }
        }
        return null;
    }

    /** "page-fault1, mmap1, ..." for error messages. */
    public static String names() {
        return ALL.stream().map(Workload::name).collect(Collectors.joining(", "));
    }
}
