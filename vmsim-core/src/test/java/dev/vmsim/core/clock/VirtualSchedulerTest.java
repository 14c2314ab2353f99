package dev.vmsim.core.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.sync.RwSemaphore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VirtualSchedulerTest {
    /** Earliest clock first, ties by CPU id: a CPU charging 1 ns steps runs twice per 2 ns step of the other. */
    @Test
    void earliestClockInterleavesByClockThenId() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final List<String> trace = new ArrayList<>();
        s.spawn("a", () -> {
            for (int i = 0; i < 4; i++) {
                trace.add("a" + s.now());
                s.charge(Cost.TLB_HIT, 1); // 1 ns
                s.preemptionPoint();
            }
        });
        s.spawn("b", () -> {
            for (int i = 0; i < 2; i++) {
                trace.add("b" + s.now());
                s.charge(Cost.TLB_HIT, 2); // 2 ns
                s.preemptionPoint();
            }
        });
        s.run();
        assertEquals(List.of("a0", "b0", "a1", "a2", "b2", "a3"), trace);
        assertEquals(4, s.elapsedNs());
    }

    /**
     * sleepUntil: the sleeper's clock jumps to the deadline and every CPU behind it runs first; the
     * gap is attributed to the wait; a deadline already past costs nothing.
     */
    @Test
    void sleepUntilRunsTheCpusBehindFirstAndCountsTheWait() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final List<String> trace = new ArrayList<>();
        s.spawn("io", () -> {
            trace.add("sleep" + s.now());
            s.sleepUntil(5, "swap_io");
            trace.add("woke" + s.now());
            s.sleepUntil(2, "swap_io"); // already past
            trace.add("still" + s.now());
        });
        s.spawn("b", () -> {
            for (int i = 0; i < 3; i++) {
                trace.add("b" + s.now());
                s.charge(Cost.TLB_HIT, 2); // 2 ns
                s.preemptionPoint();
            }
        });
        s.run();
        assertEquals(List.of("sleep0", "b0", "b2", "b4", "woke5", "still5"), trace);
        assertEquals(5L, s.attribution().get("wait: swap_io"));
    }

    /** An RMW on a line another CPU wrote pays that pair's transfer; on its own line only the atomic. */
    @Test
    void rmwOnAForeignLinePaysTheTransfer() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final CacheLine line = new CacheLine("test");
        final long[] clocks = new long[3];
        s.spawn("a", () -> {
            s.rmw(line); // from memory: dram_local 1 + atomic 2
            clocks[0] = s.now();
            s.rmw(line); // own line: atomic 2
            clocks[1] = s.now();
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 100);
        });
        s.spawn("b", () -> {
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 10); // 10 ns: a has written the line by then
            s.rmw(line); // transfer from a (c2c_llc 50) + atomic 2
            clocks[2] = s.now();
        });
        s.run();
        assertEquals(3, clocks[0]);
        assertEquals(5, clocks[1]);
        assertEquals(10 + 50 + 2, clocks[2]);
        assertEquals(2, s.lineStats().get("test").transfers());
    }

    /** A line serves one writer at a time: a writer arriving while it is busy waits, then gets the queued hand-on. */
    @Test
    void aBusyLineMakesTheNextWriterWait() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final CacheLine line = new CacheLine("test");
        final long[] b = new long[1];
        s.spawn("a", () -> s.rmw(line)); // busy until 3
        s.spawn("b", () -> {
            s.charge(Cost.TLB_HIT, 1); // arrives at 1, while a's write runs to 3
            s.rmw(line);
            b[0] = s.now();
        });
        s.run();
        assertEquals(3 + 20 + 2, b[0], "waits for a's write, then handoff_queued (20 < c2c 50) and the atomic");
        assertEquals(2, s.lineStats().get("test").waitNs());
    }

    /**
     * A store after an RMW on the same line is an access of its own: a CPU already waiting for the
     * line takes it in between, and the store pays to take it back (an rwsem's owner store after
     * its count RMW).
     */
    @Test
    void aWaiterTakesTheLineBetweenAnRmwAndTheStoreAfterIt() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final CacheLine line = new CacheLine("test");
        final long[] t = new long[2];
        s.spawn("a", () -> {
            s.rmw(line); // memory 1 + atomic 2: busy until 3
            s.store(line); // b (waiting since 1) went first: busy until 25, then the queued hand-on back
            t[0] = s.now();
        });
        s.spawn("b", () -> {
            s.charge(Cost.TLB_HIT, 1);
            s.rmw(line); // waits until 3, queued hand-on 20, atomic 2
            t[1] = s.now();
        });
        s.run();
        assertEquals(25, t[1]);
        assertEquals(45, t[0]);
    }

    /**
     * A read that fetches a line another CPU wrote is a transaction of its own: a writer arriving
     * while it runs waits for it, then takes the line and invalidates the reader's copy.
     */
    @Test
    void aFetchingReadMakesTheNextWriterWait() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(3), SchedulePolicy.earliestClock());
        final CacheLine line = new CacheLine("test");
        final long[] t = new long[2];
        s.spawn("a", () -> s.rmw(line)); // memory 1 + atomic 2: owner a, busy until 3
        s.spawn("b", () -> {
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 10);
            s.load(line); // from a: c2c 50, busy until 60
            t[0] = s.now();
        });
        s.spawn("c", () -> {
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 20); // arrives at 20, while b's read runs to 60
            s.rmw(line);
            t[1] = s.now();
        });
        s.run();
        assertEquals(60, t[0]);
        assertEquals(
                60 + 50 + 2,
                t[1],
                "waits for b's read, then invalidates b's copy (c2c 50, more than the queued hand-on from a) and the atomic");
        assertEquals(40, s.lineStats().get("test").waitNs());
    }

    /**
     * down_read_trylock as the kernel does it: the count is read (a shared copy), then cmpxchg'd
     * (the line exclusively), so on a count line another CPU wrote last it moves twice; the owner
     * store on the same line follows.
     */
    @Test
    void readTrylockReadsTheCountThenCmpxchgsIt() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final CacheLine count = new CacheLine("count");
        final CacheLine owner = new CacheLine("owner");
        final RwSemaphore sem = new RwSemaphore(dev.vmsim.core.sync.LockClass.MMAP_LOCK, new Object(), count, owner);
        s.spawn("a", () -> {
            assertTrue(sem.downReadTrylock());
            sem.upRead();
        });
        s.spawn("b", () -> {
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 1000); // a is done by then
            assertTrue(sem.downReadTrylock());
            sem.upRead();
        });
        s.run();
        // a: the load and the cmpxchg each fetch from memory (1 ns), up_read on its own line; b: the
        // load copies the line from a (50), the cmpxchg takes it from a (50), up_read is local.
        final VirtualScheduler.LineStats st = s.lineStats().get("count");
        assertEquals(6, st.accesses(), "load + cmpxchg + up_read per CPU");
        assertEquals(4, st.transfers(), "two fetches each: a's from memory, b's from a");
        assertEquals(2 + 50 + 50, st.transferNs());
        assertEquals(0, sem.count());
    }

    /** A sleeping reader wakes in virtual time: at the releaser's clock plus the wake-up latency. */
    @Test
    void rwsemWaitHappensInVirtualTime() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final RwSemaphore sem = new RwSemaphore();
        sem.setOptimisticSpinBudgetNanos(0);
        final long[] t = new long[2];
        s.spawn("writer", () -> {
            sem.downWrite();
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 5000); // hold it for 5 us
            t[0] = s.now();
            sem.upWrite();
        });
        s.spawn("reader", () -> {
            s.charge(Cost.TLB_HIT, 100);
            sem.downRead();
            t[1] = s.now();
            sem.upRead();
        });
        s.run();
        assertTrue(t[1] >= t[0] + 1000, "reader ran at " + t[1] + ", writer released at " + t[0]);
        assertTrue(s.attribution().get("wait: rwsem") > 4000, s.attribution().toString());
        assertEquals(0, sem.count());
    }

    /** An interrupted task whose park returns at once still lets the others run (no livelock at a standing clock). */
    @Test
    void anInterruptedParkLoopLetsOthersRun() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final boolean[] flag = new boolean[1];
        s.spawn("interrupted", () -> {
            Thread.currentThread().interrupt();
            while (!flag[0]) {
                s.park("flag");
            }
            assertTrue(Thread.interrupted(), "the interrupt stays set");
        });
        s.spawn("setter", () -> {
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 50);
            s.preemptionPoint();
            flag[0] = true;
        });
        s.run();
        assertTrue(flag[0]);
    }

    /** Every CPU parked and nobody to wake them: each gets a SimulationDeadlock naming the waits. */
    @Test
    void allParkedIsADeadlock() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final RwSemaphore sem = new RwSemaphore();
        sem.setOptimisticSpinBudgetNanos(0);
        s.spawn("holder", () -> {
            sem.downWrite();
            s.park("forever"); // never released
        });
        s.spawn("waiter", () -> sem.downRead());
        final SimulationDeadlock e = assertThrows(SimulationDeadlock.class, s::run);
        assertTrue(e.getMessage().contains("holder on forever"), e.getMessage());
        assertTrue(e.getMessage().contains("waiter on rwsem"), e.getMessage());
    }

    /** A seeded random schedule replays exactly; another seed gives another interleaving. */
    @Test
    void randomSchedulesReplayFromTheirSeed() {
        final List<String> a = interleaving(SchedulePolicy.random(7));
        assertEquals(a, interleaving(SchedulePolicy.random(7)));
        assertNotEquals(a, interleaving(SchedulePolicy.random(8)));
        assertEquals(interleaving(SchedulePolicy.pct(3, 3, 40)), interleaving(SchedulePolicy.pct(3, 3, 40)));
    }

    private static List<String> interleaving(final SchedulePolicy policy) {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(4), policy);
        final List<String> trace = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            final String name = "cpu" + c;
            s.spawn(name, () -> {
                for (int i = 0; i < 10; i++) {
                    trace.add(name);
                    s.preemptionPoint();
                }
            });
        }
        s.run();
        return trace;
    }

    /** Many CPUs on two host cores: 1024 tasks take turns on one line and all finish. */
    @Test
    void aThousandCpusRun() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(1024), SchedulePolicy.earliestClock());
        final CacheLine line = new CacheLine("shared");
        final int[] count = new int[1];
        for (int c = 0; c < 1024; c++) {
            s.spawn("cpu" + c, () -> {
                for (int i = 0; i < 3; i++) {
                    s.rmw(line);
                    count[0]++;
                }
            });
        }
        s.run();
        assertEquals(3 * 1024, count[0]);
        assertEquals(3 * 1024, s.lineStats().get("shared").accesses());
    }
}
