package dev.vmsim.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.testing.TestArch;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Bringing CPUs up: each gets an id of its own, however many threads bring them up at once. */
class MachineTest {
    /**
     * The workload runner's tasks each bring up their own CPU at the same moment. Ids are indices
     * of per-CPU state (page lists, trace rings), so two CPUs with one id would share it. Bounded
     * stress: 20 rounds of 16 threads released together by a barrier.
     */
    @Test
    @Timeout(60)
    void cpusBroughtUpConcurrentlyGetDistinctIds() throws Exception {
        final int n = 16;
        for (int round = 0; round < 20; round++) {
            final Machine machine = new Machine(new TestArch(), 256, n);
            final CyclicBarrier go = new CyclicBarrier(n);
            final Thread[] threads = new Thread[n];
            for (int i = 0; i < n; i++) {
                threads[i] = new Thread(() -> {
                    try {
                        go.await(30, TimeUnit.SECONDS);
                    } catch (final Exception e) {
                        throw new AssertionError(e);
                    }
                    machine.newCpu();
                });
                threads[i].start();
            }
            for (final Thread t : threads) {
                t.join(30_000);
            }
            final Set<Integer> ids = new HashSet<>();
            for (final Cpu c : machine.cpus()) {
                assertTrue(ids.add(c.id()), "round " + round + ": cpu id " + c.id() + " given twice");
            }
            assertEquals(n, ids.size());
            assertEquals(n - 1, ids.stream().mapToInt(Integer::intValue).max().getAsInt(), "ids are 0..n-1");
        }
    }
}
