package dev.vmsim.core.oom;

import dev.vmsim.core.Machine;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.MmuGather;
import dev.vmsim.core.phys.OutOfMemory;
import dev.vmsim.core.stat.VmEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The machine's OOM killer (mm/oom_kill.c). The allocation slow path calls {@link #outOfMemory}
 * when reclaim has failed; it chooses the process with the highest {@link #oomBadness}, kills it
 * (SIGKILL to its tasks, the oom_kill event, the kernel's log line) and reaps its anonymous memory.
 *
 * <p>Serialised by oom_lock (a monitor here: one out_of_memory at a time, as the kernel's
 * mutex_trylock(&oom_lock) in __alloc_pages_may_oom; a caller that finds it held waits instead of
 * returning, a departure that keeps the caller's retry simple).
 *
 * <p>Departures: the oom_reaper runs synchronously inside oom_kill_process on the allocating
 * thread, on both clocks, where the kernel queues the victim to the oom_reaper kthread, which
 * waits OOM_REAPER_DELAY (2 s) for the victim to exit by itself. A simulated victim's tasks are
 * threads that may never look at their signal, so waiting for them would stall the allocator; the
 * reaper's work (zap of private anonymous memory under mmap_read_lock, then MMF_OOM_SKIP) is the
 * kernel's. No memcg, cpuset or mempolicy constraint (CONSTRAINT_NONE), no panic_on_oom and no
 * oom_kill_allocating_task: the defaults. The victim's own allocating task is not given the
 * ALLOC_OOM reserves beyond what the slow path already allows.
 */
public final class OomKiller implements OutOfMemory {
    /** oom_reap_task's wait between mmap_read_trylock attempts: HZ/10. */
    private static final long OOM_REAP_RETRY_NS = 100_000_000L;

    private final Machine machine;
    private volatile Consumer<String> log = System.err::println;
    /** The panic line was printed (guarded by this object's monitor, as out_of_memory is). */
    private boolean saidNoKillable;

    public OomKiller(final Machine machine) {
        this.machine = machine;
    }

    /** Where the kernel's log lines go (pr_err / pr_info): stderr unless set. */
    public void setLog(final Consumer<String> sink) {
        this.log = sink;
    }

    /**
     * out_of_memory (CONSTRAINT_NONE, no sysrq): select_bad_process, then oom_kill_process on the
     * victim. True when it made progress: a victim killed, or an earlier victim still exiting (the
     * kernel's "abort": wait for it rather than kill a second). False when nothing is killable (the
     * kernel would panic: "Out of memory and no killable processes...").
     */
    @Override
    public synchronized boolean outOfMemory(final int cpu) {
        final Choice c = selectBadProcess();
        if (c.abort) {
            return true;
        }
        if (c.chosen == null) {
            // The kernel panics here; the simulator fails the allocation instead (VM_FAULT_OOM, then
            // pagefault_out_of_memory), and says so once, not at every allocation that follows.
            if (!saidNoKillable) {
                saidNoKillable = true;
                log.accept("Out of memory and no killable processes...");
            }
            return false;
        }
        oomKillProcess(c.chosen);
        return true;
    }

    /** select_bad_process's answer: the chosen mm (or null), or abort when a victim is still pending. */
    record Choice(MmStruct chosen, long points, boolean abort) {}

    /**
     * select_bad_process → oom_evaluate_task for each process in pid order: a process that is
     * already an OOM victim and not yet MMF_OOM_SKIP aborts the selection (its memory is on its way
     * back); otherwise the highest oom_badness wins, a later process winning a tie (the kernel's
     * {@code points < chosen_points} skip).
     */
    Choice selectBadProcess() {
        final long totalpages = totalPages();
        final List<MmStruct> mms = new ArrayList<>(machine.mms());
        mms.sort(Comparator.comparingInt(mm -> mm.oom().pid()));
        MmStruct chosen = null;
        long chosenPoints = Long.MIN_VALUE;
        for (final MmStruct mm : mms) {
            final OomState s = mm.oom();
            if (s.isOomVictim()) {
                if (s.oomSkip()) {
                    continue;
                }
                return new Choice(null, 0, true);
            }
            final long points = oomBadness(mm, totalpages);
            if (points == Long.MIN_VALUE || points < chosenPoints) {
                continue;
            }
            chosen = mm;
            chosenPoints = points;
        }
        return new Choice(chosen, chosenPoints, false);
    }

    /** totalpages: totalram_pages() + total_swap_pages (oom_constraint for CONSTRAINT_NONE). */
    long totalPages() {
        final long ram = machine.memory().frames() - 1; // the reserved zero page, as meminfo's MemTotal
        return ram + (machine.swap() == null ? 0 : machine.swap().totalSwapPages());
    }

    /**
     * oom_badness: Long.MIN_VALUE for a process never to be chosen (oom_score_adj OOM_SCORE_ADJ_MIN,
     * MMF_OOM_SKIP, or no memory at all: the kernel's find_lock_task_mm finding no mm); else
     * get_mm_rss + MM_SWAPENTS + mm_pgtables_bytes / PAGE_SIZE, plus oom_score_adj * totalpages / 1000.
     */
    public static long oomBadness(final MmStruct mm, final long totalpages) {
        final OomState s = mm.oom();
        final long adj = s.oomScoreAdj();
        if (adj == OomState.OOM_SCORE_ADJ_MIN || s.oomSkip()) {
            return Long.MIN_VALUE;
        }
        long points =
                mm.anonRss() + mm.shmemRss() + mm.swapEnts() + mm.pageTables().tableFrames();
        points += adj * (totalpages / 1000);
        return points;
    }

    /**
     * oom_kill_process: a victim already exiting (task_will_free_mem) is only marked and reaped, not
     * killed again and not counted; otherwise __oom_kill_process: the log line, count_vm_event(OOM_KILL),
     * SIGKILL to every task of the mm, mark_oom_victim, and the reaper.
     */
    void oomKillProcess(final MmStruct victim) {
        final OomState s = victim.oom();
        if (s.exiting()) {
            s.killProcess(machine.platform()); // mark_oom_victim; SIGKILL is already pending or moot
            oomReap(victim);
            return;
        }
        final long kb = victim.pageSize() >> 10;
        log.accept(String.format(
                Locale.ROOT,
                "Out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, shmem-rss:%dkB,"
                        + " UID:%d pgtables:%dkB oom_score_adj:%d",
                s.pid(),
                s.comm(),
                victim.totalVm() * kb,
                victim.anonRss() * kb,
                0L,
                victim.shmemRss() * kb,
                0,
                victim.pageTables().tableFrames() * kb,
                s.oomScoreAdj()));
        machine.vmstat().count(VmEvent.OOM_KILL);
        s.killProcess(machine.platform());
        oomReap(victim);
    }

    /** MAX_OOM_REAP_RETRIES: the reaper's tries at the victim's mmap_lock. */
    static final int MAX_OOM_REAP_RETRIES = 10;

    /**
     * oom_reap_task: oom_reap_task_mm (mmap_read_trylock, then __oom_reap_task_mm and its log line)
     * up to MAX_OOM_REAP_RETRIES times, then MMF_OOM_SKIP whether or not it reaped, so that the
     * next out_of_memory may choose another victim. The kernel sleeps HZ/10 between tries; the
     * simulator yields (the reaper is synchronous here, on the allocating thread).
     */
    private void oomReap(final MmStruct mm) {
        final OomState s = mm.oom();
        boolean reaped = s.oomSkip();
        for (int attempt = 0; !reaped && attempt < MAX_OOM_REAP_RETRIES; attempt++) {
            if (mm.mmapLock().readTrylock()) {
                try {
                    oomReapTaskMm(mm);
                } finally {
                    mm.mmapLock().readUnlock();
                }
                reaped = true;
                final long kb = mm.pageSize() >> 10;
                log.accept(String.format(
                        Locale.ROOT,
                        "oom_reaper: reaped process %d (%s), now anon-rss:%dkB, file-rss:%dkB, shmem-rss:%dkB",
                        s.pid(),
                        s.comm(),
                        mm.anonRss() * kb,
                        0L,
                        mm.shmemRss() * kb));
            } else {
                // schedule_timeout_idle(HZ/10) between attempts, in the machine's time
                final dev.vmsim.core.clock.Platform p = dev.vmsim.core.clock.Platform.current();
                p.sleepUntil(p.now() + OOM_REAP_RETRY_NS, "oom_reaper");
            }
        }
        if (!reaped) {
            log.accept(String.format(Locale.ROOT, "oom_reaper: unable to reap pid:%d (%s)", s.pid(), s.comm()));
        }
        s.setOomSkip();
    }

    /**
     * __oom_reap_task_mm, the caller holding mmap_read_lock (a trylock: the reaper must not wait
     * behind the victim, and here it runs inside an allocation that may hold a VMA lock): every VMA that is anonymous or private (not
     * VM_SHARED), except VM_HUGETLB and VM_PFNMAP, is zapped (unmap_page_range with one mmu_gather
     * per VMA, as the kernel's tlb_gather_mmu / tlb_finish_mmu per VMA), its pages and swap entries
     * freed. The VMAs stay: the victim's exit unmaps them. Returns the pages unmapped.
     */
    public static long oomReapTaskMm(final MmStruct mm) {
        long reaped = 0;
        for (final Vma vma : mm.vmas()) {
            if ((vma.vmFlags & (VmFlags.VM_HUGETLB | VmFlags.VM_PFNMAP)) != 0) {
                continue;
            }
            if (vma.isAnonymous() || (vma.vmFlags & VmFlags.VM_SHARED) == 0) {
                final MmuGather tlb = new MmuGather(mm);
                final long n = mm.pageTables()
                        .zapRange(vma.vmStart, vma.vmEnd, 0, tlb); // no ZAP_FLAG_DROP_MARKER: guards stay;
                mm.addRss(vma, -n);
                tlb.finish();
                reaped += n;
            }
        }
        return reaped;
    }
}
