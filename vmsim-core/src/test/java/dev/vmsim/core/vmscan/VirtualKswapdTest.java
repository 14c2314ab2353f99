package dev.vmsim.core.vmscan;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static dev.vmsim.core.testing.Faults.writeFault;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.clock.SchedulePolicy;
import dev.vmsim.core.clock.TestCosts;
import dev.vmsim.core.clock.VirtualScheduler;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.TestArch;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Under the virtual clock kswapd has no thread: its pass runs at the wake point, in the allocating
 * task, counted as kswapd's; a run is the same, counter for counter, every time.
 */
@Timeout(60)
class VirtualKswapdTest {
    private static final long PAGE = 4096;

    private static Map<VmEvent, Long> run() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final Machine machine = new Machine(new TestArch(), 1024, 2, s);
        machine.setSwapBackend(new FakeSwap(machine, false, 4096));
        final MmStruct[] mm = new MmStruct[1];
        s.spawn("faulter", () -> {
            mm[0] = new MmStruct(machine, LockingMode.PER_VMA);
            machine.newCpu().switchMm(mm[0]); // the task's CPU picks its per-CPU lists, not its thread's id
            final long a = mm[0].mmap(0, 1500 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            for (int i = 0; i < 1500; i++) {
                assertEquals(0, writeFault(mm[0], a + i * PAGE));
            }
        });
        s.run();
        assertNull(machine.vmscan().kswapd().thread(), "no kthread under the virtual clock");
        assertEquals(1500, mm[0].anonRss() + mm[0].swapEnts());
        machine.validate();
        final Map<VmEvent, Long> counters = machine.vmstat().snapshot();
        machine.close();
        return counters;
    }

    @Test
    void kswapdRunsAtTheWakePointAndTheRunIsDeterministic() {
        final Map<VmEvent, Long> first = run();
        assertTrue(first.get(VmEvent.KSWAPD_WAKEUP) >= 1);
        assertTrue(first.get(VmEvent.PGSTEAL_KSWAPD) > 0, "kswapd's pass reclaimed: " + first);
        assertEquals(first, run());
    }
}
