package dev.vmsim.core.pgtable;

import dev.vmsim.core.sync.Lockdep;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * The debug check on every store to a page-table entry (arm64's __check_safe_pte_update under
 * CONFIG_DEBUG_VM, and the break-before-make rule of the Arm ARM, D8.14.1): a store that replaces a
 * valid entry with another valid one is reported unless the architecture allows that change live
 * ({@link PageTableFormat#pgattrChangeIsSafe}). Changing the output address or the entry's type
 * needs break-before-make: clear the entry, invalidate the TLB, then write the new one.
 *
 * <p>Reported as lockdep reports: an {@link UnsafeUpdate} (an AssertionError) thrown before the
 * store, so the entry is unchanged, and kept in {@link #reports()}. The report names the VA the
 * entry maps (found by a walk of the mm's tables, only when reporting), its level, the old and new
 * descriptors, and the current stack.
 *
 * <p>On in the debug build ({@code -Dvmsim.lockdep=true}, which surefire sets, or
 * {@code -Dvmsim.debugvm=true}); {@link #ENABLED} is a static final, so otherwise the check folds
 * away. When on it costs one load of the old entry (none for a compare-and-set, which has it) and
 * one call that compares bits; nothing is allocated unless it reports.
 */
public final class SafePteUpdate {
    /** Read once: the debug build. */
    public static final boolean ENABLED = Lockdep.ENABLED || Boolean.getBoolean("vmsim.debugvm");

    private static final int STACK_FRAMES = 16;
    private static final List<String> REPORTS = new CopyOnWriteArrayList<>();

    private SafePteUpdate() {}

    /** A break-before-make violation; an AssertionError so that tests and -ea runs stop on it. */
    public static final class UnsafeUpdate extends AssertionError {
        private static final long serialVersionUID = 1L;
        private final long va;
        private final int level;
        private final long oldEntry;
        private final long newEntry;

        UnsafeUpdate(final String msg, final long va, final int level, final long oldEntry, final long newEntry) {
            super(msg);
            this.va = va;
            this.level = level;
            this.oldEntry = oldEntry;
            this.newEntry = newEntry;
        }

        /** The first VA the entry maps, or -1 if no table of the mm holds it. */
        public long va() {
            return va;
        }

        /** The entry's level (0 = PTE). */
        public int level() {
            return level;
        }

        public long oldEntry() {
            return oldEntry;
        }

        public long newEntry() {
            return newEntry;
        }
    }

    /** Throws the report for a store of {@code update} over {@code old} at {@code entryPa} of {@code pt}. */
    static void report(final PageTables pt, final long entryPa, final long old, final long update) {
        final long[] where = pt.entryVa(entryPa);
        final String stack = StackWalker.getInstance()
                .walk(s -> s.skip(2).limit(STACK_FRAMES).map(f -> "    " + f).collect(Collectors.joining("\n")));
        final String msg = String.format(
                "BUG: break-before-make violation: valid entry replaced by a valid one without an invalid entry"
                        + " and a TLBI in between%n  va 0x%x level %d, entry at pa 0x%x: 0x%016x -> 0x%016x (%s)%n%s",
                where[0], where[1], entryPa, old, update, pt.format().describe(update, (int) where[1]), stack);
        REPORTS.add(msg);
        throw new UnsafeUpdate(msg, where[0], (int) where[1], old, update);
    }

    /** Every report so far (oldest first). */
    public static List<String> reports() {
        return new ArrayList<>(REPORTS);
    }
}
