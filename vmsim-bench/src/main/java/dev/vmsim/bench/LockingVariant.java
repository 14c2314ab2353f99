package dev.vmsim.bench;

import dev.vmsim.core.lock.LockingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One way of locking page faults that a run uses and a comparison shows as a column: a {@link
 * LockingMode} and the simulator options of the mmap_lock on top of it. Named
 * {@code MODE[+OPTION...]}, e.g. {@code per-vma} or {@code per-vma+upgrade}; every locking mode
 * takes every option, so a mode added to {@link LockingMode} is a column at once.
 *
 * <p>The one option today, {@value #UPGRADE}: the simulator's atomic mmap_lock upgrade in
 * lock_mm_and_find_vma, which the kernel does not have (its mmap_upgrade_trylock always fails).
 */
public final class LockingVariant {
    /** The suffix that turns the simulator's mmap_lock upgrade on. */
    public static final String UPGRADE = "upgrade";

    private final LockingMode mode;
    private final boolean mmapUpgrade;

    public LockingVariant(final LockingMode mode, final boolean mmapUpgrade) {
        this.mode = Objects.requireNonNull(mode);
        this.mmapUpgrade = mmapUpgrade;
    }

    /** {@code mode} as the kernel has it (no simulator option). */
    public static LockingVariant of(final LockingMode mode) {
        return new LockingVariant(mode, false);
    }

    /** Every locking mode as the kernel has it, in declaration order: compare's default columns. */
    public static List<LockingVariant> kernelModes() {
        final List<LockingVariant> out = new ArrayList<>();
        for (final LockingMode m : LockingMode.values()) {
            out.add(of(m));
        }
        return List.copyOf(out);
    }

    /**
     * Parses {@code MODE[+upgrade]}.
     *
     * @throws IllegalArgumentException naming what was wrong and what is accepted
     */
    public static LockingVariant parse(final String s) {
        final String[] parts = s.strip().split("\\+", -1);
        final LockingMode mode = LockingMode.fromCliName(parts[0]);
        if (mode == null) {
            throw new IllegalArgumentException("unknown locking mode '" + parts[0] + "' in '" + s
                    + "' (expected one of " + modeNames() + ", optionally followed by +" + UPGRADE + ")");
        }
        boolean upgrade = false;
        for (int i = 1; i < parts.length; i++) {
            if (!parts[i].equals(UPGRADE) || upgrade) {
                throw new IllegalArgumentException(
                        "unknown option '+" + parts[i] + "' in '" + s + "' (the one option is +" + UPGRADE + ", once)");
            }
            upgrade = true;
        }
        return new LockingVariant(mode, upgrade);
    }

    /** The locking modes' command-line names, comma-separated. */
    public static String modeNames() {
        final StringBuilder b = new StringBuilder();
        for (final LockingMode m : LockingMode.values()) {
            b.append(b.length() == 0 ? "" : ", ").append(m.cliName());
        }
        return b.toString();
    }

    public LockingMode mode() {
        return mode;
    }

    /** Is the simulator's atomic mmap_lock upgrade on? */
    public boolean mmapUpgrade() {
        return mmapUpgrade;
    }

    /** This variant, with the upgrade turned on if {@code on} (never off: {@code --mmap-upgrade} adds it to every column). */
    public LockingVariant withMmapUpgrade(final boolean on) {
        return on && !mmapUpgrade ? new LockingVariant(mode, true) : this;
    }

    /** {@code MODE[+upgrade]}: the name on the command line and in reports. */
    public String name() {
        return mmapUpgrade ? mode.cliName() + "+" + UPGRADE : mode.cliName();
    }

    @Override
    public boolean equals(final Object o) {
        return o instanceof LockingVariant
                && ((LockingVariant) o).mode == mode
                && ((LockingVariant) o).mmapUpgrade == mmapUpgrade;
    }

    @Override
    public int hashCode() {
        return mode.hashCode() * 31 + (mmapUpgrade ? 1 : 0);
    }

    @Override
    public String toString() {
        return name();
    }
}
