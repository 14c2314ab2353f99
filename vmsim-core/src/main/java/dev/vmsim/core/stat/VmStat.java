package dev.vmsim.core.stat;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * vm_event counters, striped per thread like the kernel's per-CPU counters: {@link #count} touches
 * only the calling thread's own stripe (no shared cache line, no lock); {@link #snapshot} sums the
 * stripes. A VmStat instance is usually one per simulated machine.
 */
public final class VmStat {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int N = VmEvent.values().length;

    private final CopyOnWriteArrayList<long[]> stripes = new CopyOnWriteArrayList<>();
    private final ThreadLocal<long[]> mine = ThreadLocal.withInitial(() -> {
        final long[] s = new long[N];
        stripes.add(s);
        return s;
    });

    /** count_vm_event. Owner-thread write with opaque ordering so readers see whole values. */
    public void count(final VmEvent e) {
        add(e, 1);
    }

    public void add(final VmEvent e, final long delta) {
        final long[] s = mine.get();
        final int i = e.ordinal();
        LONGS.setOpaque(s, i, (long) LONGS.getOpaque(s, i) + delta);
    }

    /** Sum over all stripes (racy but whole-value reads). */
    public long get(final VmEvent e) {
        long sum = 0;
        for (final long[] s : stripes) {
            sum += (long) LONGS.getOpaque(s, e.ordinal());
        }
        return sum;
    }

    /** All counters, keyed by event. */
    public Map<VmEvent, Long> snapshot() {
        final Map<VmEvent, Long> m = new EnumMap<>(VmEvent.class);
        for (final VmEvent e : VmEvent.values()) {
            m.put(e, get(e));
        }
        return m;
    }
}
