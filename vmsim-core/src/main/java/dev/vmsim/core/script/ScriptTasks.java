package dev.vmsim.core.script;

import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.mm.MmStruct;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tasks of a vmscript run and the three lines that name them: {@code fork NAME} (the running
 * task forks: the child's mm is the copy-on-write copy dup_mmap makes), {@code exit NAME} (the task
 * exits: exit_mmap tears its mm down) and the prefix {@code in NAME:} that runs the rest of a line in
 * the named task. The first task is {@code parent}; a line without a prefix is the parent's and
 * prints exactly as it did before tasks existed.
 *
 * <p>All tasks run on one simulated CPU, which switches to a task's mm (switch_mm) before running
 * its line: a uniprocessor running one process at a time, which is what the oracle's strict
 * sequencing of its processes amounts to.
 *
 * <p>The transcript of a prefixed line is {@code in NAME: } and then the line's own transcript.
 * {@code fork} and {@code exit} answer {@code ok}, {@code EEXIST} (fork: the name is taken),
 * {@code EAGAIN} (fork: {@value #MAX_TASKS} tasks are alive), {@code ESRCH} (no such task), or
 * {@code syntax} (not exactly one NAME, or a NAME longer than {@value #NAME_CHARS} characters or
 * with a ':'). Any line for a task that does not exist, or no longer exists, answers {@code ESRCH}.
 * The /proc lines ({@link ProcLines}) print the files of the task they run in. The machine lines
 * ({@link ScriptMachine}) take no prefix ({@code syntax}); on a machine the caller built they answer
 * {@code EBUSY}.
 */
final class ScriptTasks {
    /** The name of the first task. */
    static final String PARENT = "parent";
    /** Tasks alive at once: the oracle's process slots, whose pipes it creates before its first fork. */
    static final int MAX_TASKS = 8;
    /** Longest task name (the oracle's buffer holds 31 characters and its NUL). */
    static final int NAME_CHARS = 31;

    private final Map<String, VmScript> live = new LinkedHashMap<>();
    private final Cpu cpu;
    private final StringBuilder out;
    private final ProcLines proc;
    /** The task the last line named (the parent when it named none); written and read by the stepping thread. */
    private String lastTask = PARENT;

    ScriptTasks(final VmScript parent, final Cpu cpu, final StringBuilder out) {
        this.cpu = cpu;
        this.out = out;
        this.proc = new ProcLines(parent.mm());
        live.put(PARENT, parent);
    }

    /** Runs one line of the script in the task it names (the parent when it names none). */
    void line(final String raw) {
        final int hash = raw.indexOf('#');
        final String line = hash >= 0 ? raw.substring(0, hash) : raw;
        final List<String> tok = VmScript.tokens(line);
        if (tok.isEmpty()) {
            return;
        }
        String taskName = PARENT;
        String rest = line;
        String prefix = "";
        if (tok.size() >= 2 && tok.get(0).equals("in") && isPrefix(tok.get(1))) {
            taskName = tok.get(1).substring(0, tok.get(1).length() - 1);
            rest = line.substring(endOfSecondToken(line));
            prefix = "in " + tok.get(1) + " ";
        }
        final List<String> op = VmScript.tokens(rest);
        if (op.isEmpty()) {
            out.append(String.join(" ", tok)).append(" -> syntax\n");
            return;
        }
        final VmScript task = live.get(taskName);
        lastTask = taskName;
        out.append(prefix);
        if (task == null) {
            out.append(String.join(" ", op)).append(" -> ESRCH\n");
        } else if (op.get(0).equals("fork")) {
            out.append(String.join(" ", op))
                    .append(" -> ")
                    .append(fork(task, op))
                    .append('\n');
        } else if (op.get(0).equals("exit")) {
            out.append(String.join(" ", op)).append(" -> ").append(exit(op)).append('\n');
        } else if (ScriptMachine.handles(op.get(0))) {
            // A session runs the unprefixed ones before they get here; this is a caller's machine.
            out.append(String.join(" ", op)).append(prefix.isEmpty() ? " -> EBUSY\n" : " -> syntax\n");
        } else if (ProcLines.handles(op.get(0))) {
            out.append(String.join(" ", op)).append(proc.run(task, op));
        } else {
            if (cpu.mm() != task.mm()) {
                cpu.switchMm(task.mm());
            }
            task.line(rest);
        }
    }

    /** The task the last line ran in (or named, if it did not exist). */
    String lastTask() {
        return lastTask;
    }

    /** The live tasks' names in the order they were created. */
    java.util.Set<String> names() {
        return live.keySet();
    }

    /** The mm of live task {@code name}, or null. */
    MmStruct mmOf(final String name) {
        final VmScript t = live.get(name);
        return t == null ? null : t.mm();
    }

    /** fork NAME in {@code task}: copy_process's dup_mmap, and the child's names are the parent's. */
    private String fork(final VmScript task, final List<String> op) {
        if (op.size() != 2 || !isName(op.get(1))) {
            return "syntax";
        }
        if (live.containsKey(op.get(1))) {
            return "EEXIST";
        }
        if (live.size() >= MAX_TASKS) {
            return "EAGAIN";
        }
        final MmStruct child = task.mm().fork();
        if (child == null) {
            return "EINTR";
        }
        live.put(op.get(1), task.forked(child));
        return "ok";
    }

    /** exit NAME: exit_mm's mmput, whose last reference runs exit_mmap before the line returns. */
    private String exit(final List<String> op) {
        if (op.size() != 2 || !isName(op.get(1))) {
            return "syntax";
        }
        final VmScript task = live.remove(op.get(1));
        if (task == null) {
            return "ESRCH";
        }
        task.mm().exitMmap();
        return "ok";
    }

    /** {@code NAME:} of an {@code in} prefix. */
    private static boolean isPrefix(final String t) {
        return t.length() >= 2 && t.endsWith(":") && isName(t.substring(0, t.length() - 1));
    }

    private static boolean isName(final String n) {
        return !n.isEmpty() && n.length() <= NAME_CHARS && n.indexOf(':') < 0;
    }

    /** The index just past the second token of {@code line} (which has at least two). */
    private static int endOfSecondToken(final String line) {
        int i = 0;
        for (int t = 0; t < 2; t++) {
            while (VmScript.isSep(line.charAt(i))) {
                i++;
            }
            while (i < line.length() && !VmScript.isSep(line.charAt(i))) {
                i++;
            }
        }
        return i;
    }
}
