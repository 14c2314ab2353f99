package dev.vmsim.core.trace;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Writes recorded events as Chrome trace-event JSON (the format Perfetto and chrome://tracing load):
 * a {@code traceEvents} array with ts and dur in microseconds, one tid per simulated CPU (named by
 * thread_name metadata; events from a thread with no CPU get tid 10000 + its Java thread id).
 *
 * <p>Slices are written as complete ("X") events, matched per thread from BEGIN/END, so they nest by
 * construction; a BEGIN whose END was not recorded (the recorder filled up) is left out. An
 * mmap_lock wait becomes a slice {@code mmap_lock_wait(read|write)} from mmap_lock_start_locking to
 * mmap_lock_acquire_returned; the other events are instants ("i"). The events are sorted by tid, then
 * ts, then longer first, so ts is monotonic per tid and a parent precedes its children.
 */
public final class ChromeTraceJson {
    private ChromeTraceJson() {}

    private static final class Open {
        final TraceEvent begin;
        final int tid;

        Open(final TraceEvent begin, final int tid) {
            this.begin = begin;
            this.tid = tid;
        }
    }

    private static final class Out {
        final int tid;
        final long ts;
        final long dur; // -1: instant
        final String name;
        final String[] args;

        Out(final int tid, final long ts, final long dur, final String name, final String[] args) {
            this.tid = tid;
            this.ts = ts;
            this.dur = dur;
            this.name = name;
            this.args = args;
        }
    }

    /** The JSON document for {@code events}; {@code dropped} and {@code capacity} go into its metadata. */
    public static String write(final List<TraceEvent> events, final long dropped, final int capacity) {
        final Map<Long, ArrayDeque<Open>> stacks = new HashMap<>();
        final List<Out> outs = new ArrayList<>();
        final TreeSet<Integer> tids = new TreeSet<>();
        for (final TraceEvent e : events) {
            final int tid = e.cpu >= 0 ? e.cpu : (int) (10000 + e.threadId);
            tids.add(tid);
            final ArrayDeque<Open> stack = stacks.computeIfAbsent(e.threadId, k -> new ArrayDeque<>());
            if (e.name.equals(MmapLockBridge.START_LOCKING)) {
                final String wait = "true".equals(e.arg(MmapLockBridge.UPGRADE)) ? "mmap_lock_wait(upgrade)"
                        : "true".equals(e.arg("write")) ? "mmap_lock_wait(write)" : "mmap_lock_wait(read)";
                stack.push(new Open(new TraceEvent(e.tsNs, e.threadId, e.cpu, TraceSink.BEGIN, wait, e.args()), tid));
                continue;
            }
            if (e.name.equals(MmapLockBridge.ACQUIRE_RETURNED)) {
                if (!stack.isEmpty() && stack.peek().begin.name.startsWith("mmap_lock_wait(")) {
                    final Open o = stack.pop();
                    outs.add(new Out(o.tid, o.begin.tsNs, e.tsNs - o.begin.tsNs, o.begin.name, e.args()));
                }
                continue;
            }
            switch (e.phase) {
                case TraceSink.BEGIN:
                    stack.push(new Open(e, tid));
                    break;
                case TraceSink.END:
                    // Pop to the matching BEGIN; anything above it was never closed (cannot happen
                    // with the fault path's structured sites) and is dropped.
                    while (!stack.isEmpty()) {
                        final Open o = stack.pop();
                        if (o.begin.name.equals(e.name)) {
                            outs.add(new Out(o.tid, o.begin.tsNs, e.tsNs - o.begin.tsNs, e.name,
                                    concat(o.begin.args(), e.args())));
                            break;
                        }
                    }
                    break;
                default:
                    outs.add(new Out(tid, e.tsNs, -1, e.name, e.args()));
                    break;
            }
        }
        outs.sort(Comparator.<Out>comparingInt(o -> o.tid).thenComparingLong(o -> o.ts)
                .thenComparing(Comparator.<Out>comparingLong(o -> o.dur).reversed()));
        final StringBuilder sb = new StringBuilder(64 + outs.size() * 128);
        sb.append("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"vmsim\",\"capacity\":").append(capacity)
                .append(",\"recorded_events\":").append(events.size())
                .append(",\"dropped_events\":").append(dropped)
                .append(",\"note\":").append(quote(dropped > 0
                        ? "bounded: only the first " + capacity + " events were recorded, " + dropped + " dropped"
                        : "bounded to " + capacity + " events; none dropped"))
                .append("},\n\"traceEvents\":[\n");
        sb.append("{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"vmsim\"}}");
        for (final int tid : tids) {
            sb.append(",\n{\"ph\":\"M\",\"pid\":1,\"tid\":").append(tid)
                    .append(",\"name\":\"thread_name\",\"args\":{\"name\":")
                    .append(quote(tid >= 10000 ? "thread " + (tid - 10000) : "cpu " + tid)).append("}}");
        }
        for (final Out o : outs) {
            sb.append(",\n{\"ph\":\"").append(o.dur < 0 ? "i" : "X").append("\",\"pid\":1,\"tid\":").append(o.tid)
                    .append(",\"ts\":").append(micros(o.ts));
            if (o.dur >= 0) {
                sb.append(",\"dur\":").append(micros(o.dur));
            } else {
                sb.append(",\"s\":\"t\"");
            }
            sb.append(",\"name\":").append(quote(o.name)).append(",\"args\":{");
            for (int i = 0; i + 1 < o.args.length; i += 2) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(quote(o.args[i])).append(':').append(quote(o.args[i + 1]));
            }
            sb.append("}}");
        }
        sb.append("\n]}\n");
        return sb.toString();
    }

    private static String[] concat(final String[] a, final String[] b) {
        final String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** ns as µs with three decimals (exact: no floating point). */
    static String micros(final long ns) {
        final long us = ns / 1000;
        final long frac = ns % 1000;
        return us + "." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + frac;
    }

    static String quote(final String s) {
        final StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
