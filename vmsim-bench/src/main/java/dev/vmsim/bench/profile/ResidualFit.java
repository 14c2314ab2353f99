package dev.vmsim.bench.profile;

import dev.vmsim.core.phys.FrameAllocator;
import java.util.LinkedHashMap;
import java.util.List;
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
 *   <li>{@code mmap_other_locked}, {@code mmap_other_unlocked}, {@code munmap_other_locked} and {@code
 *       munmap_other_unlocked}: one mmap+munmap of mmap1 at 1 thread, split by the kernel's traced
 *       {@link LockShare} into the time under the mmap_lock and the time outside it, minus the steps
 *       modelled in each part ({@link #MMAP_LOCKED}, {@link #MMAP_UNLOCKED}, ...).
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
            "fault_entry_exit",
            1,
            "tlb_hit",
            2,
            "walk_level",
            12,
            "maple_node_visit",
            1,
            "atomic_local",
            3,
            "frame_alloc_pcp",
            1,
            "zero_page_4k",
            1,
            "pte_update",
            1);

    /** A pcp refill: one batch from the buddy lists, and the zone->lock RMW that takes it. */
    public static final Map<String, Integer> PCP_REFILL = steps("frame_alloc_zone", 1, "atomic_local", 1);

    /** The modelled cost of one anonymous write fault: {@link #ANON_WRITE_FAULT} and a refill's share. */
    public static double anonWriteFaultNs(final MachineProfile p) {
        return modelled(p, ANON_WRITE_FAULT) + modelled(p, PCP_REFILL) / FrameAllocator.MAX_BATCH;
    }

    private static String describeAnonWriteFault() {
        return describe(ANON_WRITE_FAULT) + " + (" + describe(PCP_REFILL) + ") / " + FrameAllocator.MAX_BATCH;
    }

    /**
     * mmap of an anonymous range outside the lock's hold: syscall entry/exit and the two RMWs of
     * mmap_write_lock_killable and mmap_write_unlock (the mmap_lock tracepoints that delimit the
     * traced hold fire after the first and before the second).
     */
    public static final Map<String, Integer> MMAP_UNLOCKED = steps("syscall_entry_exit", 1, "atomic_local", 2);

    /** mmap under the write lock: the gap search and the store. */
    public static final Map<String, Integer> MMAP_LOCKED = steps("maple_node_visit", 3);

    /** munmap of an untouched range outside the lock's hold: as {@link #MMAP_UNLOCKED}. */
    public static final Map<String, Integer> MUNMAP_UNLOCKED = steps("syscall_entry_exit", 1, "atomic_local", 2);

    /** munmap under the lock: the walk and the erase. */
    public static final Map<String, Integer> MUNMAP_LOCKED = steps("maple_node_visit", 3);

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
    public static MachineProfile.Parameter faultOther(
            final MachineProfile p, final Spread measured, final String what) {
        return residual(
                measured.median(),
                anonWriteFaultNs(p),
                describeAnonWriteFault(),
                1,
                "fit: " + what + " " + measured.describe() + " per fault");
    }

    /**
     * The four mmap residuals from mmap1's measured cost per mmap+munmap pair and the kernel's share
     * of it under the mmap_lock: each call's locked part is its share of the pair, the time outside
     * the lock is split evenly between the two calls (the lock tracepoints do not say which call it
     * belongs to, and to another thread only the sum matters), and each part less its modelled steps.
     * Each source gives the whole arithmetic. With no {@code share} (no tracefs to trace the lock),
     * the whole residual is charged under the lock, half per call, and the sources say so.
     */
    public static Map<String, MachineProfile.Parameter> mmapOther(
            final MachineProfile p, final Spread measured, final LockShare share, final String what) {
        final String fit = "fit: " + what + " " + measured.describe() + " per mmap+munmap";
        final Map<String, MachineProfile.Parameter> out = new LinkedHashMap<>();
        if (share == null) {
            final Map<String, Integer> all = new LinkedHashMap<>();
            for (final Map<String, Integer> m : List.of(MMAP_UNLOCKED, MMAP_LOCKED, MUNMAP_UNLOCKED, MUNMAP_LOCKED)) {
                m.forEach((k, v) -> all.merge(k, v, Integer::sum));
            }
            final String why = fit + "; the lock's share was not traced (no writable tracefs with the mmap_lock"
                    + " events), so all of it is charged under the lock";
            final MachineProfile.Parameter half = residual(measured.median(), modelled(p, all), describe(all), 2, why);
            out.put("mmap_other_unlocked", new MachineProfile.Parameter(0, "ns", why + "; none outside it"));
            out.put("mmap_other_locked", half);
            out.put("munmap_other_unlocked", new MachineProfile.Parameter(0, "ns", why + "; none outside it"));
            out.put("munmap_other_locked", half);
            return out;
        }
        final double m = measured.median();
        final double outside = (1 - share.locked()) * m;
        final String shares =
                String.format(Locale.ROOT, "; under the mmap_lock: %s of the pair (%s)", share, share.source());
        final String unlocked = String.format(
                Locale.ROOT,
                "%s%s; outside the lock %.3f of the pair, %.1f ns, half per call",
                fit,
                shares,
                1 - share.locked(),
                outside);
        out.put(
                "mmap_other_unlocked",
                residual(outside / 2, modelled(p, MMAP_UNLOCKED), describe(MMAP_UNLOCKED), 1, unlocked));
        out.put(
                "mmap_other_locked",
                residual(
                        share.mmap() * m,
                        modelled(p, MMAP_LOCKED),
                        describe(MMAP_LOCKED),
                        1,
                        String.format(
                                Locale.ROOT,
                                "%s%s; mmap's %.3f is %.1f ns",
                                fit,
                                shares,
                                share.mmap(),
                                share.mmap() * m)));
        out.put(
                "munmap_other_unlocked",
                residual(outside / 2, modelled(p, MUNMAP_UNLOCKED), describe(MUNMAP_UNLOCKED), 1, unlocked));
        out.put(
                "munmap_other_locked",
                residual(
                        share.munmap() * m,
                        modelled(p, MUNMAP_LOCKED),
                        describe(MUNMAP_LOCKED),
                        1,
                        String.format(
                                Locale.ROOT,
                                "%s%s; munmap's %.3f is %.1f ns",
                                fit,
                                shares,
                                share.munmap(),
                                share.munmap() * m)));
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
            s.append(String.format(
                    Locale.ROOT,
                    "; the steps exceed the measurement by %.1f ns, so the residual is 0",
                    -rest * shares));
            return new MachineProfile.Parameter(0, "ns", s.toString());
        }
        return new MachineProfile.Parameter(
                round1(rest),
                "ns",
                s.append(String.format(Locale.ROOT, " = %.1f ns", rest)).toString());
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
