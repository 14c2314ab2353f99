package dev.vmsim.core.lock;

/** How an mm's page faults are locked: configuration of an mm, not a fork of the code. */
public enum LockingMode {
    /** CONFIG_PER_VMA_LOCK=n: the VMA-lock calls are no-ops and the per-VMA attempt always fails. */
    MMAP_ONLY("mmap-only"),
    /** The kernel today: lock_vma_under_rcu first, fall back to the mmap lock. */
    PER_VMA("per-vma"),
    /** The 2026 helper lock_vma_under_rcu_wait: wait for the VMA lock instead of falling back. */
    PER_VMA_WAIT("per-vma-wait");

    private final String cliName;

    LockingMode(final String cliName) {
        this.cliName = cliName;
    }

    /** The name used on the command line and in reports. */
    public String cliName() {
        return cliName;
    }

    /** Parses a command-line name; null if unknown. */
    public static LockingMode fromCliName(final String s) {
        for (final LockingMode m : values()) {
            if (m.cliName.equals(s)) {
                return m;
            }
        }
        return null;
    }
}
