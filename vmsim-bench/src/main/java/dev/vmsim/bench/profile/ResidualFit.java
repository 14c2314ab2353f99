package dev.vmsim.bench.profile;

import dev.vmsim.core.phys.FrameAllocator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The fitted residuals of a profile: the kernel work the simulator does not model step by step
 * (memcg charge, LRU add, rmap, security hooks, ...) as the measured 1-thread cost minus the
 * modelled steps, each step priced by the profile's own parameters.
 *
 * <ul>
 *   <li>{@code fault_other}: one anonymous write fault (page_fault1 or pft at 1 thread) minus {@link
 *       #ANON_WRITE_FAULT}.
 *   <li>{@code mmap_other} and {@code munmap_other}: one mmap+munmap of mmap1 at 1 thread minus
 *       {@link #MMAP} and {@link #MUNMAP}; the probe times the pair, so the residual is split evenly.
 * </ul>
 *
 * <p>Only 1-thread figures enter a fit; the multi-thread tables are the test of the model, never its
 * input (machine-profiles.md §4). A residual below zero (the modelled steps cost more than the
 * kernel did) is set to 0 and its source says by how much the steps exceed the measurement.
 *
 * <p>The step lists state what the virtual clock charges on those paths; when the engine's charging
 * changes, they change with it (a test pins the shipped profiles to this arithmetic).
 */
public final class ResidualFit {
    /**
     * One anonymous write fault on an uncontended mm, as the virtual clock charges it: exception
     * entry/exit; the TLB lookup of the faulting access and of its retry; the hardware walk that
     * finds the PTE absent (4 levels), the software walk of handle_mm_fault (4) and the retry's walk
     * (4); the maple-tree lookup (one node: a tree of a few VMAs is a single leaf); three RMWs on
     * lines the CPU owns (the read lock, its release, the PTE lock); a frame from the pcp list;
     * zeroing it; the PTE store. Plus {@link #PCP_REFILL} once per {@link FrameAllocator#MAX_BATCH}
     * faults ({@link #anonWriteFaultNs}).
     */
    public static final Map<String, Integer> ANON_WRITE_FAULT = steps(
            "fault_entry_exit", 1, "tlb_hit", 2, "walk_level", 12, "maple_node_visit", 1,
            "atomic_local", 3, "frame_alloc_pcp", 1, "zero_page_4k", 1, "pte_update", 1);

    /** A pcp refill: one batch from the buddy lists, and the zone->lock RMW that takes it. */
    public static final Map<String, Integer> PCP_REFILL = steps("frame_alloc_zone", 1, "atomic_local", 1);

    /** The modelled cost of one anonymous write fault: {@link #ANON_WRITE_FAULT} and a refill's share. */
    public static double anonWriteFaultNs(final MachineProfile p) {
        return modelled(p, ANON_WRITE_FAULT) + modelled(p, PCP_REFILL) / FrameAllocator.MAX_BATCH;
    }

    private static String describeAnonWriteFault() {
        return describe(ANON_WRITE_FAULT) + " + (" + describe(PCP_REFILL) + ") / " + FrameAllocator.MAX_BATCH;
    }

    /** mmap of an anonymous range: syscall entry/exit, mmap_write_lock/unlock, the gap search and the store. */
    public static final Map<String, Integer> MMAP =
            steps("syscall_entry_exit", 1, "atomic_local", 2, "maple_node_visit", 3);

    /** munmap of an untouched range: syscall entry/exit, mmap_write_lock/unlock, the walk and the erase. */
    public static final Map<String, Integer> MUNMAP =
            steps("syscall_entry_exit", 1, "atomic_local", 2, "maple_node_visit", 3);

    private ResidualFit() {}

    /** The cost of {@code steps} priced by {@code p}, in ns. */
    public static double modelled(final MachineProfile p, final Map<String, Integer> steps) {
        double ns = 0;
        for (final Map.Entry<String, Integer> e : steps.entrySet()) {
            ns += e.getValue() * p.value(e.getKey());
        }
        return ns;
    }

    /**
     * fault_other from one anonymous fault's measured cost {@code measured}; {@code what} says what
     * was measured, e.g. "page_fault1 (native probe, 1 thread)".
     */
    public static MachineProfile.Parameter faultOther(final MachineProfile p, final Spread measured, final String what) {
        return residual(measured.median(), anonWriteFaultNs(p), describeAnonWriteFault(), 1,
                "fit: " + what + " " + measured.describe() + " per fault");
    }

    /**
     * mmap_other and munmap_other from mmap1's measured cost per mmap+munmap pair: each is half of
     * the residual, and each source gives the whole arithmetic.
     */
    public static Map<String, MachineProfile.Parameter> mmapOther(
            final MachineProfile p, final Spread measured, final String what) {
        final Map<String, Integer> both = new LinkedHashMap<>();
        MMAP.forEach((k, v) -> both.merge(k, v, Integer::sum));
        MUNMAP.forEach((k, v) -> both.merge(k, v, Integer::sum));
        final MachineProfile.Parameter half = residual(measured.median(), modelled(p, both), describe(both), 2,
                "fit: " + what + " " + measured.describe() + " per mmap+munmap");
        final Map<String, MachineProfile.Parameter> out = new LinkedHashMap<>();
        out.put("mmap_other", half);
        out.put("munmap_other", half);
        return out;
    }

    private static MachineProfile.Parameter residual(
            final double measured, final double modelled, final String steps, final int shares, final String what) {
        final double rest = (measured - modelled) / shares;
        final StringBuilder s = new StringBuilder(what)
                .append(String.format(Locale.ROOT, ", minus the modelled steps (%s = %.1f ns)", steps, modelled));
        if (shares > 1) {
            s.append(String.format(Locale.ROOT, ", divided by %d (the probe times them together)", shares));
        }
        if (rest < 0) {
            s.append(String.format(Locale.ROOT,
                    "; the steps exceed the measurement by %.1f ns, so the residual is 0", -rest * shares));
            return new MachineProfile.Parameter(0, "ns", s.toString());
        }
        return new MachineProfile.Parameter(round1(rest), "ns", s.append(String.format(Locale.ROOT, " = %.1f ns", rest)).toString());
    }

    /** "fault_entry_exit + 2 tlb_hit + 12 walk_level + ..." */
    static String describe(final Map<String, Integer> steps) {
        final StringJoiner j = new StringJoiner(" + ");
        steps.forEach((k, v) -> j.add(v == 1 ? k : v + " " + k));
        return j.toString();
    }

    private static double round1(final double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static Map<String, Integer> steps(final Object... kv) {
        final Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Integer) kv[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }
}
