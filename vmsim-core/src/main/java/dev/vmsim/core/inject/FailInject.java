package dev.vmsim.core.inject;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One machine's fault-injection attributes, a {@link FaultAttr} per {@link FailSite}: the debugfs
 * directories fail_page_alloc and failslab, and the maple tree's fail_prealloc, in one place. Each
 * instrumented allocation asks {@link #shouldFail} first and turns a yes into its ordinary
 * out-of-memory result (NO_FRAME, null, -ENOMEM), so the error paths run exactly as they would
 * under real memory pressure.
 *
 * <p>A seeded schedule ({@link #schedule}) fails a reproducible share of every site's calls; a
 * sweep ({@link #failNth}) fails the n-th call of one site. {@link #calls} counts the calls each
 * site has seen while an attribute is set, so a sweep knows how many there are to fail.
 *
 * <p><b>Cost when off.</b> {@link #shouldFail} is one plain load of the site's slot. <b>Context:</b>
 * set or clear attributes only while no allocation is in flight (the slots are plain fields, as
 * {@code FrameAllocator}'s fail_page_alloc field is); thread start or the test's own
 * synchronisation publishes them.
 */
public final class FailInject {
    private final FaultAttr[] attrs = new FaultAttr[FailSite.values().length];
    private final AtomicLongArray calls = new AtomicLongArray(FailSite.values().length);

    /** should_fail(attr, 1) for one call at {@code site}: false at once when the site has no attribute. */
    public boolean shouldFail(final FailSite site) {
        final FaultAttr attr = attrs[site.ordinal()];
        if (attr == null) {
            return false;
        }
        calls.incrementAndGet(site.ordinal());
        return attr.shouldFail(1);
    }

    /** Sets {@code site}'s attribute, or clears it with null. */
    public void set(final FailSite site, final FaultAttr attr) {
        attrs[site.ordinal()] = attr;
    }

    /** The attribute of {@code site}, or null when it is off. */
    public FaultAttr get(final FailSite site) {
        return attrs[site.ordinal()];
    }

    /** Clears every site's attribute and call count. */
    public void clear() {
        for (final FailSite s : FailSite.values()) {
            attrs[s.ordinal()] = null;
            calls.set(s.ordinal(), 0);
        }
    }

    /** Counts {@code site}'s calls from now on and fails none of them (a probe before a sweep). */
    public void count(final FailSite site) {
        calls.set(site.ordinal(), 0);
        set(site, FaultAttr.nth(0, 0));
    }

    /** Fails the call of {@code site} after {@code skip} passing ones, once; the call count restarts. */
    public void failNth(final FailSite site, final long skip) {
        calls.set(site.ordinal(), 0);
        set(site, FaultAttr.nth(skip, 1));
    }

    /** Calls {@code site} has seen since its attribute was last set by {@link #count} or {@link #failNth}. */
    public long calls(final FailSite site) {
        return calls.get(site.ordinal());
    }

    /**
     * A seeded failure schedule: every site fails about {@code percent}% of its calls, each site from
     * its own seed derived from {@code seed}, so a failing run replays from the one seed.
     */
    public void schedule(final long seed, final long percent) {
        for (final FailSite s : FailSite.values()) {
            set(s, FaultAttr.random(seed * 31 + s.ordinal(), percent, -1));
        }
    }

    /** Injected failures so far, per site that has an attribute. */
    public Map<FailSite, Long> failures() {
        final Map<FailSite, Long> m = new EnumMap<>(FailSite.class);
        for (final FailSite s : FailSite.values()) {
            final FaultAttr a = attrs[s.ordinal()];
            if (a != null) {
                m.put(s, a.failures());
            }
        }
        return m;
    }
}
