package dev.vmsim.core.clock;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The simulator's statement about one machine's hardware: what each modelled step costs
 * ({@link Cost}, from a machine profile) and the topology that decides what a cache-line transfer
 * between two CPUs costs. Immutable; built from a profile's values (the bench module reads the JSON
 * and passes the numbers; core knows no JSON).
 *
 * <p>Costs are kept in picoseconds so that fractional nanoseconds from the profiles (8.7 ns) add
 * up without rounding drift; the virtual clock reads in ns.
 *
 * <p><b>CPU numbering</b> follows Linux's enumeration on these machines: the first thread of every
 * core across all sockets first (logical CPU {@code k} is core {@code k mod cores}), then the SMT
 * siblings in the same order. Core {@code c} is on socket {@code c / cores_per_socket}, in LLC
 * {@code c / cores_per_llc} and NUMA node {@code c / (cores / numa_nodes)}. Virtual CPU {@code i}
 * (the i-th task a run starts) sits on the logical CPU fork balancing gives the i-th thread of a
 * process on an idle machine ({@link ForkBalance}): spread over LLCs and, past the allowed NUMA
 * imbalance, over nodes and sockets, distinct cores before SMT siblings.
 */
public final class CostModel {
    /** The topology counts of a profile, in the profile's order. */
    public static final List<String> COUNTS =
            List.of("sockets", "cores_per_socket", "threads_per_core", "cores_per_llc", "numa_nodes");

    /** Every parameter a profile gives: the counts, then each {@link Cost}'s parameter. */
    public static final List<String> PARAMETERS;

    static {
        final List<String> all = new ArrayList<>(COUNTS);
        for (final Cost c : Cost.values()) {
            all.add(c.parameter());
        }
        PARAMETERS = Collections.unmodifiableList(all);
    }

    /** The largest machine a profile may describe: placing threads scans it (64 Ki logical CPUs). */
    static final int MAX_LOGICAL_CPUS = 1 << 16;
    /** Threads placed by fork balancing: the most simulated CPUs a run may have. */
    private static final int MAX_PLACED = 1024;

    private final long[] ps = new long[Cost.values().length];
    private final int sockets;
    private final int coresPerSocket;
    private final int threadsPerCore;
    private final int coresPerLlc;
    private final int numaNodes;
    /** The logical CPU of each virtual CPU, for the first min(logical CPUs, 1024); later ones wrap. */
    private final int[] placement;
    /** The physical core of each placed virtual CPU: {@code placement[i] % cores}. */
    private final int[] coreOf;

    private final int coresPerNode;

    /**
     * @param values every name of {@link #PARAMETERS}: counts as whole numbers of at least 1, costs
     *     in ns, none negative
     * @throws IllegalArgumentException naming the first missing or invalid parameter
     */
    public CostModel(final Map<String, Double> values) {
        for (final String name : PARAMETERS) {
            final Double v = values.get(name);
            if (v == null) {
                throw new IllegalArgumentException("missing parameter " + name);
            }
            if (v.isNaN() || v < 0) {
                throw new IllegalArgumentException("parameter " + name + " must not be negative: " + v);
            }
        }
        for (final Cost c : Cost.values()) {
            ps[c.ordinal()] = Math.round(values.get(c.parameter()) * 1000);
        }
        this.sockets = count(values, "sockets");
        this.coresPerSocket = count(values, "cores_per_socket");
        this.threadsPerCore = count(values, "threads_per_core");
        this.coresPerLlc = count(values, "cores_per_llc");
        this.numaNodes = count(values, "numa_nodes");
        checkTopology(sockets, coresPerSocket, coresPerLlc, numaNodes);
        if ((long) sockets * coresPerSocket * threadsPerCore > MAX_LOGICAL_CPUS) {
            throw new IllegalArgumentException(
                    "parameters sockets x cores_per_socket x threads_per_core must not exceed " + MAX_LOGICAL_CPUS
                            + " logical CPUs: " + (long) sockets * coresPerSocket * threadsPerCore);
        }
        this.placement = new ForkBalance(sockets, coresPerSocket, threadsPerCore, coresPerLlc, numaNodes)
                .place(Math.min(logicalCpus(), MAX_PLACED));
        this.coreOf = new int[placement.length];
        for (int i = 0; i < placement.length; i++) {
            coreOf[i] = placement[i] % cores();
        }
        this.coresPerNode = Math.max(1, cores() / numaNodes);
    }

    /**
     * The topology must nest as sched domains do: LLCs tile a NUMA node, and nodes tile a socket (or
     * a node spans whole sockets), so that every CPU of a group shares the same parent group.
     */
    private static void checkTopology(
            final int sockets, final int coresPerSocket, final int coresPerLlc, final int numaNodes) {
        final long cores = (long) sockets * coresPerSocket;
        if (numaNodes > cores || cores % numaNodes != 0) {
            throw new IllegalArgumentException("parameter numa_nodes must divide the " + cores
                    + " cores (sockets x cores_per_socket): " + numaNodes);
        }
        final long coresPerNode = cores / numaNodes;
        if (coresPerSocket % coresPerNode != 0 && coresPerNode % coresPerSocket != 0) {
            throw new IllegalArgumentException("parameter numa_nodes must split each socket evenly or span whole"
                    + " sockets: " + numaNodes + " nodes of " + coresPerNode + " cores, sockets of " + coresPerSocket);
        }
        final long unit = Math.min(coresPerNode, coresPerSocket); // the cores of one node within one socket
        if (coresPerLlc <= unit ? unit % coresPerLlc != 0 : coresPerLlc % unit != 0) {
            throw new IllegalArgumentException("parameter cores_per_llc must divide the " + unit
                    + " cores of a NUMA node, or be a multiple of them: " + coresPerLlc);
        }
    }

    private static int count(final Map<String, Double> values, final String name) {
        final double v = values.get(name);
        if (v < 1 || v != Math.rint(v)) {
            throw new IllegalArgumentException("parameter " + name + " must be a whole number of at least 1: " + v);
        }
        return (int) v;
    }

    /** What {@code cost} charges, in ps. */
    public long ps(final Cost cost) {
        return ps[cost.ordinal()];
    }

    /** Logical CPUs of the machine (sockets x cores x threads). */
    public int logicalCpus() {
        return sockets * coresPerSocket * threadsPerCore;
    }

    private int cores() {
        return sockets * coresPerSocket;
    }

    /** The logical CPU virtual CPU {@code cpu} runs on (wrapping past the last logical CPU). */
    public int logicalCpu(final int cpu) {
        return placement[Math.floorMod(cpu, placement.length)];
    }

    /** The physical core of virtual CPU {@code cpu}. */
    int core(final int cpu) {
        return coreOf[Math.floorMod(cpu, coreOf.length)];
    }

    /** The NUMA node of virtual CPU {@code cpu}. */
    public int node(final int cpu) {
        return core(cpu) / coresPerNode;
    }

    /**
     * One ownership transfer of a cache line from {@code from} to {@code to}, in ps: 0 on the same
     * CPU, else by the closest level the two share (core, LLC, socket, or none). On every modelled
     * transfer, so the cores come from a table built with the placement.
     */
    public long transferPs(final int from, final int to) {
        if (from == to || logicalCpu(from) == logicalCpu(to)) {
            return 0;
        }
        return coreTransferPs(core(from), core(to));
    }

    /** {@link #transferPs} between two logical CPUs of the machine's enumeration. */
    public long logicalTransferPs(final int from, final int to) {
        return from == to ? 0 : coreTransferPs(from % cores(), to % cores());
    }

    private long coreTransferPs(final int a, final int b) {
        if (a == b) {
            return ps(Cost.C2C_SMT);
        }
        if (a / coresPerLlc == b / coresPerLlc && a / coresPerSocket == b / coresPerSocket) {
            return ps(Cost.C2C_LLC);
        }
        if (a / coresPerSocket == b / coresPerSocket) {
            return ps(Cost.C2C_SOCKET);
        }
        return ps(Cost.C2C_REMOTE);
    }

    /** A line nobody holds, from the memory of {@code homeNode}, read by {@code cpu}. */
    public long memoryPs(final int cpu, final int homeNode) {
        return ps(homeNode < 0 || node(cpu) == homeNode ? Cost.DRAM_LOCAL : Cost.DRAM_REMOTE);
    }
}
