package dev.vmsim.core.clock;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Fork balancing's placement of a process's spinning threads on the two published machines'
 * topologies, traced by hand through sched_balance_find_dst_group and imb_numa_nr.
 */
class ForkBalanceTest {
    /** 2 sockets x 32 cores x 2 SMT, one LLC and one node per socket (Table A's Ice Lake). */
    private static final ForkBalance ICELAKE = new ForkBalance(2, 32, 2, 32, 2);
    /** 2 sockets x 64 cores x 2 SMT, 8-core CCDs, NPS2 (Table B's Zen 5). */
    private static final ForkBalance ZEN5 = new ForkBalance(2, 64, 2, 8, 4);

    @Test
    void iceLakeKeepsTwoThreadsOnTheLaunchersSocketThenAlternates() {
        // imb_numa_nr = 2 LLCs: the second thread stays on socket 0, the third crosses (3 > 2 running).
        assertArrayEquals(new int[] {0, 1, 32, 33, 2, 34}, ICELAKE.place(6));
    }

    @Test
    void zen5SpreadsOverCcdsOfOneSocketUntilTheIdleImbalanceExceedsTwo() {
        // One CCD each (cores 8 apart) while the socket stays within NUMA_IMBALANCE_MIN; the fourth
        // thread makes the imbalance 3 and goes to socket 1 (core 64).
        assertArrayEquals(new int[] {0, 8, 16, 64}, ZEN5.place(4));
    }

    @Test
    void distinctCoresBeforeSiblingsAndEveryCpuOnceWhenFull() {
        final int[] ice = ICELAKE.place(128);
        final Set<Integer> firstHalf = new HashSet<>();
        for (int k = 0; k < 64; k++) {
            assertTrue(ice[k] < 64, "thread " + k + " on a sibling before every core has a thread: " + ice[k]);
            firstHalf.add(ice[k]);
        }
        assertEquals(64, firstHalf.size());
        final Set<Integer> all = new HashSet<>();
        for (final int c : ice) {
            all.add(c);
        }
        assertEquals(128, all.size(), "128 threads on 128 logical CPUs: one each");
    }

    @Test
    void halfTheThreadsOnEachSocketAt48() {
        final int[] ice = ICELAKE.place(48);
        int socket1 = 0;
        for (final int c : ice) {
            if (c % 64 >= 32) {
                socket1++;
            }
        }
        assertEquals(24, socket1);
    }

    @Test
    void threadsPastTheCpuCountShareInTheSameOrder() {
        final int[] host = new ForkBalance(1, 2, 1, 2, 1).place(5);
        assertArrayEquals(new int[] {0, 1, 0, 1, 0}, host);
    }

    @Test
    void adjustNumaImbalanceAllowsTwoIdleCpusWhileUnderTheLimit() {
        assertEquals(0, ForkBalance.adjustNumaImbalance(2, 2, 2));
        assertEquals(3, ForkBalance.adjustNumaImbalance(3, 2, 2));
        assertEquals(1, ForkBalance.adjustNumaImbalance(1, 3, 2));
    }

    @Test
    void costModelChargesTheTransferBetweenThePlacedCpus() {
        final Map<String, Double> v = TestCosts.values(64);
        v.put("sockets", 2.0);
        v.put("cores_per_socket", 32.0);
        v.put("cores_per_llc", 32.0);
        v.put("numa_nodes", 2.0);
        final CostModel m = new CostModel(v);
        assertEquals(32, m.logicalCpu(2));
        assertEquals(m.ps(Cost.C2C_LLC), m.transferPs(0, 1), "threads 0 and 1 share socket 0");
        assertEquals(m.ps(Cost.C2C_REMOTE), m.transferPs(1, 2), "thread 2 is on socket 1");
        assertEquals(1, m.node(2));
    }

    @Test
    void aFullyBusyLocalGroupLosesToAGroupWithAnIdleCpuEvenWithinTheNumaAllowance() {
        // Eight one-core nodes on two sockets: node groups of one CPU are full after one thread each.
        final int[] p = new ForkBalance(2, 4, 1, 1, 8).place(8);
        final java.util.Set<Integer> distinct = new HashSet<>();
        for (final int c : p) {
            distinct.add(c);
        }
        assertEquals(8, distinct.size(), "one thread per CPU: " + java.util.Arrays.toString(p));
    }

    @Test
    void aTopologyThatDoesNotNestIsRejectedNamingTheField() {
        final Map<String, Double> v = TestCosts.values(10);
        v.put("cores_per_llc", 3.0);
        final IllegalArgumentException llc = assertThrows(IllegalArgumentException.class, () -> new CostModel(v));
        assertTrue(llc.getMessage().startsWith("parameter cores_per_llc"), llc.getMessage());
        v.put("cores_per_llc", 10.0);
        v.put("numa_nodes", 3.0);
        final IllegalArgumentException nodes = assertThrows(IllegalArgumentException.class, () -> new CostModel(v));
        assertTrue(nodes.getMessage().startsWith("parameter numa_nodes"), nodes.getMessage());
    }

    @Test
    void aMachineTooLargeToPlaceIsRejectedNamingTheFields() {
        final Map<String, Double> v = TestCosts.values(1);
        v.put("sockets", 4096.0);
        v.put("cores_per_socket", 4096.0);
        v.put("cores_per_llc", 4096.0);
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CostModel(v));
        assertTrue(e.getMessage().contains("cores_per_socket"), e.getMessage());
    }
}
