package dev.vmsim.core.proc;

import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.stat.VmStat;
import java.util.ArrayList;
import java.util.List;

/**
 * /proc/vmstat (mm/vmstat.c vmstat_show): "name value" per line, for the vm_event counters the
 * simulator counts, in the kernel's vmstat_text order. The kernel's other lines (the nr_* zone and
 * node counters, and events the simulator never counts) are omitted rather than printed as 0, so
 * that nothing printed is a value the simulator did not compute.
 */
public final class ProcVmstat {
    /** vmstat_text order of the counted events (enum vm_event_item). */
    private static final VmEvent[] ORDER = {VmEvent.PGALLOC, VmEvent.PGFREE, VmEvent.PGFAULT, VmEvent.PGMAJFAULT,
        VmEvent.PGREUSE, VmEvent.NR_TLB_REMOTE_FLUSH, VmEvent.NR_TLB_REMOTE_FLUSH_RECEIVED,
        VmEvent.NR_TLB_LOCAL_FLUSH_ALL, VmEvent.NR_TLB_LOCAL_FLUSH_ONE, VmEvent.VMA_LOCK_SUCCESS,
        VmEvent.VMA_LOCK_ABORT, VmEvent.VMA_LOCK_RETRY, VmEvent.VMA_LOCK_MISS, VmEvent.VMA_LOCK_WAIT};

    private ProcVmstat() {}

    /** The lines, each counter as it is now. */
    public static List<String> lines(final VmStat stat) {
        final List<String> out = new ArrayList<>();
        for (final VmEvent e : ORDER) {
            out.add(e.kernelName() + " " + stat.get(e));
        }
        return out;
    }
}
