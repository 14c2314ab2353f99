package dev.vmsim.core.clock;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the scheduler puts each new thread of a process that starts N spinning threads on an idle
 * machine: the logical CPU that fork balancing (select_task_rq_fair with SD_BALANCE_FORK, i.e.
 * sched_balance_find_dst_cpu, kernel/sched/fair.c; find_idlest_cpu before 6.14) picks for thread k
 * while threads 0..k-1 run. pft's workers spin on {@code comm->go} until all have started
 * (machine-profiles.md §5), so every earlier thread counts as running; the first thread is the
 * launcher, on CPU 0.
 *
 * <p>The descent, from the widest domain down: at each domain, the group of the idlest non-local
 * CPUs (most idle CPUs, the first on ties: update_pick_idlest) against the local group (the one
 * holding the current CPU). In a NUMA domain the task stays local while the local group would run at
 * most {@code imb_numa_nr} tasks and the idle-CPU difference is at most NUMA_IMBALANCE_MIN = 2
 * (adjust_numa_imbalance, since 5.19); otherwise, and in every other domain, it moves only to a group
 * with strictly more idle CPUs ({@code local_sgs.idle_cpus >= idlest_sgs.idle_cpus} keeps it). Moving
 * picks the group's first idle CPU (sched_balance_find_dst_group_cpu: all idle at the same state,
 * the first wins) and continues in that CPU's domains below the one just balanced.
 *
 * <p>{@code imb_numa_nr} as build_sched_domains computes it (kernel/sched/topology.c): on the first
 * domain above the LLC, the number of LLCs it spans (or 1/8 of its CPUs when it spans one), times
 * span / (span of the first NUMA domain above it) on wider domains. So the two-socket Ice Lake
 * (one LLC per socket) allows 2 tasks on the launcher's socket before spreading, and the NPS2 Zen 5
 * (4 CCDs per node) keeps 4 per node and 8 per socket while each lands on its own CCD: four pft
 * threads run on three CCDs of one socket and one of the other, not on one CCD.
 *
 * <p>Departures: of the group types, only "fully busy" (no idle CPU) against "has spare" is told
 * apart: a fully busy local group loses to an idlest group with spare; two fully busy groups would
 * compare average load in the kernel, and here the local one is kept; NUMA balancing's preferred node (none for a new task)
 * and the later wake-up and periodic balancing (a spinning thread is never woken and, with one task
 * per CPU, has no imbalance to fix) are not modelled.
 */
final class ForkBalance {
    /** NUMA_IMBALANCE_MIN (kernel/sched/fair.c). */
    static final int NUMA_IMBALANCE_MIN = 2;

    /** One sched domain level: its span in cores, whether it is SD_NUMA, and its imb_numa_nr. */
    private record Level(int coresPerDomain, boolean numa, int imbNumaNr) {}

    private final int cores;
    private final int threadsPerCore;
    /** Levels bottom-up, from the SMT domain (span one core) to the whole machine. */
    private final List<Level> levels;

    ForkBalance(
            final int sockets,
            final int coresPerSocket,
            final int threadsPerCore,
            final int coresPerLlc,
            final int numaNodes) {
        this.cores = sockets * coresPerSocket;
        this.threadsPerCore = threadsPerCore;
        final int coresPerNode = Math.max(1, cores / numaNodes);
        final int llc = Math.min(coresPerLlc, coresPerNode);
        // Spans bottom-up; a level no wider than the one below it is degenerate and dropped, as
        // sd_degenerate / sd_parent_degenerate drop it.
        final int[] spans = {1, llc, coresPerNode, Math.max(coresPerNode, coresPerSocket), cores};
        final List<Level> built = new ArrayList<>();
        int imb = 0;
        int imbSpan = 1;
        int prev = 0;
        for (final int span : spans) {
            if (span <= prev) {
                continue;
            }
            final boolean numa = span > coresPerNode;
            int nr = 0;
            if (prev == llc && span > llc) {
                final int nrLlcs = span / llc;
                imb = Math.max(1, nrLlcs == 1 ? span * threadsPerCore >> 3 : nrLlcs);
                nr = imb;
                // imb_span: the first NUMA domain above this one, or this one.
                int above = span;
                for (final int s : spans) {
                    if (s > span && s > coresPerNode) {
                        above = s;
                        break;
                    }
                }
                imbSpan = above;
            } else if (span > llc) {
                nr = imb * Math.max(1, span / imbSpan);
            }
            built.add(new Level(span, numa, nr));
            prev = span;
        }
        this.levels = List.copyOf(built);
    }

    /** The logical CPU of each of the first {@code n} threads, in creation order. */
    int[] place(final int n) {
        final int logical = cores * threadsPerCore;
        final boolean[] running = new boolean[logical];
        final int[] out = new int[n];
        for (int k = 0; k < n; k++) {
            if (k >= logical) {
                out[k] = out[k % logical]; // more threads than CPUs: they share, in the same order
                continue;
            }
            final int cpu = k == 0 ? 0 : placeOne(running);
            out[k] = cpu;
            running[cpu] = true;
        }
        return out;
    }

    /** sched_balance_find_dst_cpu from CPU 0 (the launcher's), for a new task. */
    private int placeOne(final boolean[] running) {
        int cpu = 0;
        int level = levels.size() - 1;
        while (level >= 0) {
            final Level l = levels.get(level);
            final int groupCores = level == 0 ? 0 : levels.get(level - 1).coresPerDomain();
            final int domainStart = core(cpu) / l.coresPerDomain() * l.coresPerDomain();
            final int chosen = findDstGroup(running, l, groupCores, domainStart, cpu);
            if (chosen < 0) {
                level--;
                continue;
            }
            final int newCpu = level == 0 ? chosen : firstIdleOrFirst(running, chosen, groupCores);
            level--; // the new CPU's domains narrower than the one just balanced
            cpu = newCpu;
        }
        return cpu;
    }

    /**
     * sched_balance_find_dst_group for a domain of one level: -1 to stay in the local group, else
     * the first core of the chosen group (at the SMT level, where groups are CPUs, the CPU).
     */
    private int findDstGroup(
            final boolean[] running, final Level l, final int groupCores, final int domainStart, final int cpu) {
        if (groupCores == 0) {
            // SMT domain: the groups are the core's logical CPUs; an idle sibling has no more idle CPUs
            // than an idle local CPU, so the task stays unless the local CPU runs something.
            if (!running[cpu]) {
                return -1;
            }
            for (int t = 0; t < threadsPerCore; t++) {
                final int sib = core(cpu) + t * cores;
                if (!running[sib]) {
                    return sib;
                }
            }
            return -1;
        }
        final int localStart = core(cpu) / groupCores * groupCores;
        final int localIdle = idle(running, localStart, groupCores);
        int idlest = -1;
        int idlestIdle = -1;
        for (int g = domainStart; g < domainStart + l.coresPerDomain(); g += groupCores) {
            if (g == localStart) {
                continue;
            }
            final int idle = idle(running, g, groupCores);
            if (idle > idlestIdle) {
                idlest = g;
                idlestIdle = idle;
            }
        }
        if (idlest < 0 || idlestIdle == 0) {
            return -1;
        }
        if (localIdle == 0) {
            return idlest; // the local group is fully busy, the idlest has spare: group types differ
        }
        if (l.numa()) {
            final int localRunning = groupCores * threadsPerCore - localIdle;
            final int imbalance = Math.abs(localIdle - idlestIdle);
            if (adjustNumaImbalance(imbalance, localRunning + 1, l.imbNumaNr()) == 0) {
                return -1;
            }
        }
        return localIdle >= idlestIdle ? -1 : idlest;
    }

    /** adjust_numa_imbalance with allow_numa_imbalance ({@code running <= imb_numa_nr}). */
    static int adjustNumaImbalance(final int imbalance, final int dstRunning, final int imbNumaNr) {
        if (dstRunning > imbNumaNr) {
            return imbalance;
        }
        return imbalance <= NUMA_IMBALANCE_MIN ? 0 : imbalance;
    }

    private int core(final int cpu) {
        return cpu % cores;
    }

    /** Idle logical CPUs of cores [start, start + n). */
    private int idle(final boolean[] running, final int start, final int n) {
        int idle = 0;
        for (int t = 0; t < threadsPerCore; t++) {
            for (int c = start; c < start + n; c++) {
                if (!running[c + t * cores]) {
                    idle++;
                }
            }
        }
        return idle;
    }

    /** The lowest-numbered idle logical CPU of cores [start, start + n), else the first. */
    private int firstIdleOrFirst(final boolean[] running, final int start, final int n) {
        for (int t = 0; t < threadsPerCore; t++) {
            for (int c = start; c < start + n; c++) {
                if (!running[c + t * cores]) {
                    return c + t * cores;
                }
            }
        }
        return start;
    }
}
