package dev.vmsim.core.sync;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The lock validator (kernel/locking/lockdep.c), reduced to what vmsim needs: a per-thread stack of
 * held locks, a global order graph between {@link LockClass lock classes}, and one mm-specific
 * rule.
 *
 * <p>On when the JVM runs with {@code -Dvmsim.lockdep=true} (surefire sets it). {@link #ENABLED} is
 * a static final read once, so with lockdep off every call site folds to nothing after JIT.
 *
 * <h2>Rules checked on every non-trylock acquire</h2>
 * <ol>
 *   <li><b>Order inversion.</b> Acquiring class B while holding class A records the edge A→B with
 *       both acquisition sites. If a path B→…→A already exists, the two orders can deadlock; the
 *       report names the site of the new pair and the sites of the first edge of the old path.
 *       Same-class nesting (two VMAs, two mms) records no edge: the kernel uses subclasses and
 *       nest locks for it.
 *   <li><b>mmap_lock under a VMA read lock of the same mm</b> (LOCK-04, §15 rule 3): flagged on
 *       the first occurrence even when no deadlock happens on this schedule. A trylock is allowed
 *       ({@code __vmf_anon_prepare}).
 * </ol>
 * A violation throws {@link LockdepSplat} before the lock is taken (so the lock state is untouched)
 * and is also kept in {@link #reports()}.
 *
 * <p>Cost when on: each acquisition without a caller-supplied site walks the stack once
 * (StackWalker) to name its site, about 2 µs; LockBench measures it. Off, nothing is left.
 *
 * <p>Departure: release of a lock the thread does not hold is ignored rather than reported ("bad
 * unlock balance"), because a simulated task may hand an rwsem read hold to another Java thread.
 */
public final class Lockdep {
    /** Read once: {@code -Dvmsim.lockdep=true}. */
    public static final boolean ENABLED = Boolean.getBoolean("vmsim.lockdep");

    /** One held lock (struct held_lock). */
    public static final class HeldLock {
        public final LockClass cls;
        public final Object instance;
        /** The mm the lock belongs to (its MmapLock), or null. */
        public final Object mm;
        public final boolean shared;
        public final boolean trylock;
        public final String site;

        HeldLock(
                final LockClass cls,
                final Object instance,
                final Object mm,
                final boolean shared,
                final boolean trylock,
                final String site) {
            this.cls = cls;
            this.instance = instance;
            this.mm = mm;
            this.shared = shared;
            this.trylock = trylock;
            this.site = site;
        }

        @Override
        public String toString() {
            return cls + (shared ? "(R)" : "(W)") + " at " + site;
        }
    }

    /** A lockdep report; an AssertionError so that tests and -ea runs stop on it. */
    public static final class LockdepSplat extends AssertionError {
        private static final long serialVersionUID = 1L;

        LockdepSplat(final String msg) {
            super(msg);
        }
    }

    private record Edge(String fromSite, String toSite) {}

    /**
     * Turns the checks off at run time while {@link #ENABLED} (plain static: read only when lockdep
     * is on). For model checkers, whose every explored step would otherwise include lockdep's own
     * bookkeeping.
     */
    private static boolean suppressed;

    private static final ThreadLocal<ArrayList<HeldLock>> HELD = ThreadLocal.withInitial(ArrayList::new);
    /** The order graph: from → (to → first sites seen). */
    private static final Map<LockClass, Map<LockClass, Edge>> GRAPH = new ConcurrentHashMap<>();

    private static final List<String> REPORTS = new CopyOnWriteArrayList<>();

    private Lockdep() {}

    /** lock_acquire with no mm and a captured site. */
    public static void acquire(final LockClass cls, final Object instance, final boolean shared, final String site) {
        acquire(cls, instance, null, shared, false, site);
    }

    /**
     * lock_acquire: validate, then push on the current thread's held stack. Call before waiting for
     * the lock (as the kernel does), so an inversion is reported even on a schedule that does not
     * deadlock; call {@link #release} if the acquisition then fails (killable wait interrupted).
     *
     * @param mm the mm the lock belongs to (its MmapLock), for the LOCK-04 rule; may be null
     * @param site caller-supplied acquisition site, or null to capture the caller's frame
     */
    public static void acquire(
            final LockClass cls,
            final Object instance,
            final Object mm,
            final boolean shared,
            final boolean trylock,
            final String site) {
        if (!ENABLED || suppressed) {
            return;
        }
        final String where = site != null ? site : callerSite();
        final ArrayList<HeldLock> held = HELD.get();
        if (!trylock) {
            check(held, cls, mm, where);
        }
        held.add(new HeldLock(cls, instance, mm, shared, trylock, where));
    }

    /** lock_release: pops the newest matching entry; a release of a lock not held is ignored. */
    public static void release(final LockClass cls, final Object instance) {
        if (!ENABLED || suppressed) {
            return;
        }
        final ArrayList<HeldLock> held = HELD.get();
        final int i = newestHeld(held, cls, instance);
        if (i >= 0) {
            held.remove(i);
        }
    }

    /** lock_downgrade: the held entry of {@code instance} becomes shared. */
    public static void downgrade(final LockClass cls, final Object instance) {
        if (!ENABLED || suppressed) {
            return;
        }
        setShared(HELD.get(), cls, instance, true);
    }

    /** lock_upgrade (vmsim only): the held entry becomes exclusive. */
    public static void upgrade(final LockClass cls, final Object instance) {
        if (!ENABLED || suppressed) {
            return;
        }
        setShared(HELD.get(), cls, instance, false);
    }

    /** Replaces the newest held entry of {@code instance} with one in the given mode; none held is ignored. */
    private static void setShared(
            final ArrayList<HeldLock> held, final LockClass cls, final Object instance, final boolean shared) {
        final int i = newestHeld(held, cls, instance);
        if (i >= 0) {
            final HeldLock h = held.get(i);
            held.set(i, new HeldLock(h.cls, h.instance, h.mm, shared, h.trylock, h.site));
        }
    }

    /** Index of the newest entry of {@code instance} in {@code held} (locks nest, so search from the top), or -1. */
    private static int newestHeld(final ArrayList<HeldLock> held, final LockClass cls, final Object instance) {
        for (int i = held.size() - 1; i >= 0; i--) {
            final HeldLock h = held.get(i);
            if (h.cls == cls && h.instance == instance) {
                return i;
            }
        }
        return -1;
    }

    /**
     * lock_is_held / lockdep_is_held_type: does the current thread hold {@code instance}?
     *
     * @param shared null for any mode, else the mode required
     */
    public static boolean isHeld(final LockClass cls, final Object instance, final Boolean shared) {
        for (final HeldLock h : HELD.get()) {
            if (h.cls == cls && h.instance == instance && (shared == null || shared == h.shared)) {
                return true;
            }
        }
        return false;
    }

    /** Does the current thread hold any lock of {@code cls} whose mm is {@code mm}? */
    public static boolean holdsClassOfMm(final LockClass cls, final Object mm) {
        for (final HeldLock h : HELD.get()) {
            if (h.cls == cls && h.mm == mm) {
                return true;
            }
        }
        return false;
    }

    /** A copy of the current thread's held stack, oldest first. */
    public static List<HeldLock> heldLocks() {
        return new ArrayList<>(HELD.get());
    }

    /** Every report so far (oldest first). */
    public static List<String> reports() {
        return new ArrayList<>(REPORTS);
    }

    /** Suspends (true) or resumes lockdep's bookkeeping; tests only (model checking). */
    public static void setSuppressed(final boolean s) {
        suppressed = s;
    }

    /** Is lockdep on and not suppressed? */
    public static boolean active() {
        return ENABLED && !suppressed;
    }

    /** Forgets the current thread's held locks (a test ending with locks deliberately held). */
    public static void resetCurrentThread() {
        HELD.get().clear();
    }

    /** Forgets the order graph and reports (tests that build deliberate inversions). */
    public static void resetGraph() {
        GRAPH.clear();
        REPORTS.clear();
    }

    private static void check(final ArrayList<HeldLock> held, final LockClass cls, final Object mm, final String where) {
        for (final HeldLock h : held) {
            if (cls == LockClass.MMAP_LOCK && h.cls == LockClass.VMA_LOCK && h.shared && mm != null && h.mm == mm) {
                splat("mmap_lock taken while holding a VMA read lock of the same mm\n"
                        + "  VMA read lock taken at: " + h.site + "\n"
                        + "  mmap_lock requested at: " + where);
            }
            if (h.cls == cls) {
                continue;
            }
            final Map<LockClass, Edge> out = GRAPH.computeIfAbsent(h.cls, k -> new ConcurrentHashMap<>());
            if (out.containsKey(cls)) {
                continue;
            }
            final Edge reverse = findPath(cls, h.cls);
            if (reverse != null) {
                splat("possible circular locking dependency: " + h.cls + " -> " + cls + " inverts " + cls + " -> "
                        + h.cls + "\n"
                        + "  new: " + h.cls + " held since " + h.site + ", " + cls + " requested at " + where + "\n"
                        + "  old: " + cls + " held at " + reverse.fromSite + " then " + reverse.toSite);
            }
            out.putIfAbsent(cls, new Edge(h.site, where));
        }
    }

    /** Breadth-first search from → … → to; returns the first edge of a path, or null. */
    private static Edge findPath(final LockClass from, final LockClass to) {
        final ArrayDeque<LockClass> work = new ArrayDeque<>();
        final Map<LockClass, Edge> firstEdge = new java.util.HashMap<>();
        final Set<LockClass> seen = new java.util.HashSet<>();
        work.add(from);
        seen.add(from);
        while (!work.isEmpty()) {
            final LockClass c = work.poll();
            final Map<LockClass, Edge> out = GRAPH.get(c);
            if (out == null) {
                continue;
            }
            for (final Map.Entry<LockClass, Edge> e : out.entrySet()) {
                final Edge first = c == from ? e.getValue() : firstEdge.get(c);
                if (e.getKey() == to) {
                    return first;
                }
                if (seen.add(e.getKey())) {
                    firstEdge.put(e.getKey(), first);
                    work.add(e.getKey());
                }
            }
        }
        return null;
    }

    private static void splat(final String msg) {
        REPORTS.add(msg);
        throw new LockdepSplat("lockdep: " + msg);
    }

    private static final Set<String> IMPL_CLASSES = Set.of(
            "dev.vmsim.core.sync.Lockdep",
            "dev.vmsim.core.sync.RwSemaphore",
            "dev.vmsim.core.lock.MmapLock",
            "dev.vmsim.core.lock.VmaLock");
    private static final StackWalker WALKER = StackWalker.getInstance();

    /** The first frame outside the lock implementation: the acquisition site. */
    private static String callerSite() {
        return WALKER.walk(s -> s.filter(f -> {
                            final String c = f.getClassName();
                            return !IMPL_CLASSES.contains(c);
                        })
                        .findFirst()
                        .map(f -> f.getClassName() + "." + f.getMethodName() + ":" + f.getLineNumber())
                        .orElse("?"));
    }
}
