package dev.vmsim.core.script;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.proc.ProcMeminfo;
import dev.vmsim.core.proc.ProcVmstat;
import dev.vmsim.core.proc.Smaps;
import dev.vmsim.core.proc.TaskMem;
import java.util.ArrayList;
import java.util.List;

/**
 * The vmscript lines that print a /proc file of the running task: {@code smaps ADDR} (the block of
 * the VMA containing ADDR), {@code smaps_rollup}, {@code status}, {@code vmstat} and {@code
 * meminfo}. Each prints its echo, {@code " ->"}, and the file's lines indented by two spaces, as
 * {@code maps} does; or {@code " -> "} and {@code syntax}, {@code outside} (ADDR not in the arena) or {@code ENOENT} (no
 * VMA contains ADDR).
 *
 * <p>What the transcript shows of each, so that the oracle's copy on any host prints the same:
 * <ul>
 *   <li>smaps: every line, the header's addresses relative to top (see {@link Smaps});
 *   <li>smaps_rollup: the rollup of the arena's VMAs (the simulated process has nothing else that
 *       Rss counts; the oracle sums the arena's blocks, so a Pss of pages mapped three or more times
 *       can differ by the kernel's per-VMA rounding: record such scenarios without a rollup);
 *   <li>status: the lines {@link TaskMem#scriptLines} names, as the change since the first task
 *       started (the oracle subtracts its own start-up values);
 *   <li>vmstat: the simulated machine's counters since the run began. The live kernel's /proc/vmstat
 *       counts the whole machine, so no transcript of it is recorded;
 *   <li>meminfo: the simulated machine's whole /proc/meminfo ({@link ProcMeminfo}). The live kernel's
 *       is the whole host's, so a recording of it is compared only in what can be compared: the
 *       lines, their order and format, and the change in the script-decided lines between two
 *       {@code meminfo} lines (vmscript/meminfo/ and its test).
 * </ul>
 */
final class ProcLines {
    private final TaskMem.Values start;

    /** {@code first}: the first task, before any line; status lines are relative to it. */
    ProcLines(final MmStruct first) {
        this.start = TaskMem.of(first);
    }

    static boolean handles(final String op) {
        return op.equals("smaps")
                || op.equals("smaps_rollup")
                || op.equals("status")
                || op.equals("vmstat")
                || op.equals("meminfo");
    }

    /** Runs one of the lines {@link #handles} in {@code task}; returns the transcript after the echo. */
    String run(final VmScript task, final List<String> op) {
        final MmStruct mm = task.mm();
        final String verb = op.get(0);
        if (verb.equals("smaps")) {
            final long[] a = new long[1];
            if (op.size() != 2 || !task.expr(op.get(1), a)) {
                return " -> syntax\n";
            }
            if (task.outside(a[0], 1)) {
                return " -> outside\n";
            }
            mm.mmapLock().readLock();
            try {
                final Vma vma = mm.vmaLookup(a[0]);
                return vma == null ? " -> ENOENT\n" : block(Smaps.smap(mm, vma, task::rel));
            } finally {
                mm.mmapLock().readUnlock();
            }
        }
        if (op.size() != 1) {
            return " -> syntax\n";
        }
        if (verb.equals("smaps_rollup")) {
            mm.mmapLock().readLock();
            try {
                final List<Vma> arena = new ArrayList<>();
                for (final Vma v : mm.vmas()) {
                    if (!task.outside(v.vmStart, v.vmEnd - v.vmStart)) {
                        arena.add(v);
                    }
                }
                return arena.isEmpty() ? " ->\n" : block(Smaps.rollup(mm, arena, task::rel));
            } finally {
                mm.mmapLock().readUnlock();
            }
        }
        if (verb.equals("status")) {
            return block(List.of(TaskMem.scriptLines(TaskMem.of(mm).minus(start))));
        }
        if (verb.equals("meminfo")) {
            return block(ProcMeminfo.lines(mm.machine()));
        }
        return block(ProcVmstat.lines(mm.machine()));
    }

    private static String block(final List<String> lines) {
        final StringBuilder sb = new StringBuilder(" ->\n");
        for (final String l : lines) {
            sb.append("  ").append(l).append('\n');
        }
        return sb.toString();
    }
}
