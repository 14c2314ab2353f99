package dev.vmsim.core.oom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.Pages;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The OOM killer on a machine without swap: anonymous memory cannot be reclaimed, so an allocation
 * past memory reaches out_of_memory, which kills the process with the highest oom_badness; the
 * reaper frees its memory and the allocation then succeeds.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OomKillerTest extends OomMachine {
    /** A process with {@code pages} anonymous pages written; the address of its mapping. */
    private long populate(final MmStruct mm, final int pages) {
        return Pages.mapAndFill(cpu, mm, pages);
    }

    /** Writes {@code pages} more pages in {@code mm}: past memory, so the allocator must find room. */
    private void grow(final MmStruct mm, final int pages) {
        populate(mm, pages);
    }

    @Test
    void theBiggerProcessDiesItsMemoryIsReapedAndTheAllocationSucceeds() {
        final MmStruct big = new MmStruct(machine, LockingMode.PER_VMA);
        final MmStruct small = new MmStruct(machine, LockingMode.PER_VMA);
        populate(big, 300);
        final long smallAddr = populate(small, 40);
        grow(small, 200); // 300 + 240 anonymous pages do not fit in 512 frames
        assertEquals(1, machine.vmstat().get(VmEvent.OOM_KILL));
        assertTrue(big.oom().isOomVictim() && big.oom().oomSkip(), "the bigger process is the reaped victim");
        assertFalse(small.oom().isOomVictim());
        assertEquals(0, big.anonRss(), "the reaper unmapped the victim's anonymous pages");
        assertEquals(240, small.anonRss());
        cpu.switchMm(small);
        assertEquals(1, cpu.load(smallAddr), "the survivor's data is intact");
        assertTrue(
                log.get(0)
                        .matches("Out of memory: Killed process " + big.oom().pid()
                                + " \\(vmsim\\) total-vm:\\d+kB, anon-rss:1200kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:\\d+kB"
                                + " oom_score_adj:0"),
                log.get(0));
        assertTrue(
                log.get(1).startsWith("oom_reaper: reaped process " + big.oom().pid() + " (vmsim), now anon-rss:0kB"),
                log.get(1));
        machine.validate();
    }

    @Test
    void oomScoreAdjMinIsNeverChosen() {
        final MmStruct protectedMm = new MmStruct(machine, LockingMode.MMAP_ONLY);
        final MmStruct other = new MmStruct(machine, LockingMode.MMAP_ONLY);
        protectedMm.oom().setOomScoreAdj(OomState.OOM_SCORE_ADJ_MIN);
        populate(protectedMm, 300);
        populate(other, 40);
        grow(other, 200);
        assertFalse(protectedMm.oom().isOomVictim());
        assertEquals(300, protectedMm.anonRss(), "the unkillable process kept its memory");
        assertTrue(other.oom().isOomVictim(), "the only killable process was chosen, though smaller");
        assertEquals(Long.MIN_VALUE, OomKiller.oomBadness(protectedMm, killer.totalPages()));
    }

    @Test
    void oomScoreAdjWeighsByTotalPages() {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        populate(mm, 10);
        final long base = OomKiller.oomBadness(mm, 511);
        mm.oom().setOomScoreAdj(500);
        assertEquals(base + 500 * (511 / 1000), OomKiller.oomBadness(mm, 511));
        assertEquals(base + 500 * 4, OomKiller.oomBadness(mm, 4000));
        assertEquals(10 + mm.pageTables().tableFrames(), base, "rss + swap entries + page-table pages");
    }

    @Test
    void aVictimStillExitingIsWaitedForInsteadOfASecondKill() {
        final MmStruct first = new MmStruct(machine, LockingMode.PER_VMA);
        final MmStruct second = new MmStruct(machine, LockingMode.PER_VMA);
        populate(first, 100);
        populate(second, 200);
        // an earlier kill whose victim has not finished exiting (no MMF_OOM_SKIP)
        first.oom().killProcess(machine.platform());
        final OomKiller.Choice c = killer.selectBadProcess();
        assertTrue(c.abort(), "select_bad_process aborts on a pending victim");
        assertTrue(killer.outOfMemory(0), "progress: the victim's memory is coming back");
        assertEquals(0, machine.vmstat().get(VmEvent.OOM_KILL), "no second kill");
        assertFalse(second.oom().isOomVictim());
        assertEquals(200, second.anonRss());
    }

    @Test
    void anExitingProcessIsReapedNotKilledAgain() {
        final MmStruct exiting = new MmStruct(machine, LockingMode.PER_VMA);
        populate(exiting, 200);
        exiting.oom().setExiting();
        assertTrue(killer.outOfMemory(0));
        assertEquals(0, machine.vmstat().get(VmEvent.OOM_KILL), "task_will_free_mem: no kill counted");
        assertTrue(exiting.oom().oomSkip());
        assertEquals(0, exiting.anonRss());
        assertTrue(log.stream().noneMatch(l -> l.startsWith("Out of memory: Killed")), log.toString());
    }

    @Test
    void sigkillReachesEveryTaskOfTheVictim() throws Exception {
        final MmStruct victim = new MmStruct(machine, LockingMode.PER_VMA);
        populate(victim, 50);
        final CountDownLatch never = new CountDownLatch(1);
        final CountDownLatch killed = new CountDownLatch(2);
        final AtomicBoolean signalled = new AtomicBoolean(true);
        final Thread[] tasks = new Thread[2];
        for (int i = 0; i < tasks.length; i++) {
            tasks[i] = new Thread(() -> {
                try {
                    never.await();
                    signalled.set(false);
                } catch (InterruptedException e) {
                    killed.countDown(); // fatal_signal_pending
                }
            });
            victim.oom().addTask(tasks[i]);
            tasks[i].start();
        }
        assertTrue(killer.outOfMemory(0));
        assertTrue(killed.await(10, TimeUnit.SECONDS), "both tasks saw SIGKILL");
        for (final Thread t : tasks) {
            t.join(10_000);
        }
        assertTrue(signalled.get());
        assertEquals(1, machine.vmstat().get(VmEvent.OOM_KILL));
    }

    @Test
    void nothingKillableMakesNoProgress() {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        mm.oom().setOomScoreAdj(OomState.OOM_SCORE_ADJ_MIN);
        populate(mm, 5);
        assertFalse(killer.outOfMemory(0));
        assertFalse(killer.outOfMemory(0));
        assertEquals(List.of("Out of memory and no killable processes..."), log, "said once, as the kernel's panic");
    }
}
