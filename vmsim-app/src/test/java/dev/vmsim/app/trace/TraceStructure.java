package dev.vmsim.app.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.MiniJson;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Decodes a trace-event JSON file and checks the structure Perfetto relies on: on each tid, ts is
 * monotonic in file order and every B has its E (same name, innermost first); every flow has one
 * start (its earliest point) and one finish, and each of its steps lies inside a slice open on its tid; each counter
 * track is monotonic in time; every CPU that has events has one track, named {@code cpu N} by
 * metadata and listed in {@code otherData.cpus}. Returns what it found, for a test's own asserts.
 */
public final class TraceStructure {
    /** Slice names seen, with how many of each. */
    public final Map<String, Integer> slices = new TreeMap<>();
    /** Instant names seen. */
    public final Set<String> instants = new TreeSet<>();
    /** Flow id to its points, in time order: {ph, tid, ts}. */
    public final Map<Long, List<Object[]>> flows = new TreeMap<>();
    /** Counter name + " " + key to its values in file order. */
    public final Map<String, List<Long>> counters = new TreeMap<>();
    /** CPU tracks (tid below 10000) that carry events. */
    public final Set<Long> cpuTracks = new TreeSet<>();
    /** otherData. */
    public Map<String, Object> otherData;

    private TraceStructure() {}

    @SuppressWarnings("unchecked")
    public static TraceStructure check(final String json) {
        final TraceStructure t = new TraceStructure();
        final Map<String, Object> doc = (Map<String, Object>) MiniJson.parse(json);
        t.otherData = (Map<String, Object>) doc.get("otherData");
        final Map<Long, String> names = new HashMap<>();
        final Map<Long, Double> lastTs = new HashMap<>();
        final Map<Long, ArrayDeque<String>> open = new HashMap<>();
        final Map<String, Double> lastCounterTs = new HashMap<>();
        for (final Object o : (List<Object>) doc.get("traceEvents")) {
            final Map<String, Object> e = (Map<String, Object>) o;
            final String ph = (String) e.get("ph");
            final long tid = ((Number) e.get("tid")).longValue();
            final String name = (String) e.get("name");
            if (ph.equals("M")) {
                if (name.equals("thread_name")) {
                    final String n = (String) ((Map<String, Object>) e.get("args")).get("name");
                    assertTrue(names.put(tid, n) == null, "two thread_name records for tid " + tid);
                }
                continue;
            }
            final double ts = ((Number) e.get("ts")).doubleValue();
            if (ph.equals("C")) {
                final Map<String, Object> args = (Map<String, Object>) e.get("args");
                for (final Map.Entry<String, Object> a : args.entrySet()) {
                    final String track = name + " " + a.getKey();
                    assertTrue(ts >= lastCounterTs.getOrDefault(track, 0.0), "counter " + track + " goes back: " + e);
                    lastCounterTs.put(track, ts);
                    final long v = ((Number) a.getValue()).longValue();
                    assertTrue(v >= 0, "negative counter: " + e);
                    t.counters.computeIfAbsent(track, k -> new ArrayList<>()).add(v);
                }
                continue;
            }
            assertTrue(ts >= lastTs.getOrDefault(tid, 0.0), "ts not monotonic on tid " + tid + ": " + e);
            lastTs.put(tid, ts);
            if (tid < 10000) {
                t.cpuTracks.add(tid);
            }
            final ArrayDeque<String> stack = open.computeIfAbsent(tid, k -> new ArrayDeque<>());
            switch (ph) {
                case "B":
                    stack.push(name);
                    t.slices.merge(name, 1, Integer::sum);
                    break;
                case "E":
                    assertTrue(!stack.isEmpty(), "E with no open B on tid " + tid + ": " + e);
                    assertEquals(stack.pop(), name, "E does not close the innermost B on tid " + tid);
                    break;
                case "i":
                    t.instants.add(name);
                    break;
                case "s":
                case "t":
                case "f":
                    assertTrue(!stack.isEmpty(), "flow step outside any slice on tid " + tid + ": " + e);
                    if (ph.equals("f")) {
                        assertEquals("e", e.get("bp"), "a finish binds to its enclosing slice");
                    }
                    t.flows
                            .computeIfAbsent(((Number) e.get("id")).longValue(), k -> new ArrayList<>())
                            .add(new Object[] {ph, tid, ts});
                    break;
                default:
                    throw new AssertionError("unexpected phase: " + e);
            }
        }
        for (final Map.Entry<Long, ArrayDeque<String>> s : open.entrySet()) {
            assertTrue(s.getValue().isEmpty(), "B without E on tid " + s.getKey() + ": " + s.getValue());
        }
        for (final Map.Entry<Long, List<Object[]>> f : t.flows.entrySet()) {
            final List<Object[]> pts = f.getValue();
            pts.sort(java.util.Comparator.comparingDouble(p -> (Double) p[2])); // the viewer orders by time
            assertEquals("s", pts.get(0)[0], "flow " + f.getKey() + " does not start with s: " + describe(pts));
            long finishes = 0;
            for (final Object[] p : pts) {
                finishes += p[0].equals("f") ? 1 : 0;
            }
            assertEquals(1, finishes, "flow " + f.getKey() + " has one finish");
            assertEquals(
                    1, pts.stream().filter(p -> p[0].equals("s")).count(), "flow " + f.getKey() + " has one start");
        }
        final Set<Long> listed = new HashSet<>();
        for (final Object c : (List<Object>) t.otherData.get("cpus")) {
            final Map<String, Object> m = (Map<String, Object>) c;
            final long cpu = ((Number) m.get("cpu")).longValue();
            listed.add(cpu);
            if (cpu >= 0) {
                assertEquals("cpu " + cpu, m.get("name"));
            }
        }
        for (final long cpu : t.cpuTracks) {
            assertNotNull(names.get(cpu), "cpu track " + cpu + " has no thread_name");
            assertEquals("cpu " + cpu, names.get(cpu));
            assertTrue(listed.contains(cpu), "cpu " + cpu + " not in otherData.cpus " + listed);
        }
        return t;
    }

    private static String describe(final List<Object[]> pts) {
        final StringBuilder sb = new StringBuilder();
        for (final Object[] p : pts) {
            sb.append(p[0])
                    .append("@tid")
                    .append(p[1])
                    .append(",ts=")
                    .append(p[2])
                    .append(' ');
        }
        return sb.toString();
    }

    /** The tids of flow {@code id}'s points with phase {@code ph}. */
    public Set<Long> flowTids(final long id, final String ph) {
        final Set<Long> out = new HashSet<>();
        for (final Object[] p : flows.get(id)) {
            if (p[0].equals(ph)) {
                out.add((Long) p[1]);
            }
        }
        return out;
    }
}
