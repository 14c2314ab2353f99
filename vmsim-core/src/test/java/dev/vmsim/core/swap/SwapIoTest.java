package dev.vmsim.core.swap;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.clock.SchedulePolicy;
import dev.vmsim.core.clock.TestCosts;
import dev.vmsim.core.clock.VirtualScheduler;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The device's modelled latency and queue depth, on the host clock and on the virtual clock. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SwapIoTest {
    @Test
    void hostCompletionThreadEndsEachRequestAfterItsLatencyOneTagAtATime() throws Exception {
        final SwapIo io = new SwapIo(50_000_000, 1, 1, false);
        try {
            final CountDownLatch done = new CountDownLatch(2);
            final List<String> threads = new ArrayList<>();
            final long t0 = System.nanoTime();
            for (int i = 0; i < 2; i++) {
                io.submit(SwapIo.Op.READ, i, () -> {
                    synchronized (threads) {
                        threads.add(Thread.currentThread().getName());
                    }
                    done.countDown();
                });
            }
            assertTrue(System.nanoTime() - t0 >= 50_000_000, "the second submit waited for the only tag");
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertTrue(System.nanoTime() - t0 >= 100_000_000, "two 50 ms reads, queue depth 1");
            assertEquals(List.of("swap-io-completion", "swap-io-completion"), threads);
            assertEquals(2, io.reads());
        } finally {
            io.close();
        }
    }

    @Test
    void underTheVirtualClockRequestsTakeVirtualTimeAndWaitForATag() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final SwapIo io = new SwapIo(100_000, 40_000, 2, true);
        final long[] at = new long[4];
        final List<Long> ended = new ArrayList<>();
        s.spawn("submitter", () -> {
            for (int i = 0; i < 3; i++) {
                final long pfn = i;
                io.submit(SwapIo.Op.READ, pfn, () -> ended.add(pfn));
            }
            at[0] = s.now(); // the third waited for a tag: the first two end at 100 us
            at[1] = ended.size();
            io.waitIo(2);
            at[2] = s.now(); // the third started at 100 us, ends at 200 us
            at[3] = ended.size();
        });
        s.run();
        assertEquals(100_000, at[0]);
        assertEquals(2, at[1], "the first two ended when the tag freed");
        assertEquals(200_000, at[2]);
        assertEquals(3, at[3]);
        assertEquals(List.of(0L, 1L, 2L), ended);
    }

    /**
     * A zero-latency device (a RAM disk) ends each request inside submit, on the submitter: no
     * tag is held (queue depth 1, yet the second submit does not wait), no completion thread runs.
     */
    @Test
    void hostZeroLatencyRequestEndsInsideSubmitOnTheSubmitter() {
        final SwapIo io = new SwapIo(0, 0, 1, false);
        try {
            final List<String> ended = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                final int n = i;
                io.submit(
                        i == 1 ? SwapIo.Op.WRITE : SwapIo.Op.READ,
                        i,
                        () -> ended.add(n + " " + Thread.currentThread().getName()));
                assertEquals(i + 1, ended.size(), "request " + i + " ended before submit returned");
                assertFalse(io.inFlight(i));
            }
            final String me = Thread.currentThread().getName();
            assertEquals(List.of("0 " + me, "1 " + me, "2 " + me), ended);
            assertEquals(2, io.reads());
            assertEquals(1, io.writes());
            io.drain(); // nothing in flight: returns at once
        } finally {
            io.close();
        }
    }

    /**
     * Under the virtual clock a zero-latency request ends inside submit too, without advancing the
     * submitter's clock, and after the earlier requests whose time has come (completion order).
     */
    @Test
    void virtualZeroLatencyReadEndsInsideSubmitAfterTheCompletionsDueBeforeIt() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final SwapIo io = new SwapIo(0, 40_000, 2, true);
        final List<Long> ended = new ArrayList<>();
        final long[] at = new long[2];
        s.spawn("submitter", () -> {
            io.submit(SwapIo.Op.WRITE, 1, () -> ended.add(1L));
            s.sleepUntil(50_000, "past the write");
            at[0] = s.now();
            io.submit(SwapIo.Op.READ, 2, () -> ended.add(2L));
            at[1] = s.now();
        });
        s.run();
        assertEquals(List.of(1L, 2L), ended, "the due write ended first, then the read, both in submit");
        assertEquals(at[0], at[1], "no device time");
    }

    /** The same virtual run twice: the same clocks and the same waits, to the nanosecond. */
    @Test
    void aVirtualRunWithSwapIsDeterministic() {
        final String first = virtualSwapRun();
        assertEquals(first, virtualSwapRun());
        final String[] words = first.split(" ");
        assertEquals("16", words[words.length - 2], "each slot read once: " + first);
        assertTrue(Long.parseLong(words[words.length - 1]) > 0, "some faults hit readahead pages: " + first);
    }

    /** Two CPUs fault 8 swapped-out pages each (readahead on, queue depth 2); returns the elapsed time and the attribution. */
    private static String virtualSwapRun() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final Machine m = new Machine(new TestArch(), 1024, 4, s);
        try {
            m.swapon(new SwapParams(64, 50_000, 20_000, 2, 2));
            final MmStruct mm = new MmStruct(m, LockingMode.PER_VMA);
            final long[] base = new long[1];
            s.spawn("setup-and-fault", () -> {
                final Cpu cpu = m.newCpu();
                cpu.switchMm(mm);
                base[0] = mm.mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
                for (int p = 0; p < 16; p++) {
                    assertEquals(SigInfo.OK, cpu.store(base[0] + p * 4096L, (byte) p));
                }
                for (int p = 0; p < 16; p++) {
                    SwapOut.swapOut(mm, base[0] + p * 4096L);
                }
                for (int p = 0; p < 8; p++) {
                    assertEquals(p, cpu.load(base[0] + p * 4096L));
                }
            });
            s.spawn("fault", () -> {
                final Cpu cpu = m.newCpu();
                cpu.switchMm(mm);
                s.sleepUntil(3_000_000, "start"); // after the swap-out
                for (int p = 15; p >= 8; p--) {
                    assertEquals(p, cpu.load(base[0] + p * 4096L));
                }
            });
            s.run();
            return s.elapsedNs() + " " + s.attribution() + " " + m.vmstat().get(VmEvent.PSWPIN) + " "
                    + m.vmstat().get(VmEvent.SWAP_RA_HIT);
        } finally {
            m.close();
        }
    }

    /**
     * A major fault under the virtual clock costs the faulting CPU the read's latency while another
     * CPU keeps running, and the page comes back with its data.
     */
    @Test
    void aMajorFaultAdvancesVirtualTimeByTheReadLatency() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final Machine m = new Machine(new TestArch(), 1024, 4, s);
        final long readNs = 100_000;
        final Swap swap = m.swapon(new SwapParams(64, readNs, 30_000, 4, 0));
        final MmStruct mm = new MmStruct(m, LockingMode.PER_VMA);
        final long[] t = new long[3];
        final List<Long> otherRan = new ArrayList<>();
        s.spawn("faulter", () -> {
            final Cpu cpu = m.newCpu();
            cpu.switchMm(mm);
            final long a = mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            assertEquals(SigInfo.OK, cpu.store(a + 7, (byte) 0x77));
            SwapOut.swapOut(mm, a);
            t[0] = s.now();
            t[2] = cpu.load(a + 7);
            t[1] = s.now();
        });
        s.spawn("other", () -> {
            for (int i = 0; i < 40; i++) {
                s.sleepUntil(s.now() + 5_000, "tick");
                otherRan.add(s.now());
            }
        });
        s.run();
        try {
            assertEquals(0x77, t[2]);
            final long fault = t[1] - t[0];
            assertTrue(
                    fault >= readNs && fault < readNs + 20_000,
                    "the fault took the read's 100 us and a little: " + fault);
            assertTrue(
                    otherRan.stream().anyMatch(x -> x > t[0] && x < t[0] + readNs), "another CPU ran during the read");
            assertEquals(1, m.vmstat().get(VmEvent.PGMAJFAULT));
            assertEquals(1, m.vmstat().get(VmEvent.PSWPIN));
            swap.validate();
        } finally {
            m.close();
        }
    }
}
