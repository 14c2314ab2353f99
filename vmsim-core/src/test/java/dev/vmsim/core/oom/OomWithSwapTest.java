package dev.vmsim.core.oom;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.swap.SwapParams;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The OOM killer with a swap device: while swap has room the slow path reclaims to it and nobody
 * is killed; once the swap is full, anonymous memory is no longer reclaimable
 * (can_reclaim_anon_pages is false), should_reclaim_retry gives up and out_of_memory runs.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OomWithSwapTest extends OomMachine {
    /** Writes {@code pages} new anonymous pages in {@code mm}; the access results. */
    private int[] write(final MmStruct mm, final int pages) {
        cpu.switchMm(mm);
        final long a = mm.mmap(0, (long) pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(a > 0, "mmap: " + a);
        final int[] sig = new int[pages];
        for (int p = 0; p < pages; p++) {
            sig[p] = cpu.store(a + (long) p * PAGE, (byte) (p + 1));
        }
        return sig;
    }

    private void quiesce() throws InterruptedException {
        assertTrue(machine.vmscan().kswapd().quiesce(30_000), "kswapd did not go idle");
        machine.swap().drain();
        machine.vmscan().lruAddDrainAll();
    }

    @Test
    void withRoomInSwapTwiceMemoryIsWrittenAndNobodyIsKilled() throws Exception {
        machine.swapon(new SwapParams(4 * FRAMES, 20_000, 20_000, 8, 3));
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        for (final int s : write(mm, 2 * FRAMES)) {
            assertEquals(SigInfo.OK, s);
        }
        assertEquals(0, machine.vmstat().get(VmEvent.OOM_KILL), log.toString());
        assertTrue(machine.vmstat().get(VmEvent.PSWPOUT) > 0);
        quiesce();
        machine.validate();
    }

    @Test
    void withSwapFullTheOomKillerRunsAfterTheRetries() throws Exception {
        machine.swapon(new SwapParams(65, 20_000, 20_000, 8, 0)); // 64 slots
        final MmStruct big = new MmStruct(machine, LockingMode.PER_VMA);
        final MmStruct small = new MmStruct(machine, LockingMode.PER_VMA);
        write(big, 400);
        write(small, 200); // 600 pages: memory and the 64 slots cannot hold them
        assertEquals(1, machine.vmstat().get(VmEvent.OOM_KILL), log.toString());
        assertTrue(big.oom().isOomVictim() && big.oom().oomSkip(), "the bigger process is the reaped victim");
        assertFalse(small.oom().isOomVictim());
        assertTrue(machine.vmstat().get(VmEvent.ALLOCSTALL) > 0, "direct reclaim ran before the kill");
        assertTrue(
                log.get(0)
                        .startsWith("Out of memory: Killed process " + big.oom().pid()),
                log.toString());
        quiesce();
        machine.validate();
    }
}
