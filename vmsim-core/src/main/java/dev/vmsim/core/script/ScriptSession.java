package dev.vmsim.core.script;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.clock.HostPlatform;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.trace.TraceEvent;
import dev.vmsim.core.trace.TraceRecorder;
import java.util.ArrayList;
import java.util.List;

/**
 * A vmscript run taken one line at a time, for a front end that shows the state between lines (the
 * teaching server). {@link VmScript#run} and {@link VmScript#runTraced} are this class run to the end,
 * so the transcript a session builds is byte for byte the one {@code vmsim script} prints.
 *
 * <p>Not thread-safe: one thread steps a session (the simulated tasks all run on its one CPU).
 */
public final class ScriptSession {
    private final ScriptMachine config;
    private final LockingMode mode;
    private final boolean mmapUpgrade;
    private final StringBuilder out = new StringBuilder();
    private final TraceRecorder recorder;
    /** The first task, on the machine now booted; replaced when a {@code mem} or {@code swap} line reboots it. */
    private VmScript parent;

    private ScriptTasks tasks;
    /** A line other than {@code mem}, {@code swap}, a blank or a comment has run: the machine is fixed. */
    private boolean started;

    private ScriptSession(
            final ScriptMachine config,
            final LockingMode mode,
            final boolean mmapUpgrade,
            final TraceRecorder recorder) {
        this.config = config;
        this.mode = mode;
        this.mmapUpgrade = mmapUpgrade;
        this.recorder = recorder;
        boot();
    }

    /** A fresh process (the task {@code parent}) on a freshly booted machine of the configured size. */
    private void boot() {
        if (parent != null) {
            parent.mm().machine().close();
        }
        this.parent = VmScript.fresh(config.boot(), mode, mmapUpgrade, out);
        this.tasks = new ScriptTasks(parent, parent.cpu(), out);
    }

    /**
     * A fresh single-threaded process of {@code arch} (the task {@code parent}) on a new machine.
     * With a {@code recorder}, each step returns the trace events its line produced; the caller
     * installs the recorder ({@link dev.vmsim.core.trace.FaultTrace#install}) for as long as it steps.
     */
    public static ScriptSession start(
            final Arch arch, final LockingMode mode, final boolean mmapUpgrade, final TraceRecorder recorder) {
        return start(arch, mode, mmapUpgrade, KernelVariant.VANILLA, recorder);
    }

    /** As {@link #start(Arch, LockingMode, boolean, TraceRecorder)}, on a machine running kernel {@code variant}. */
    public static ScriptSession start(
            final Arch arch,
            final LockingMode mode,
            final boolean mmapUpgrade,
            final KernelVariant variant,
            final TraceRecorder recorder) {
        return start(arch, mode, mmapUpgrade, variant, HostPlatform.INSTANCE, 0, 0, recorder);
    }

    /**
     * As {@link #start(Arch, LockingMode, boolean, KernelVariant, TraceRecorder)} on {@code platform}'s
     * clock (under a virtual clock, step it from the scheduler's one task), with {@code memBytes} of
     * memory (0: the default) and a swap device of {@code swapBytes} (0: none) until the script's own
     * {@code mem} and {@code swap} lines say otherwise ({@link ScriptMachine}). The sizes are the
     * caller's to check (vmsim script's --mem and --swap are).
     */
    public static ScriptSession start(
            final Arch arch,
            final LockingMode mode,
            final boolean mmapUpgrade,
            final KernelVariant variant,
            final Platform platform,
            final long memBytes,
            final long swapBytes,
            final TraceRecorder recorder) {
        return new ScriptSession(
                new ScriptMachine(arch, variant, platform, memBytes, swapBytes), mode, mmapUpgrade, recorder);
    }

    /** One line's transcript text (empty for a blank or comment line), the task it ran in, its trace events. */
    public record Step(String text, String task, List<TraceEvent> events) {}

    /** Runs one line (without its newline) and returns what it printed. */
    public Step step(final String line) {
        if (recorder != null) {
            recorder.drain();
        }
        final int from = out.length();
        final int hash = line.indexOf('#');
        final List<String> op = VmScript.tokens(hash >= 0 ? line.substring(0, hash) : line);
        if (!op.isEmpty() && ScriptMachine.handles(op.get(0))) {
            final String result = config.line(op, started);
            if (result.equals("ok")) {
                boot();
            }
            out.append(String.join(" ", op)).append(" -> ").append(result).append('\n');
            final List<TraceEvent> none = recorder == null ? List.of() : recorder.drain();
            return new Step(out.substring(from), ScriptTasks.PARENT, none);
        }
        started |= !op.isEmpty();
        tasks.line(line);
        final List<TraceEvent> events = recorder == null ? List.of() : recorder.drain();
        return new Step(out.substring(from), tasks.lastTask(), events);
    }

    /** Has the machine a memory size or a swap device ({@code mem}, {@code swap}, --mem, --swap)? */
    public boolean memoryLimited() {
        return config.limited();
    }

    /** The machine the script runs on now (a {@code mem} or {@code swap} line replaces it before the first operation). */
    public Machine machine() {
        return parent.mm().machine();
    }

    /** The script's lines as the interpreter reads them (fgets: a trailing newline does not add a line). */
    public static List<String> lines(final String script) {
        return VmScript.splitLines(script);
    }

    /** The transcript so far. */
    public String transcript() {
        return out.toString();
    }

    /** Appends {@code text} to the transcript (the --trace lines, which are not the kernel's). */
    void append(final String text) {
        out.append(text);
    }

    /** The names of the live tasks, {@code parent} first while it lives. */
    public List<String> tasks() {
        return new ArrayList<>(tasks.names());
    }

    /** The mm of live task {@code name}, or null. */
    public MmStruct mm(final String name) {
        return tasks.mmOf(name);
    }

    /** The parent's mm (which outlives an {@code exit parent} until the session is dropped). */
    public MmStruct parentMm() {
        return parent.mm();
    }

    /** The one CPU every task runs on. */
    public Cpu cpu() {
        return parent.cpu();
    }

    /** The top of the arena (the process's mmap_base) that transcript addresses are relative to. */
    public long top() {
        return parent.mm().mmapBase();
    }

    /** {@code addr} as the transcript prints it: {@code top-0x...} or {@code top+0x...}. */
    public String rel(final long addr) {
        return parent.rel(addr);
    }
}
