package dev.vmsim.core.vmscan;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.swap.SwapParams;
import dev.vmsim.core.testing.TestArch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Reclaim and swap together, through the fault path only: a working set three times the machine's
 * memory is written, so allocations fall below the watermarks and kswapd and direct reclaim swap
 * anonymous folios out (add_to_swap, try_to_unmap, pageout); reading it back swaps them in
 * (do_swap_page, major faults). Every byte comes back, and the frame, rmap and swap invariants hold.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReclaimToSwapTest {
    private static final int PAGE = 4096;
    private static final int FRAMES = 512;
    private static final int PAGES = 3 * FRAMES;

    private final Machine machine = TestArch.machine(FRAMES);

    @AfterEach
    void close() {
        machine.close();
    }

    private static byte pattern(final int page, final int off) {
        return (byte) (page * 131 + off * 7 + 3);
    }

    private void quiesce() throws InterruptedException {
        assertTrue(machine.vmscan().kswapd().quiesce(30_000), "kswapd did not go idle");
        machine.swap().drain();
    }

    @ParameterizedTest
    @EnumSource(LockingMode.class)
    void aWorkingSetLargerThanMemoryComesBackIntactThroughSwap(final LockingMode mode) throws Exception {
        machine.swapon(new SwapParams(4 * PAGES, 20_000, 20_000, 8, 3));
        final MmStruct mm = new MmStruct(machine, mode);
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        final long a = mm.mmap(0, (long) PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(a > 0, "mmap: " + a);
        for (int p = 0; p < PAGES; p++) {
            for (int off = 0; off < PAGE; off += 1024) {
                assertEquals(SigInfo.OK, cpu.store(a + (long) p * PAGE + off, pattern(p, off)), "page " + p);
            }
        }
        final long pswpout = machine.vmstat().get(VmEvent.PSWPOUT);
        assertTrue(pswpout >= PAGES - FRAMES, "pages written to swap: " + pswpout);
        final long majBefore = machine.vmstat().get(VmEvent.PGMAJFAULT);
        for (int p = 0; p < PAGES; p++) {
            for (int off = 0; off < PAGE; off += 1024) {
                assertEquals(
                        pattern(p, off) & 0xff, cpu.load(a + (long) p * PAGE + off), "page " + p + " offset " + off);
            }
        }
        assertTrue(machine.vmstat().get(VmEvent.PSWPIN) > 0, "pages read back from swap");
        assertTrue(machine.vmstat().get(VmEvent.PGMAJFAULT) > majBefore, "the read-back took major faults");
        assertTrue(
                machine.vmstat().get(VmEvent.PGSTEAL_KSWAPD) + machine.vmstat().get(VmEvent.PGSTEAL_DIRECT) > 0);
        quiesce();
        machine.validate();
        assertEquals(0, mm.munmap(a, (long) PAGES * PAGE));
        quiesce();
        machine.validate();
        assertEquals(machine.swap().totalSwapPages(), machine.swap().nrSwapPages(), "munmap released every slot");
    }
}
