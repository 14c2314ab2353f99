package dev.vmsim.core.swap;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.clock.SchedulePolicy;
import dev.vmsim.core.clock.TestCosts;
import dev.vmsim.core.clock.VirtualScheduler;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.TestArch;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * swapoff under the virtual clock, after real reclaim (try_to_unmap_one put the mm on the mmlist):
 * its waits (the device's reads, folio locks, the retry) go through the platform, and a run is the
 * same, counter for counter, every time. With more anonymous memory than RAM, swapoff fails with
 * -ENOMEM and loses nothing.
 */
@Timeout(60)
class SwapoffVirtualTest {
    private static final long PAGE = 4096;
    private static final int FRAMES = 1024;

    /** mm A writes {@code pagesA} pages, mm B {@code pagesB}; B exits if {@code exitB}; then swapoff. */
    private static Map<VmEvent, Long> run(final int pagesA, final int pagesB, final boolean exitB, final int expect) {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(1), SchedulePolicy.earliestClock());
        final Machine machine = new Machine(new TestArch(), FRAMES, 1, s);
        final Swap swap = machine.swapon(new SwapParams(4096, 50_000, 50_000, 8, 0));
        final int[] ret = {1};
        final long[] pswpout = {0};
        s.spawn("task", () -> {
            final MmStruct a = new MmStruct(machine, LockingMode.PER_VMA);
            final MmStruct b = new MmStruct(machine, LockingMode.PER_VMA);
            final Cpu cpu = machine.newCpu();
            cpu.switchMm(a);
            final long va = a.mmap(0, pagesA * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            for (int i = 0; i < pagesA; i++) {
                assertEquals(SigInfo.OK, cpu.store(va + i * PAGE, (byte) (i * 7 + 1)));
            }
            cpu.switchMm(b);
            final long vb = b.mmap(0, pagesB * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            for (int i = 0; i < pagesB; i++) {
                assertEquals(SigInfo.OK, cpu.store(vb + i * PAGE, (byte) 3));
            }
            pswpout[0] = machine.vmstat().get(VmEvent.PSWPOUT);
            if (exitB) {
                b.exitMmap();
            }
            ret[0] = machine.swapoff();
            if (expect != 0) {
                assertSame(swap, machine.swap(), "the device is back in service");
            }
            cpu.switchMm(a);
            for (int i = 0; i < pagesA; i++) {
                assertEquals((i * 7 + 1) & 0xff, cpu.load(va + i * PAGE), "page " + i);
            }
        });
        s.run();
        assertTrue(pswpout[0] > 0, "reclaim swapped pages out before swapoff");
        assertEquals(expect, ret[0]);
        if (expect == 0) {
            assertNull(machine.swap());
            assertEquals(0, swap.info().inusePages());
            assertTrue(machine.vmstat().get(VmEvent.PSWPIN) > 0);
        }
        machine.validate();
        final Map<VmEvent, Long> counters = machine.vmstat().snapshot();
        machine.close();
        return counters;
    }

    @Test
    void swapoffAfterReclaimBringsEverythingBackAndTheRunIsDeterministic() {
        final Map<VmEvent, Long> first = run(700, 500, true, 0);
        assertEquals(first, run(700, 500, true, 0));
    }

    @Test
    void swapoffWithMoreAnonymousMemoryThanRamFailsWithEnomem() {
        run(700, 500, false, -Errno.ENOMEM);
    }
}
