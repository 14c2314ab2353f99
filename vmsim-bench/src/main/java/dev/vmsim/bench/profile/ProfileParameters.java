package dev.vmsim.bench.profile;

import java.util.List;

/**
 * The names of the cost model's parameters, in the order of {@code dev.vmsim.core.clock.CostModel
 * .PARAMETERS} (the vc-engine branch): this is a copy until that branch is merged, when a test will
 * compare the two lists. Values are nanoseconds, except the topology counts.
 */
public final class ProfileParameters {
    /** Topology: counts, not nanoseconds. */
    public static final List<String> COUNTS =
            List.of("sockets", "cores_per_socket", "threads_per_core", "cores_per_llc", "numa_nodes");

    /** Every parameter a profile must give, counts first, then latencies in ns. */
    public static final List<String> NAMES = List.of(
            "sockets",
            "cores_per_socket",
            "threads_per_core",
            "cores_per_llc",
            "numa_nodes",
            "c2c_smt",
            "c2c_llc",
            "c2c_socket",
            "c2c_remote",
            "handoff_queued",
            "atomic_local",
            "spin_step",
            "dram_local",
            "dram_remote",
            "walk_level",
            "tlb_hit",
            "tlb_invalidate",
            "pte_update",
            "zero_page_4k",
            "copy_page_4k",
            "frame_alloc_pcp",
            "frame_alloc_zone",
            "maple_node_visit",
            "syscall_entry_exit",
            "fault_entry_exit",
            "context_switch",
            "wakeup_latency",
            "ipi_send",
            "ipi_receive",
            "fault_other",
            "mmap_other_unlocked",
            "mmap_other_locked",
            "munmap_other_unlocked",
            "munmap_other_locked");

    /** The unit a parameter's value is in: "count" for the topology, "ns" for the rest. */
    public static String unit(final String name) {
        return COUNTS.contains(name) ? "count" : "ns";
    }

    private ProfileParameters() {}
}
