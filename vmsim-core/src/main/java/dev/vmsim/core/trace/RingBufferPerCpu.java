package dev.vmsim.core.trace;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.MpscArrayQueue;
import org.jctools.queues.SpscArrayQueue;

/**
 * One CPU's trace buffer (kernel/trace/ring_buffer.c, {@code struct ring_buffer_per_cpu}): a bounded
 * ring written only by the CPU it belongs to and read only by the trace consumer, so recording an
 * event takes no lock and writes no word another CPU writes.
 *
 * <p>Like the kernel's buffer with the {@code overwrite} option off (what a {@code trace_pipe}
 * reader gets), a full ring keeps what it has and the new event is lost and counted in
 * {@link #droppedEvents()}, the per_cpu/cpuN/stats "dropped events" figure.
 *
 * <p>Writers: a simulated CPU is driven by one platform thread at a time (the {@link
 * dev.vmsim.core.cpu.Cpu} contract), so its ring is single-producer (JCTools {@link SpscArrayQueue}).
 * Events from threads that run no CPU go to one shared buffer whose ring is multi-producer ({@link
 * MpscArrayQueue}); only that buffer's drop count is updated atomically.
 *
 * <p>Reader side: {@link #read} and the fields it uses are the consumer's, called under the owning
 * {@link TraceRecorder}'s consumer lock.
 */
final class RingBufferPerCpu {
    private static final VarHandle DROPPED;

    static {
        try {
            DROPPED = MethodHandles.lookup().findVarHandle(RingBufferPerCpu.class, "dropped", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The CPU id, or -1 for the shared buffer of threads that run no CPU. */
    final int cpu;

    private final MessagePassingQueue<TraceEvent> ring;
    private final boolean shared;

    /**
     * Events lost because the ring was full. Written by the producer (opaque: a lone writer needs no
     * atomic add; the shared buffer uses getAndAdd), read opaque by the consumer for the report.
     */
    @SuppressWarnings("unused") // accessed through DROPPED
    private long dropped;

    /** Consumer-only: the events read and kept, in ring order. */
    private final List<TraceEvent> kept = new ArrayList<>();
    /** Consumer-only: events read over the life of the buffer (kept may have been handed out since). */
    private long read;

    RingBufferPerCpu(final int cpu, final int size) {
        this.cpu = cpu;
        this.shared = cpu < 0;
        this.ring = shared ? new MpscArrayQueue<>(size) : new SpscArrayQueue<>(size);
    }

    /** ring_buffer_write: appends {@code e}, or counts it lost if the ring is full. Never blocks. */
    void write(final TraceEvent e) {
        if (!ring.relaxedOffer(e)) {
            if (shared) {
                DROPPED.getAndAdd(this, 1L);
            } else {
                DROPPED.setOpaque(this, (long) DROPPED.getOpaque(this) + 1);
            }
        }
    }

    /** Consumer: moves up to {@code limit} events from the ring to the kept list; returns how many. */
    int read(final int limit) {
        final int n = ring.drain(kept::add, limit);
        read += n;
        return n;
    }

    /** Consumer: a copy of the kept events; with {@code forget}, the buffer then lets go of them. */
    List<TraceEvent> kept(final boolean forget) {
        final List<TraceEvent> out = new ArrayList<>(kept);
        if (forget) {
            kept.clear();
        }
        return out;
    }

    /** Consumer: events read from the ring so far. */
    long entriesRead() {
        return read;
    }

    /** Consumer: events written and not yet read (approximate while the CPU runs). */
    long unread() {
        return ring.size();
    }

    /** Events lost because the ring was full. */
    long droppedEvents() {
        return (long) DROPPED.getOpaque(this);
    }
}
