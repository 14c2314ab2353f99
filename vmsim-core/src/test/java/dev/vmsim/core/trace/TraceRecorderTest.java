package dev.vmsim.core.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The per-CPU trace rings: each CPU records into its own ring without a lock, a full ring loses
 * the new event and counts it on that CPU, and the recorder's capacity leaves the rest unread.
 */
class TraceRecorderTest {
    /** Runs {@code body(cpu)} on {@code n} threads, each on its own CPU of one machine; waits for all. */
    private static void onCpus(final int n, final CpuBody body) throws Exception {
        final Machine machine = new Machine(new TestArch(), 256 + n, n);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final List<Cpu> cpus = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            cpus.add(machine.newCpu());
        }
        final List<Thread> threads = new ArrayList<>();
        final List<Throwable> failures = new ArrayList<>();
        for (final Cpu cpu : cpus) {
            final Thread t = new Thread(
                    () -> {
                        cpu.switchMm(mm);
                        body.run(cpu);
                    },
                    "cpu" + cpu.id());
            t.setUncaughtExceptionHandler((th, e) -> {
                synchronized (failures) {
                    failures.add(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (final Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertTrue(!t.isAlive(), t.getName() + " still running");
        }
        assertTrue(failures.isEmpty(), failures.toString());
    }

    @FunctionalInterface
    private interface CpuBody {
        void run(Cpu cpu);
    }

    private static void emit(final TraceRecorder rec, final int n) {
        for (int i = 0; i < n; i++) {
            rec.event(TraceSink.INSTANT, "x", new String[] {"seq", Integer.toString(i)});
        }
    }

    /** Per CPU, the kept events' seq numbers in the order the recorder returns them. */
    private static Map<Integer, List<Integer>> seqsByCpu(final List<TraceEvent> events) {
        final Map<Integer, List<Integer>> out = new HashMap<>();
        for (final TraceEvent e : events) {
            out.computeIfAbsent(e.cpu, k -> new ArrayList<>()).add(Integer.parseInt(e.arg("seq")));
        }
        return out;
    }

    @Test
    @Timeout(30)
    void aFullRingLosesTheNewEventAndCountsItOnItsCpu() throws Exception {
        final TraceRecorder rec = new TraceRecorder(1_000, 8);
        onCpus(2, cpu -> emit(rec, cpu.id() == 0 ? 20 : 5));
        final Map<Integer, List<Integer>> seqs = seqsByCpu(rec.events());
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), seqs.get(0), "the ring keeps the oldest (overwrite off)");
        assertEquals(List.of(0, 1, 2, 3, 4), seqs.get(1));
        assertEquals(
                List.of(new TraceRecorder.CpuStats(0, 8, 12, 0), new TraceRecorder.CpuStats(1, 5, 0, 0)), rec.stats());
        assertEquals(12, rec.dropped());
        assertEquals(13, rec.entries());
        assertEquals(25, rec.entriesWritten());
    }

    @Test
    @Timeout(30)
    void atCapacityTheRecorderStopsReadingAndCountsTheRestUnread() throws Exception {
        final TraceRecorder rec = new TraceRecorder(3, 100);
        final Thread t = new Thread(() -> emit(rec, 5)); // a new thread runs no CPU: the shared ring, cpu -1
        t.start();
        t.join();
        final List<TraceEvent> kept = rec.events();
        assertEquals(3, kept.size());
        assertEquals(List.of(new TraceRecorder.CpuStats(-1, 3, 0, 2)), rec.stats());
        assertEquals(2, rec.dropped());
        long last = -1;
        for (final TraceEvent e : kept) {
            assertTrue(e.tsNs >= last);
            last = e.tsNs;
        }
    }

    @Test
    @Timeout(60)
    void aDiscardingRecorderReadsEverythingAndKeepsNothing() throws Exception {
        final TraceRecorder rec = TraceRecorder.discarding();
        rec.start();
        try {
            onCpus(4, cpu -> emit(rec, 50_000)); // more than a ring holds
        } finally {
            rec.close();
        }
        assertTrue(rec.events().isEmpty());
        assertEquals(4, rec.stats().size());
        for (final TraceRecorder.CpuStats s : rec.stats()) {
            assertEquals(50_000, s.entries() + s.droppedEvents(), s.toString());
            assertEquals(0, s.unread(), "nothing is left for want of capacity: " + s);
            assertTrue(s.entries() >= TraceRecorder.DEFAULT_RING_SIZE, "at least a full ring was read: " + s);
        }
    }

    /**
     * The record path never waits for the consumer: with the consumer's lock held by this thread
     * (as if it were stuck reading), 128 CPUs record all their events and finish.
     */
    @Test
    @Timeout(60)
    void recordingOn128CpusNeverWaitsForTheConsumer() throws Exception {
        final TraceRecorder rec = new TraceRecorder(1_000_000);
        final CountDownLatch done = new CountDownLatch(1);
        final Thread runner = new Thread(() -> {
            try {
                onCpus(128, cpu -> emit(rec, 100));
            } catch (final Exception e) {
                throw new AssertionError(e);
            }
            done.countDown();
        });
        synchronized (rec.consumerLock()) {
            runner.start();
            assertTrue(done.await(30, TimeUnit.SECONDS), "recording blocked behind the consumer");
        }
        final Map<Integer, List<Integer>> seqs = seqsByCpu(rec.events());
        assertEquals(128, seqs.size());
        final List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            expected.add(i);
        }
        for (final Map.Entry<Integer, List<Integer>> e : seqs.entrySet()) {
            assertEquals(expected, e.getValue(), "cpu " + e.getKey());
        }
        assertEquals(0, rec.dropped());
    }

    /**
     * Bounded stress: 128 CPUs record through small rings while the consumer thread drains them.
     * Afterwards every event is accounted for on its CPU (kept + dropped + unread = written), and the
     * kept ones are in each CPU's order.
     */
    @Test
    @Timeout(120)
    void consumerThreadDrainsWhileCpusRecordAndEveryEventIsAccountedFor() throws Exception {
        final int perCpu = 2_000;
        final TraceRecorder rec = new TraceRecorder(10_000_000, 64);
        rec.start();
        try {
            onCpus(128, cpu -> emit(rec, perCpu));
        } finally {
            rec.close();
        }
        final List<TraceRecorder.CpuStats> stats = rec.stats();
        assertEquals(128, stats.size());
        for (final TraceRecorder.CpuStats s : stats) {
            assertEquals(perCpu, s.entries() + s.droppedEvents() + s.unread(), s.toString());
            assertEquals(0, s.unread(), "close() reads what is left: " + s);
        }
        for (final Map.Entry<Integer, List<Integer>> e : seqsByCpu(rec.events()).entrySet()) {
            final List<Integer> seq = e.getValue();
            for (int i = 1; i < seq.size(); i++) {
                assertTrue(seq.get(i) > seq.get(i - 1), "cpu " + e.getKey() + " out of order: " + seq);
            }
        }
    }
}
