package dev.vmsim.core.trace;

import dev.vmsim.core.cpu.Cpu;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link TraceSink} that keeps events in memory, at most {@code capacity} of them: once full it
 * records nothing more and counts what it dropped (a long run would otherwise fill the heap).
 * Timestamps are System.nanoTime() relative to the recorder's creation, so they are monotonic per
 * thread. Thread-safe: appends are serialised on the recorder's monitor, so per-thread order is the
 * emission order.
 */
public final class TraceRecorder implements TraceSink {
    private final int capacity;
    private final long originNs = System.nanoTime();
    private final List<TraceEvent> events = new ArrayList<>();
    private long dropped;

    public TraceRecorder(final int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity " + capacity);
        }
        this.capacity = capacity;
    }

    @Override
    public void event(final char phase, final String name, final String[] args) {
        final Cpu cpu = Cpu.current();
        final int cpuId = cpu == null ? -1 : cpu.id();
        final long tid = Thread.currentThread().getId();
        synchronized (this) {
            if (events.size() >= capacity) {
                dropped++;
                return;
            }
            // Taken under the monitor: events appear in timestamp order in the list.
            events.add(new TraceEvent(System.nanoTime() - originNs, tid, cpuId, phase, name, args));
        }
    }

    /** The events recorded so far (a copy). */
    public synchronized List<TraceEvent> events() {
        return new ArrayList<>(events);
    }

    /** Returns the events recorded so far and forgets them. */
    public synchronized List<TraceEvent> drain() {
        final List<TraceEvent> out = new ArrayList<>(events);
        events.clear();
        return out;
    }

    /** Events not recorded because the recorder was full. */
    public synchronized long dropped() {
        return dropped;
    }

    public int capacity() {
        return capacity;
    }
}
