package dev.vmsim.core.debug;

import java.util.ArrayList;
import java.util.List;

/**
 * One machine's allocation counts at one moment ({@link dev.vmsim.core.Machine#leakCounts}): what
 * the kernel's userland maple harness prints as {@code nr_allocated} at exit, widened to every
 * object the simulator allocates and frees by hand. A test ends with every count back to the value
 * it had when the machine was built (OOM-10); the difference names what leaked, as kmemleak's
 * report names the unreferenced object's cache.
 *
 * <p>The counts are exact only when the machine is quiescent: no task runs, kswapd is idle and no
 * swap I/O is in flight.
 *
 * @param mapleNodes maple nodes in the VMA trees (maple_node_cache's nr_allocated)
 * @param vmas VMAs handed out by vm_area_alloc / vm_area_dup and not given back to vm_area_free
 * @param anonVmas anon_vmas allocated and not yet freed by their last put_anon_vma
 * @param dataFrames frames allocated for anything but page tables (data pages, the swap cache's)
 * @param pageTableFrames page-table frames, roots included (NR_PAGETABLE)
 * @param swapSlots swap slots in use (si->inuse_pages; 0 without a swap device)
 */
public record LeakCounts(
        long mapleNodes, long vmas, long anonVmas, long dataFrames, long pageTableFrames, long swapSlots) {

    /**
     * The counts that differ from {@code start}, each as "name +n" or "name -n", comma-separated;
     * empty when none does.
     */
    public String leaksSince(final LeakCounts start) {
        final List<String> out = new ArrayList<>();
        diff(out, "maple nodes", mapleNodes, start.mapleNodes);
        diff(out, "VMAs", vmas, start.vmas);
        diff(out, "anon_vmas", anonVmas, start.anonVmas);
        diff(out, "data frames", dataFrames, start.dataFrames);
        diff(out, "page-table frames", pageTableFrames, start.pageTableFrames);
        diff(out, "swap slots", swapSlots, start.swapSlots);
        return String.join(", ", out);
    }

    private static void diff(final List<String> out, final String name, final long now, final long start) {
        if (now != start) {
            out.add(name + " " + (now > start ? "+" : "") + (now - start) + " (" + start + " -> " + now + ")");
        }
    }
}
