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
 * <h2>Reports</h2>
 * Every report is a {@link LockdepSplat} thrown <em>before</em> the lock word changes (so the lock
 * state is untouched) and kept in {@link #reports()}. Each names the two places involved, as
 * lockdep's splats do: the current stack, and the stack of the earlier acquisition or edge.
 * <ol>
 *   <li><b>possible recursive locking detected</b> (check_deadlock): a non-trylock acquire of a
 *       class (and subclass) the thread already holds: the same rwsem again (the mmap_lock taken
 *       under itself, a second down_read included, as lockdep has it for non-recursive readers),
 *       or a second lock of the class without a nesting annotation: {@code vma_start_write} on a
 *       VMA while holding any VMA read lock. {@link #acquire(LockClass, int, Object, Object,
 *       boolean, boolean, String) Subclasses} are the kernel's {@code *_nested(..., subclass)}.
 *   <li><b>mmap_lock under a VMA read lock of the same mm</b> (LOCK-04, §15 rule 3): flagged on
 *       the first occurrence even when no deadlock happens on this schedule. A trylock is allowed
 *       ({@code __vmf_anon_prepare}).
 *   <li><b>possible circular locking dependency</b> (check_noncircular): acquiring class B while
 *       holding A records the edge A→B; if a path B→…→A exists, the report names the new pair and
 *       the first edge of the old path with the stack saved when that edge was recorded.
 *   <li><b>bad unlock balance detected</b> (print_unlock_imbalance_bug): the release of a lock the
 *       thread does not hold (held by another task, or by nobody).
 *   <li><b>unbalanced unlock</b>: a release in the wrong mode (up_read of a write hold, up_write of
 *       a read hold), the DEBUG_RWSEMS owner check.
 *   <li><b>upgrade without a read hold</b>: mmap_upgrade_trylock by a thread that does not hold the
 *       lock for read.
 * </ol>
 *
 * <h2>Cost</h2>
 * Stacks are captured only when there is something to report (a splat) or a new edge enters the
 * order graph (once per class pair, as lockdep's save_trace). A held lock records no stack unless
 * the JVM runs with {@code -Dvmsim.lockdep.stacks=true}; without it a report prints the held lock's
 * class, mode and instance instead of its acquisition stack. What one acquire+release costs either
 * way is measured by {@code LockdepBench} in vmsim-bench (README, "Lockdep").
 *
 * <p>Departure: lockdep's chain cache (the hash of the held-lock chain that lets it skip known
 * chains) is replaced by a direct look-up of each (held class → new class) edge in the graph; with
 * at most a handful of locks held this is as cheap.
 */
public final class Lockdep {
    /** Read once: {@code -Dvmsim.lockdep=true}. */
    public static final boolean ENABLED = Boolean.getBoolean("vmsim.lockdep");
    /** Read once: {@code -Dvmsim.lockdep.stacks=true} records every acquisition's stack. */
    public static final boolean STACKS = ENABLED && Boolean.getBoolean("vmsim.lockdep.stacks");

    private static final String NOT_RECORDED = "(stack not recorded: run with -Dvmsim.lockdep.stacks=true)";

    /** One held lock (struct held_lock). */
    public static final class HeldLock {
        public final LockClass cls;
        /** Lockdep subclass ({@code *_nested}): 0 unless the acquisition was annotated. */
        public final int subclass;

        public final Object instance;
        /** The mm the lock belongs to (its MmapLock), or null. */
        public final Object mm;

        public final boolean shared;
        public final boolean trylock;
        /** Caller-supplied site, the acquisition stack under {@link #STACKS}, or null. */
        private final String site;

        HeldLock(
                final LockClass cls,
                final int subclass,
                final Object instance,
                final Object mm,
                final boolean shared,
                final boolean trylock,
                final String site) {
            this.cls = cls;
            this.subclass = subclass;
            this.instance = instance;
            this.mm = mm;
            this.shared = shared;
            this.trylock = trylock;
            this.site = site;
        }

        /** Where it was acquired: the caller-supplied site or stack, or a note that none was recorded. */
        public String site() {
            return site != null ? site : NOT_RECORDED;
        }

        HeldLock withShared(final boolean s) {
            return new HeldLock(cls, subclass, instance, mm, s, trylock, site);
        }

        @Override
        public String toString() {
            return cls + (subclass != 0 ? "/" + subclass : "") + (shared ? "(R)" : "(W)") + " "
                    + instance.getClass().getSimpleName() + "@"
                    + Integer.toHexString(System.identityHashCode(instance));
        }
    }

    /** A lockdep report; an AssertionError so that tests and -ea runs stop on it. */
    public static final class LockdepSplat extends AssertionError {
        private static final long serialVersionUID = 1L;

        LockdepSplat(final String msg) {
            super(msg);
        }
    }

    /** An order-graph edge: the held lock's site and the stack that acquired the second lock. */
    private record Edge(String fromSite, String toStack) {}

    /**
     * Turns the checks off at run time while {@link #ENABLED} (plain static: read only when lockdep
     * is on). For model checkers, whose every explored step would otherwise include lockdep's own
     * bookkeeping.
     */
    private static boolean suppressed;

    private static final ThreadLocal<ArrayList<HeldLock>> HELD = ThreadLocal.withInitial(ArrayList::new);
    /** The order graph: from → (to → edge). Grows once per class pair. */
    private static final Map<LockClass, Map<LockClass, Edge>> GRAPH = new ConcurrentHashMap<>();

    private static final List<String> REPORTS = new CopyOnWriteArrayList<>();

    private Lockdep() {}

    /** lock_acquire with no mm and a caller-supplied site (null: none). */
    public static void acquire(final LockClass cls, final Object instance, final boolean shared, final String site) {
        acquire(cls, 0, instance, null, shared, false, site);
    }

    /** lock_acquire, subclass 0. */
    public static void acquire(
            final LockClass cls,
            final Object instance,
            final Object mm,
            final boolean shared,
            final boolean trylock,
            final String site) {
        acquire(cls, 0, instance, mm, shared, trylock, site);
    }

    /**
     * lock_acquire: validate, then push on the current thread's held stack. Call before waiting for
     * the lock (as the kernel does), so an inversion is reported even on a schedule that does not
     * deadlock; call {@link #release} if the acquisition then fails (killable wait interrupted).
     *
     * @param subclass the nesting subclass ({@code down_write_nested(sem, subclass)}), 0 if none
     * @param mm the mm the lock belongs to (its MmapLock), for the LOCK-04 rule; may be null
     * @param site caller-supplied acquisition site, or null (recorded as a stack under {@link #STACKS})
     */
    public static void acquire(
            final LockClass cls,
            final int subclass,
            final Object instance,
            final Object mm,
            final boolean shared,
            final boolean trylock,
            final String site) {
        if (!ENABLED || suppressed) {
            return;
        }
        final ArrayList<HeldLock> held = HELD.get();
        final HeldLock h = new HeldLock(
                cls, subclass, instance, mm, shared, trylock, site != null ? site : STACKS ? stack() : null);
        if (!trylock) {
            check(held, h);
        }
        held.add(h);
    }

    /** lock_release, any mode (VMA locks, plain classes). */
    public static void release(final LockClass cls, final Object instance) {
        if (!ENABLED || suppressed) {
            return;
        }
        release(HELD.get(), cls, instance, null);
    }

    /**
     * lock_release of an rwsem hold in a known mode: reports a release of a lock this thread does
     * not hold, and a release in the wrong mode, before anything changes.
     */
    public static void release(final LockClass cls, final Object instance, final boolean shared) {
        if (!ENABLED || suppressed) {
            return;
        }
        release(HELD.get(), cls, instance, shared);
    }

    private static void release(
            final ArrayList<HeldLock> held, final LockClass cls, final Object instance, final Boolean shared) {
        final int i = newestHeld(held, cls, instance);
        if (i < 0) {
            splat("WARNING: bad unlock balance detected!\n"
                    + "  " + Thread.currentThread().getName() + " is trying to release " + cls + " "
                    + describe(instance) + " which it does not hold (release of a lock that is not held)\n"
                    + "  release at:\n" + stack() + heldList(held));
        }
        final HeldLock h = held.get(i);
        if (shared != null && h.shared != shared) {
            splat("WARNING: unbalanced unlock: " + (shared ? "up_read" : "up_write") + " of " + h + ", held for "
                    + (h.shared ? "read" : "write") + "\n"
                    + "  acquired at:\n" + h.site() + "\n"
                    + "  released at:\n" + stack() + heldList(held));
        }
        held.remove(i);
    }

    /** lock_downgrade: the held entry of {@code instance} becomes shared. */
    public static void downgrade(final LockClass cls, final Object instance) {
        if (!ENABLED || suppressed) {
            return;
        }
        final ArrayList<HeldLock> held = HELD.get();
        final int i = newestHeld(held, cls, instance);
        if (i < 0 || held.get(i).shared) {
            splat("WARNING: downgrade of " + cls + " " + describe(instance)
                    + " which this thread does not hold for write\n" + "  at:\n" + stack() + heldList(held));
        }
        held.set(i, held.get(i).withShared(true));
    }

    /**
     * The check before an upgrade (mmap_upgrade_trylock): the thread must hold {@code instance} for
     * read. Reports "upgrade without a read hold" otherwise.
     */
    public static void checkUpgrade(final LockClass cls, final Object instance) {
        if (!ENABLED || suppressed) {
            return;
        }
        final ArrayList<HeldLock> held = HELD.get();
        final int i = newestHeld(held, cls, instance);
        if (i < 0 || !held.get(i).shared) {
            splat("WARNING: upgrade without a read hold: " + cls + " " + describe(instance)
                    + (i < 0 ? " is not held by this thread" : " is held for write") + "\n"
                    + "  upgrade at:\n" + stack() + heldList(held));
        }
    }

    /** lock_upgrade (vmsim only): the held entry becomes exclusive (after {@link #checkUpgrade}). */
    public static void upgrade(final LockClass cls, final Object instance) {
        if (!ENABLED || suppressed) {
            return;
        }
        final ArrayList<HeldLock> held = HELD.get();
        final int i = newestHeld(held, cls, instance);
        if (i >= 0) {
            held.set(i, held.get(i).withShared(false));
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

    /** check_prev_add for each held lock, after the recursion and LOCK-04 checks. */
    private static void check(final ArrayList<HeldLock> held, final HeldLock next) {
        final LockClass cls = next.cls;
        for (final HeldLock h : held) {
            if (h.cls == cls && h.subclass == next.subclass) {
                splat("WARNING: possible recursive locking detected\n"
                        + "  " + Thread.currentThread().getName() + " is trying to acquire " + next + "\n"
                        + (h.instance == next.instance ? "  which it already holds: " : "  but already holds ") + h
                        + "\n"
                        + "  acquired at:\n" + h.site() + "\n"
                        + "  requested at:\n" + stack() + heldList(held));
            }
            if (cls == LockClass.MMAP_LOCK
                    && h.cls == LockClass.VMA_LOCK
                    && h.shared
                    && next.mm != null
                    && h.mm == next.mm) {
                splat("mmap_lock taken while holding a VMA read lock of the same mm\n"
                        + "  VMA read lock taken at:\n" + h.site() + "\n"
                        + "  mmap_lock requested at:\n" + stack());
            }
        }
        for (final HeldLock h : held) {
            if (h.cls == cls) {
                continue; // nested same-class (subclass) acquisitions record no edge
            }
            final Map<LockClass, Edge> out = GRAPH.computeIfAbsent(h.cls, k -> new ConcurrentHashMap<>());
            if (out.containsKey(cls)) {
                continue;
            }
            final String here = next.site != null ? next.site : stack();
            final Edge reverse = findPath(cls, h.cls);
            if (reverse != null) {
                splat("possible circular locking dependency: " + h.cls + " -> " + cls + " inverts " + cls + " -> "
                        + h.cls + "\n"
                        + "  new: " + h.cls + " held since " + h.site() + "\n"
                        + "       " + cls + " requested at:\n" + here + "\n"
                        + "  old: " + cls + " held at " + reverse.fromSite + "\n"
                        + "       then " + h.cls + " at:\n" + reverse.toStack);
            }
            out.putIfAbsent(cls, new Edge(h.site(), here));
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

    private static String describe(final Object instance) {
        return instance.getClass().getSimpleName() + "@" + Integer.toHexString(System.identityHashCode(instance));
    }

    private static String heldList(final List<HeldLock> held) {
        final StringBuilder sb =
                new StringBuilder("\n  locks held by " + Thread.currentThread().getName() + ": " + held.size());
        for (final HeldLock h : held) {
            sb.append("\n    ").append(h);
        }
        return sb.toString();
    }

    private static final Set<String> IMPL_CLASSES = Set.of(
            "dev.vmsim.core.sync.Lockdep",
            "dev.vmsim.core.sync.Lockdep$HeldLock",
            "dev.vmsim.core.sync.RwSemaphore",
            "dev.vmsim.core.lock.MmapLock",
            "dev.vmsim.core.lock.VmaLock");
    private static final int STACK_DEPTH = 16;
    private static final StackWalker WALKER = StackWalker.getInstance();

    /** save_trace: the current stack from the first frame outside the lock implementation. */
    private static String stack() {
        return WALKER.walk(s -> {
            final StringBuilder sb = new StringBuilder();
            s.dropWhile(f -> IMPL_CLASSES.contains(f.getClassName()))
                    .limit(STACK_DEPTH)
                    .forEach(f -> sb.append("    ")
                            .append(f.getClassName())
                            .append('.')
                            .append(f.getMethodName())
                            .append(':')
                            .append(f.getLineNumber())
                            .append('\n'));
            return sb.length() == 0 ? "    ?\n" : sb.toString();
        });
    }
}
