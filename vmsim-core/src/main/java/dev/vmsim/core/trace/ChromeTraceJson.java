package dev.vmsim.core.trace;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes recorded events as Chrome trace-event JSON, the format Perfetto and chrome://tracing load
 * (ts in microseconds):
 *
 * <ul>
 *   <li><b>One track per simulated CPU</b>: tid = CPU id, named {@code cpu N} by thread_name
 *       metadata and ordered by thread_sort_index; a thread that runs no CPU gets tid 10000 + its
 *       Java thread id. {@code otherData} lists each CPU's ring figures as ftrace reports them
 *       ({@link TraceRecorder.CpuStats}).
 *   <li><b>Slices</b> as B/E pairs, matched per thread from BEGIN/END so they nest: the fault
 *       ({@code page_fault_user}, {@code do_mem_abort}, ...) and the functions inside it; an
 *       mmap_lock wait, {@code mmap_lock_wait(read|write)}, from mmap_lock_start_locking to
 *       mmap_lock_acquire_returned; and {@code mmap_lock_held(write)} from a write acquisition
 *       outside any slice (a system call's) to its release. A slice whose END was not recorded is
 *       left out. Other events are thread-scoped instants ("i").
 *   <li><b>Flows</b> (s/t/f, category {@code mmap_lock}): for each wait that ended after another
 *       task released the same mmap_lock during it, an arrow from the fault (the outermost slice
 *       around the wait) through the wait to the latest such release on the releasing task's track
 *       ("f" bound to its enclosing slice, {@code "bp":"e"}). A release outside any slice gets no
 *       arrow (Perfetto could not bind it).
 *   <li><b>Counters</b> ("C", one track each, in time order): {@code rss} (pages) and
 *       {@code nr_free_pages} sampled as each fault returns, and {@code mmap_lock} {@code waiters}:
 *       tasks between mmap_lock_start_locking and mmap_lock_acquire_returned.
 * </ul>
 */
public final class ChromeTraceJson {
    /** Flow category and name. */
    static final String FLOW = "mmap_lock";

    private ChromeTraceJson() {}

    /** A slice being matched: its BEGIN, then its end once seen. */
    private static final class Open {
        final int tid;
        final long ts;
        final String name;
        final String[] args;
        long end = -1;
        String[] endArgs;

        Open(final int tid, final long ts, final String name, final String[] args) {
            this.tid = tid;
            this.ts = ts;
            this.name = name;
            this.args = args;
        }

        boolean closed() {
            return end >= 0;
        }
    }

    /**
     * One line of output on a track: a slice's B or E ({@code slice}), an instant ({@code name},
     * {@code args}) or a flow step ({@code name}, {@code flowId}).
     */
    private record Out(char ph, long ts, Open slice, String name, String[] args, long flowId) {}

    /** An mmap_lock release, where a flow may end; {@code enclosing}: the releasing thread's innermost open slice. */
    private record Release(long ts, long threadId, int tid, Open enclosing) {}

    /** An mmap_lock wait, where a flow may start; {@code outermost}: the fault around it, or the wait itself. */
    private record Wait(Open slice, Open outermost, long threadId, String lock) {}

    /** One sample of counter track {@code name} (its value under {@code key}). */
    private record Counter(long ts, String name, String key, long value) {}

    /** Per-thread matching state. */
    private static final class ThreadState {
        final ArrayDeque<Open> stack = new ArrayDeque<>();
    }

    /**
     * The JSON document for {@code events} (ordered by time), with {@code stats} and {@code capacity}
     * in its metadata.
     */
    public static String write(
            final List<TraceEvent> events, final List<TraceRecorder.CpuStats> stats, final int capacity) {
        final Map<Long, ThreadState> threads = new HashMap<>();
        final TreeMap<Integer, List<Out>> tracks = new TreeMap<>();
        final Map<String, List<Release>> releases = new HashMap<>();
        final List<Wait> waits = new ArrayList<>();
        final List<Counter> counters = new ArrayList<>();
        int waiters = 0;
        for (final TraceEvent e : events) {
            final int tid = tid(e);
            final List<Out> track = tracks.computeIfAbsent(tid, k -> new ArrayList<>());
            final ArrayDeque<Open> stack = threads.computeIfAbsent(e.threadId, k -> new ThreadState()).stack;
            switch (e.name) {
                case MmapLockBridge.START_LOCKING: {
                    final String wait = "true".equals(e.arg(MmapLockBridge.UPGRADE))
                            ? "mmap_lock_wait(upgrade)"
                            : "true".equals(e.arg("write")) ? "mmap_lock_wait(write)" : "mmap_lock_wait(read)";
                    final Open o = begin(track, stack, new Open(tid, e.tsNs, wait, e.args()));
                    waits.add(new Wait(o, stack.peekLast(), e.threadId, e.arg("lock")));
                    counters.add(new Counter(e.tsNs, "mmap_lock", "waiters", ++waiters));
                    continue;
                }
                case MmapLockBridge.ACQUIRE_RETURNED:
                    if (!stack.isEmpty() && stack.peek().name.startsWith("mmap_lock_wait(")) {
                        end(track, stack.pop(), e.tsNs, e.args());
                        counters.add(new Counter(e.tsNs, "mmap_lock", "waiters", --waiters));
                    }
                    if (stack.isEmpty() && "true".equals(e.arg("write")) && "true".equals(e.arg("success"))) {
                        begin(track, stack, new Open(tid, e.tsNs, "mmap_lock_held(write)", new String[0]));
                    }
                    continue;
                case MmapLockBridge.RELEASED:
                    releases.computeIfAbsent(e.arg("lock"), k -> new ArrayList<>())
                            .add(new Release(e.tsNs, e.threadId, tid, stack.peek()));
                    if (!stack.isEmpty() && stack.peek().name.equals("mmap_lock_held(write)")) {
                        end(track, stack.pop(), e.tsNs, new String[0]);
                    }
                    track.add(new Out('i', e.tsNs, null, e.name, e.args(), 0));
                    continue;
                default:
                    break;
            }
            switch (e.phase) {
                case TraceSink.BEGIN:
                    begin(track, stack, new Open(tid, e.tsNs, e.name, e.args()));
                    break;
                case TraceSink.END:
                    // Pop to the matching BEGIN; anything above it was never closed (cannot happen
                    // with the fault path's structured sites) and is left out.
                    while (!stack.isEmpty()) {
                        final Open o = stack.pop();
                        if (o.name.equals(e.name)) {
                            end(track, o, e.tsNs, e.args());
                            sampleCounters(e, counters);
                            break;
                        }
                    }
                    break;
                default:
                    track.add(new Out('i', e.tsNs, null, e.name, e.args(), 0));
                    break;
            }
        }
        addFlows(waits, releases, tracks);
        for (final List<Out> track : tracks.values()) {
            track.sort(Comparator.comparingLong(o -> o.ts())); // stable: equal times keep emission order
        }
        counters.sort(Comparator.comparingLong(c -> c.ts()));
        return render(tracks, counters, events.size(), stats, capacity);
    }

    private static int tid(final TraceEvent e) {
        return e.cpu >= 0 ? e.cpu : (int) (10000 + e.threadId);
    }

    private static Open begin(final List<Out> track, final ArrayDeque<Open> stack, final Open o) {
        stack.push(o);
        track.add(new Out('B', o.ts, o, null, null, 0));
        return o;
    }

    private static void end(final List<Out> track, final Open o, final long ts, final String[] args) {
        o.end = ts;
        o.endArgs = args;
        track.add(new Out('E', ts, o, null, null, 0));
    }

    /** A fault's END carries the counters sampled as it returned (FaultTrace's exit arguments). */
    private static void sampleCounters(final TraceEvent e, final List<Counter> counters) {
        final String rss = e.arg("rss");
        final String free = e.arg("free_frames");
        if (rss != null) {
            counters.add(new Counter(e.tsNs, "rss", "pages", Long.parseLong(rss)));
        }
        if (free != null) {
            counters.add(new Counter(e.tsNs, "nr_free_pages", "pages", Long.parseLong(free)));
        }
    }

    /**
     * For each wait, the latest release of the same lock by another thread within it; a flow from
     * the outermost slice around the wait, through the wait, to the slice enclosing that release.
     */
    private static void addFlows(
            final List<Wait> waits, final Map<String, List<Release>> releases, final Map<Integer, List<Out>> tracks) {
        long id = 1;
        for (final Wait w : waits) {
            final Open s = w.slice();
            final List<Release> rs = releases.get(w.lock());
            if (!s.closed() || rs == null || s.end - s.ts < 2) {
                continue;
            }
            final Release r = latestReleaseWithin(rs, s.ts, s.end, w.threadId());
            if (r == null || r.enclosing() == null || !r.enclosing().closed() || r.enclosing().ts >= r.ts()) {
                continue;
            }
            // Inside the enclosing slice, strictly before its end, so that the viewer finds it open.
            final long fTs = Math.min(r.ts(), r.enclosing().end - 1);
            if (fTs <= r.enclosing().ts || !w.outermost().closed()) {
                continue;
            }
            final List<Out> waiter = tracks.get(s.tid);
            waiter.add(new Out('s', w.outermost().ts, null, FLOW, null, id));
            if (w.outermost() != s) {
                waiter.add(new Out('t', s.ts + (s.end - s.ts) / 2, null, FLOW, null, id));
            }
            tracks.get(r.tid()).add(new Out('f', fTs, null, FLOW, null, id));
            id++;
        }
    }

    /** The release with the largest ts in [from, to] by a thread other than {@code waiter}; rs is in time order. */
    private static Release latestReleaseWithin(
            final List<Release> rs, final long from, final long to, final long waiter) {
        int lo = 0;
        int hi = rs.size();
        while (lo < hi) { // first index with ts > to
            final int mid = (lo + hi) >>> 1;
            if (rs.get(mid).ts() <= to) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (int i = lo - 1; i >= 0 && rs.get(i).ts() >= from; i--) {
            if (rs.get(i).threadId() != waiter) {
                return rs.get(i);
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- output

    private static String render(
            final TreeMap<Integer, List<Out>> tracks,
            final List<Counter> counters,
            final int recorded,
            final List<TraceRecorder.CpuStats> stats,
            final int capacity) {
        long lost = 0;
        for (final TraceRecorder.CpuStats s : stats) {
            lost += s.lost();
        }
        final StringBuilder sb = new StringBuilder(256 + recorded * 96);
        sb.append("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"vmsim\",\"capacity\":")
                .append(capacity)
                .append(",\"recorded_events\":")
                .append(recorded)
                .append(",\"lost_events\":")
                .append(lost)
                .append(",\"note\":")
                .append(quote(
                        lost > 0
                                ? "per-CPU ring buffers; " + lost
                                        + " events lost (see cpus: dropped_events = ring full, "
                                        + "unread = left in the ring once " + capacity + " events were kept)"
                                : "per-CPU ring buffers; no events lost"))
                .append(",\"cpus\":[");
        for (int i = 0; i < stats.size(); i++) {
            final TraceRecorder.CpuStats s = stats.get(i);
            sb.append(i == 0 ? "" : ",")
                    .append("{\"cpu\":")
                    .append(s.cpu())
                    .append(",\"name\":")
                    .append(quote(s.cpu() >= 0 ? "cpu " + s.cpu() : "no cpu"))
                    .append(",\"entries\":")
                    .append(s.entries())
                    .append(",\"dropped_events\":")
                    .append(s.droppedEvents())
                    .append(",\"unread\":")
                    .append(s.unread())
                    .append('}');
        }
        sb.append("]},\n\"traceEvents\":[\n");
        sb.append("{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":\"vmsim\"}}");
        for (final int tid : tracks.keySet()) {
            sb.append(",\n{\"ph\":\"M\",\"pid\":1,\"tid\":")
                    .append(tid)
                    .append(",\"name\":\"thread_name\",\"args\":{\"name\":")
                    .append(quote(tid >= 10000 ? "thread " + (tid - 10000) : "cpu " + tid))
                    .append("}}");
            sb.append(",\n{\"ph\":\"M\",\"pid\":1,\"tid\":")
                    .append(tid)
                    .append(",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":")
                    .append(tid)
                    .append("}}");
        }
        for (final Map.Entry<Integer, List<Out>> t : tracks.entrySet()) {
            for (final Out o : t.getValue()) {
                if (o.slice() != null && !o.slice().closed()) {
                    continue; // a BEGIN whose END was not recorded
                }
                appendOut(sb, t.getKey(), o);
            }
        }
        for (final Counter c : counters) {
            sb.append(",\n{\"ph\":\"C\",\"pid\":1,\"tid\":0,\"ts\":")
                    .append(micros(c.ts()))
                    .append(",\"name\":")
                    .append(quote(c.name()))
                    .append(",\"args\":{")
                    .append(quote(c.key()))
                    .append(':')
                    .append(c.value())
                    .append("}}");
        }
        sb.append("\n]}\n");
        return sb.toString();
    }

    private static void appendOut(final StringBuilder sb, final int tid, final Out o) {
        sb.append(",\n{\"ph\":\"")
                .append(o.ph())
                .append("\",\"pid\":1,\"tid\":")
                .append(tid)
                .append(",\"ts\":")
                .append(micros(o.ts()));
        switch (o.ph()) {
            case 'B':
                sb.append(",\"name\":").append(quote(o.slice().name));
                appendArgs(sb, o.slice().args);
                break;
            case 'E':
                sb.append(",\"name\":").append(quote(o.slice().name));
                appendArgs(sb, o.slice().endArgs);
                break;
            case 'i':
                sb.append(",\"s\":\"t\",\"name\":").append(quote(o.name()));
                appendArgs(sb, o.args());
                break;
            default: // s, t, f
                sb.append(",\"cat\":\"")
                        .append(FLOW)
                        .append("\",\"name\":\"")
                        .append(o.name())
                        .append("\",\"id\":")
                        .append(o.flowId());
                if (o.ph() == 'f') {
                    sb.append(",\"bp\":\"e\"");
                }
                break;
        }
        sb.append('}');
    }

    private static void appendArgs(final StringBuilder sb, final String[] args) {
        sb.append(",\"args\":{");
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(quote(args[i])).append(':').append(quote(args[i + 1]));
        }
        sb.append('}');
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
