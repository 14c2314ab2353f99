package dev.vmsim.app.serve;

import dev.vmsim.bench.LockingVariant;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.ScriptSession;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.FaultTraceText;
import dev.vmsim.core.trace.TraceEvent;
import dev.vmsim.core.trace.TraceRecorder;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /api/script}: checks the request against the {@link ServerLimits}, runs the script one
 * line at a time in a {@link ScriptSession} (the interpreter {@code vmsim script} runs, so the
 * transcript is the same bytes) with the fault path traced, and snapshots the state after each line.
 */
@Singleton
final class ScriptService {
    /** Trace events one script may record (a line faults a handful of times; as vmsim script --trace). */
    static final int TRACE_CAPACITY = 1 << 20;

    private final ServerLimits limits;
    private final TraceLock traceLock;

    ScriptService(final ServerLimits limits, final TraceLock traceLock) {
        this.limits = limits;
        this.traceLock = traceLock;
    }

    ScriptApi.Response run(final ScriptApi.Request req) {
        final Arch arch = arch(req.arch());
        final LockingMode mode = locking(req.locking());
        final String script = script(req.script());
        final boolean upgrade = Boolean.TRUE.equals(req.mmapUpgrade());
        final List<String> lines = ScriptSession.lines(script);
        final TraceRecorder rec = new TraceRecorder(TRACE_CAPACITY);
        final List<ScriptApi.Step> steps = new ArrayList<>();
        final ScriptSession session;
        traceLock.lock(limits.requestTimeout());
        try {
            session = ScriptSession.start(arch, mode, upgrade, rec);
            final Long walkAt = req.walk() == null || req.walk().isBlank() ? null : address(req.walk(), session.top());
            final long deadline = System.nanoTime() + limits.requestTimeout().toNanos();
            FaultTrace.install(rec);
            try {
                for (int i = 0; i < lines.size(); i++) {
                    if (System.nanoTime() - deadline > 0) {
                        throw new ApiException(
                                HttpStatus.SERVICE_UNAVAILABLE,
                                null,
                                "the script ran past the request" + " timeout (" + limits.requestTimeout()
                                        + ") at line " + (i + 1));
                    }
                    final ScriptSession.Step st = session.step(lines.get(i));
                    final Long at = walkAt != null ? walkAt : faultAddress(st.events());
                    steps.add(new ScriptApi.Step(
                            i + 1,
                            lines.get(i),
                            st.task(),
                            st.text(),
                            result(st.text()),
                            events(st.events()),
                            FaultTraceText.lines(st.events(), session.top()),
                            Snapshots.of(session, st.task(), at)));
                }
            } finally {
                FaultTrace.install(null);
            }
        } finally {
            traceLock.unlock();
        }
        return new ScriptApi.Response(session.transcript(), steps, command(arch.name(), mode, upgrade));
    }

    private static Arch arch(final String name) {
        final String n = name == null ? "x86_64" : name;
        final Arch a = ArchRegistry.find(n);
        if (a == null) {
            throw ApiException.badField("arch", "unknown arch '" + n + "' (known: x86_64, arm64)");
        }
        return a;
    }

    static LockingMode locking(final String name) {
        if (name == null) {
            return LockingMode.PER_VMA;
        }
        final LockingMode m = LockingMode.fromCliName(name);
        if (m == null) {
            throw ApiException.badField(
                    "locking", "unknown locking mode '" + name + "' (known: " + LockingVariant.modeNames() + ")");
        }
        return m;
    }

    private String script(final String script) {
        if (script == null) {
            throw ApiException.badField("script", "missing");
        }
        final int bytes = script.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > limits.scriptBytes()) {
            throw ApiException.badField("script", "is " + bytes + " bytes; the limit is " + limits.scriptBytes());
        }
        final long ops = script.lines().filter(l -> !l.isBlank()).count();
        if (ops > limits.scriptLines()) {
            throw ApiException.badField("script", "has " + ops + " lines; the limit is " + limits.scriptLines());
        }
        return script;
    }

    /** {@code walk}: 0x... or decimal, or relative to top as the transcript prints it (top-0x4000). */
    static long address(final String s, final long top) {
        final String t = s.strip();
        try {
            if (t.startsWith("top")) {
                final String rest = t.substring(3);
                if (rest.isEmpty()) {
                    return top;
                }
                final long off = parse(rest.substring(1));
                if (rest.charAt(0) == '+') {
                    return top + off;
                }
                if (rest.charAt(0) == '-') {
                    return top - off;
                }
                throw new NumberFormatException(t);
            }
            return parse(t);
        } catch (NumberFormatException e) {
            throw ApiException.badField("walk", "'" + s + "' is not an address (0x7f0000001000, or top-0x4000)");
        }
    }

    private static long parse(final String s) {
        return s.startsWith("0x") || s.startsWith("0X")
                ? Long.parseUnsignedLong(s.substring(2), 16)
                : Long.parseUnsignedLong(s);
    }

    /** The address of the step's first fault (page_fault_user / do_mem_abort), or null when it did not fault. */
    private static Long faultAddress(final List<TraceEvent> events) {
        for (final TraceEvent e : events) {
            final String a = e.phase == 'B' ? e.arg("address") : null;
            if (a != null && (e.name.equals(FaultTrace.PAGE_FAULT_USER) || e.name.equals(FaultTrace.DO_MEM_ABORT))) {
                return parse(a);
            }
        }
        return null;
    }

    private static List<ScriptApi.Event> events(final List<TraceEvent> events) {
        final List<ScriptApi.Event> out = new ArrayList<>(events.size());
        for (final TraceEvent e : events) {
            final Map<String, String> args = new LinkedHashMap<>();
            final String[] a = e.args();
            for (int i = 0; i + 1 < a.length; i += 2) {
                args.put(a[i], a[i + 1]);
            }
            out.add(new ScriptApi.Event(e.tsNs, e.cpu, String.valueOf(e.phase), e.name, args));
        }
        return out;
    }

    /** What follows " -> " on the first line of a step's transcript ("" for maps and the /proc lines). */
    static String result(final String text) {
        final int nl = text.indexOf('\n');
        final String first = nl < 0 ? text : text.substring(0, nl);
        final int arrow = first.indexOf(" ->");
        return arrow < 0 ? "" : first.substring(arrow + 3).strip();
    }

    /** The command that prints the same transcript. */
    static String command(final String arch, final LockingMode mode, final boolean upgrade) {
        return "./vmsim script --arch " + arch + " --locking " + mode.cliName() + (upgrade ? " --mmap-upgrade" : "")
                + " FILE.vms";
    }
}
