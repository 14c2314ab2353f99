package dev.vmsim.core.proc;

import dev.vmsim.core.Machine;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.stat.VmStat;
import java.util.ArrayList;
import java.util.List;

/**
 * /proc/vmstat (mm/vmstat.c vmstat_show): "name value" per line, in the kernel's vmstat_text
 * order: the zone and node counters the simulator computes (free pages, the anon LRU lists,
 * isolated, anon pages, writeback, page tables, the swap cache), then the vm_event counters it
 * counts. The kernel's other lines (file LRUs, slab, workingset, NUMA, THP, compaction, events the
 * simulator never counts) are omitted rather than printed as 0, so that nothing printed is a value
 * the simulator did not compute. The simulator's own counter kswapd_wakeup (a tracepoint in the
 * kernel, mm_vmscan_wakeup_kswapd, not a vmstat item) is not printed; vma_lock_wait, printed after
 * the kernel's vma_lock_* lines, is the simulator's.
 */
public final class ProcVmstat {
    /** vmstat_text order of the counted events (enum vm_event_item). */
    private static final VmEvent[] ORDER = {
        VmEvent.PSWPIN,
        VmEvent.PSWPOUT,
        VmEvent.PGALLOC,
        VmEvent.ALLOCSTALL,
        VmEvent.PGFREE,
        VmEvent.PGACTIVATE,
        VmEvent.PGDEACTIVATE,
        VmEvent.PGFAULT,
        VmEvent.PGMAJFAULT,
        VmEvent.PGREFILL,
        VmEvent.PGREUSE,
        VmEvent.PGSTEAL_KSWAPD,
        VmEvent.PGSTEAL_DIRECT,
        VmEvent.PGSCAN_KSWAPD,
        VmEvent.PGSCAN_DIRECT,
        VmEvent.PGSCAN_ANON,
        VmEvent.PGSTEAL_ANON,
        VmEvent.PAGEOUTRUN,
        VmEvent.OOM_KILL,
        VmEvent.NR_TLB_REMOTE_FLUSH,
        VmEvent.NR_TLB_REMOTE_FLUSH_RECEIVED,
        VmEvent.NR_TLB_LOCAL_FLUSH_ALL,
        VmEvent.NR_TLB_LOCAL_FLUSH_ONE,
        VmEvent.SWAP_RA,
        VmEvent.SWAP_RA_HIT,
        VmEvent.VMA_LOCK_SUCCESS,
        VmEvent.VMA_LOCK_ABORT,
        VmEvent.VMA_LOCK_RETRY,
        VmEvent.VMA_LOCK_MISS,
        VmEvent.VMA_LOCK_WAIT
    };

    private ProcVmstat() {}

    /**
     * The whole file for {@code machine} now: its counters (the same figures as /proc/meminfo's, in
     * pages) and then its events. Read it on a quiescent machine, as {@link ProcMeminfo}.
     */
    public static List<String> lines(final Machine machine) {
        final ProcMeminfo.Values v = ProcMeminfo.of(machine);
        final ProcMeminfo.Swapped sw = v.swap();
        final List<String> out = new ArrayList<>();
        // enum zone_stat_item (the one zone holds every page)
        out.add("nr_free_pages " + v.memFree());
        out.add("nr_zone_inactive_anon " + v.inactiveAnon());
        out.add("nr_zone_active_anon " + sw.activeAnon());
        // zone_write_pending: NR_ZONE_WRITE_PENDING counts dirty and writeback pages of the zone
        out.add("nr_zone_write_pending " + sw.writeback());
        // enum node_stat_item
        out.add("nr_inactive_anon " + v.inactiveAnon());
        out.add("nr_active_anon " + sw.activeAnon());
        out.add("nr_isolated_anon " + machine.vmscan().nrIsolated());
        out.add("nr_anon_pages " + v.anonPages());
        out.add("nr_writeback " + sw.writeback());
        out.add("nr_page_table_pages " + v.pageTables());
        out.add("nr_swapcached " + sw.swapCached());
        out.addAll(lines(machine.vmstat()));
        return out;
    }

    /** The event lines alone, each counter as it is now. */
    public static List<String> lines(final VmStat stat) {
        final List<String> out = new ArrayList<>();
        for (final VmEvent e : ORDER) {
            out.add(e.kernelName() + " " + stat.get(e));
        }
        return out;
    }
}
