package dev.vmsim.core.trace;

import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.cpu.Cpu;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.SleepingMillisIdleStrategy;

/**
 * A {@link TraceSink} with one ring buffer per simulated CPU ({@link RingBufferPerCpu}), as ftrace
 * has, drained off the fault path: by a consumer thread once {@link #start()}ed (the trace_pipe
 * reader), or by whoever calls {@link #events()} / {@link #drain()}.
 *
 * <p>Recording takes no lock and writes no shared word: the CPU's own ring (found by its id in a
 * table filled once per CPU), a timestamp and one single-producer offer. Tracing any number of
 * simulated CPUs therefore does not serialise them.
 *
 * <p>The recorder keeps at most {@code capacity} events in all. Once it holds that many the
 * consumer stops reading, the rings fill and later events are lost at the producer. What was lost
 * is reported per CPU as ftrace reports it ({@link CpuStats}): "dropped events" (the ring was full)
 * and events still unread when tracing stopped; {@code entries-in-buffer/entries-written} is
 * {@link #entries()} / {@link #entriesWritten()}.
 *
 * <p>Timestamps: ns since the recorder was created, from {@link #now()} alone (monotonic across
 * threads), so the merged event list is ordered by time and each thread's events keep their order.
 * A simulated CPU of a virtual-clock machine stamps its events with its own clock instead (ns since
 * the machine started, {@link Platform#now()}), so such a trace shows virtual time; each CPU's
 * clock only moves forward, and the merge orders the CPUs' events by virtual time. A recorder made
 * with {@link #virtual} stamps the events of threads outside the machine in virtual time too.
 */
public final class TraceRecorder implements TraceSink, AutoCloseable {
    /** Events one CPU's ring holds: ftrace's default buffer_size_kb (1.4 MB) holds about as many. */
    public static final int DEFAULT_RING_SIZE = 16_384;

    /** CPU ids below this get a ring of their own; a CPU above it shares the no-CPU ring. */
    static final int MAX_CPUS = 1024;

    private final int capacity;
    private final int ringSize;
    /** False: the consumer discards what it reads ({@link #discarding()}). */
    private final boolean keep;

    private final long originNs = System.nanoTime();
    /** A trace of a virtual-clock machine: stamps in virtual time only ({@link #virtual}). */
    private final boolean virtualClock;
    /**
     * The latest virtual stamp, for events of threads outside the machine (set-up and tear-down on the
     * runner's thread). Volatile: the machine's CPUs write it, an outside thread reads it.
     */
    private volatile long lastVirtualNs;
    /** Per-CPU rings, created on a CPU's first event (CAS); a volatile read per event. */
    private final AtomicReferenceArray<RingBufferPerCpu> rings = new AtomicReferenceArray<>(MAX_CPUS);
    /** Threads that run no CPU (a test's main thread): the one multi-producer ring. */
    private final RingBufferPerCpu noCpu;

    /** Consumer state, guarded by itself: the rings in creation order and the events kept in all. */
    private final Object consumerLock = new Object();

    private final List<RingBufferPerCpu> known = new ArrayList<>();
    private final RingBufferPerCpu[] adopted = new RingBufferPerCpu[MAX_CPUS];
    private long kept;

    private AgentRunner consumer;

    public TraceRecorder(final int capacity) {
        this(capacity, DEFAULT_RING_SIZE);
    }

    /**
     * A recorder whose consumer reads and discards every event (trace_pipe redirected to
     * /dev/null): the full recording cost with bounded memory, for measuring what tracing adds.
     */
    public static TraceRecorder discarding() {
        return new TraceRecorder(Integer.MAX_VALUE, DEFAULT_RING_SIZE, false, false);
    }

    /** A recorder keeping at most {@code capacity} events, with rings of {@code ringSize} events per CPU. */
    public TraceRecorder(final int capacity, final int ringSize) {
        this(capacity, ringSize, true, false);
    }

    /**
     * A recorder for a virtual-clock machine: every stamp is virtual time, those of threads outside
     * the machine too (they get the latest virtual stamp so far: 0 before the machine starts, its end
     * after), so host and virtual ns never mix in one trace.
     */
    public static TraceRecorder virtual(final int capacity) {
        return new TraceRecorder(capacity, DEFAULT_RING_SIZE, true, true);
    }

    private TraceRecorder(final int capacity, final int ringSize, final boolean keep, final boolean virtualClock) {
        if (capacity <= 0 || ringSize <= 0) {
            throw new IllegalArgumentException("capacity " + capacity + ", ring size " + ringSize);
        }
        this.capacity = capacity;
        this.ringSize = ringSize;
        this.noCpu = new RingBufferPerCpu(-1, ringSize);
        this.keep = keep;
        this.virtualClock = virtualClock;
    }

    /**
     * The trace clock: the running CPU's virtual clock on a virtual-clock machine, else host ns since
     * this recorder was created. The one place a timestamp is taken.
     */
    long now() {
        final Platform p = Platform.current();
        if (!p.isVirtual()) {
            return virtualClock ? lastVirtualNs : System.nanoTime() - originNs;
        }
        final long t = p.now();
        if (virtualClock && t > lastVirtualNs) {
            lastVirtualNs = t;
        }
        return t;
    }

    @Override
    public void event(final char phase, final String name, final String[] args) {
        final Cpu cpu = Cpu.current();
        final int id = cpu == null ? -1 : cpu.id();
        ring(id).write(new TraceEvent(now(), Thread.currentThread().getId(), id, phase, name, args));
    }

    private RingBufferPerCpu ring(final int cpu) {
        if (cpu < 0 || cpu >= MAX_CPUS) {
            return noCpu;
        }
        final RingBufferPerCpu r = rings.get(cpu);
        if (r != null) {
            return r;
        }
        rings.compareAndSet(cpu, null, new RingBufferPerCpu(cpu, ringSize));
        return rings.get(cpu);
    }

    // ---------------------------------------------------------------- consumer

    /** Starts the consumer thread, which drains the rings until {@link #close()}. */
    public void start() {
        synchronized (consumerLock) {
            if (consumer == null) {
                consumer = new AgentRunner(
                        new SleepingMillisIdleStrategy(1), Throwable::printStackTrace, null, new Agent() {
                            @Override
                            public int doWork() {
                                return readRings();
                            }

                            @Override
                            public String roleName() {
                                return "vmsim-trace-consumer";
                            }
                        });
                AgentRunner.startOnThread(consumer);
            }
        }
    }

    /** Stops the consumer thread (if started) after a last read. Recording may go on; nothing reads it. */
    @Override
    public void close() {
        final AgentRunner c;
        synchronized (consumerLock) {
            c = consumer;
            consumer = null;
        }
        if (c != null) {
            c.close();
        }
        readRings();
    }

    /** Reads every ring into the kept lists, up to the capacity; returns the events read. */
    private int readRings() {
        synchronized (consumerLock) {
            adoptNewRings();
            int n = 0;
            for (final RingBufferPerCpu r : known) {
                final long room = capacity - kept;
                if (room <= 0) {
                    break;
                }
                final int got = r.read((int) Math.min(room, Integer.MAX_VALUE));
                n += got;
                if (keep) {
                    kept += got;
                } else {
                    r.kept(true);
                }
            }
            return n;
        }
    }

    /** Adds the rings created since the last read to {@link #known} (a walk of the table, no allocation). */
    private void adoptNewRings() {
        if (known.isEmpty()) {
            known.add(noCpu);
        }
        for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
            if (adopted[cpu] == null) {
                final RingBufferPerCpu r = rings.get(cpu);
                if (r != null) {
                    adopted[cpu] = r;
                    known.add(r);
                }
            }
        }
    }

    /** Reads the rings now and returns every event kept so far, ordered by time (a copy). */
    public List<TraceEvent> events() {
        return collect(false);
    }

    /** Reads the rings now, returns the events kept so far ordered by time, and forgets them. */
    public List<TraceEvent> drain() {
        return collect(true);
    }

    private List<TraceEvent> collect(final boolean forget) {
        synchronized (consumerLock) {
            readRings();
            final List<TraceEvent> out = new ArrayList<>();
            for (final RingBufferPerCpu r : known) {
                out.addAll(r.kept(forget));
            }
            if (forget) {
                kept = 0;
            }
            out.sort(Comparator.comparingLong(e -> e.tsNs)); // stable: a CPU's equal timestamps keep ring order
            return out;
        }
    }

    /** The consumer side's lock (tests hold it to show that recording never takes it). */
    Object consumerLock() {
        return consumerLock;
    }

    // ---------------------------------------------------------------- what was lost

    /**
     * One CPU's figures, as per_cpu/cpuN/stats prints them: {@code entries} read into the trace,
     * {@code droppedEvents} lost because the ring was full, {@code unread} still in the ring (the
     * recorder had reached its capacity). {@code cpu} is -1 for threads that run no CPU.
     */
    public record CpuStats(int cpu, long entries, long droppedEvents, long unread) {
        /** Events lost to the trace: dropped or never read. */
        public long lost() {
            return droppedEvents + unread;
        }
    }

    /** Each CPU that recorded anything, by CPU id (the no-CPU buffer first, as cpu -1). */
    public List<CpuStats> stats() {
        synchronized (consumerLock) {
            adoptNewRings();
            final List<CpuStats> out = new ArrayList<>();
            for (final RingBufferPerCpu r : known) {
                final CpuStats s = new CpuStats(r.cpu, r.entriesRead(), r.droppedEvents(), r.unread());
                if (s.entries() + s.lost() > 0) {
                    out.add(s);
                }
            }
            out.sort(Comparator.comparingInt(CpuStats::cpu));
            return out;
        }
    }

    /** Events lost on every CPU (dropped because a ring was full, or unread when tracing stopped). */
    public long dropped() {
        long n = 0;
        for (final CpuStats s : stats()) {
            n += s.lost();
        }
        return n;
    }

    /** Events read into the trace on every CPU (ftrace's entries-in-buffer). */
    public long entries() {
        long n = 0;
        for (final CpuStats s : stats()) {
            n += s.entries();
        }
        return n;
    }

    /** Events written on every CPU, lost ones included (ftrace's entries-written). */
    public long entriesWritten() {
        return entries() + dropped();
    }

    public int capacity() {
        return capacity;
    }

    public int ringSize() {
        return ringSize;
    }
}
