package dev.vmsim.core.lock;

/**
 * How an mm's page faults are locked: configuration of an mm, not a fork of the code. Together the
 * modes show the per-VMA lock's history side by side: none (mmap_lock only), the rw_semaphore of
 * 6.4-6.14 in both of its layouts, the vm_refcnt of 6.15 onwards, and the 2026 waiting variant.
 */
public enum LockingMode {
    /** CONFIG_PER_VMA_LOCK=n: the VMA-lock calls are no-ops and the per-VMA attempt always fails. */
    MMAP_ONLY("mmap-only", VmaLockLayout.NONE),
    /** The kernel today (6.15+): vm_refcnt; lock_vma_under_rcu first, fall back to the mmap lock. */
    PER_VMA("per-vma", VmaLockLayout.REFCOUNT_OWN_LINE),
    /** The 2026 helper lock_vma_under_rcu_wait: wait for the VMA lock instead of falling back. */
    PER_VMA_WAIT("per-vma-wait", VmaLockLayout.REFCOUNT_OWN_LINE),
    /**
     * 6.4 to 6.14: the per-VMA lock is an rw_semaphore in a separate vma_lock object; vma_start_read
     * is down_read_trylock(&vma->vm_lock->lock), vma_end_read is up_read (see {@link VmaRwsem}).
     */
    PER_VMA_RWSEM("per-vma-rwsem", VmaLockLayout.RWSEM_SEPARATE_OBJECT),
    /** The first series (2023): the same rw_semaphore protocol, the lock embedded in the VMA. */
    PER_VMA_RWSEM_EMBEDDED("per-vma-rwsem-embedded", VmaLockLayout.RWSEM_EMBEDDED);

    private final String cliName;
    private final VmaLockLayout layout;

    LockingMode(final String cliName, final VmaLockLayout layout) {
        this.cliName = cliName;
        this.layout = layout;
    }

    /** Where the per-VMA lock's words sit, for the cache-line model. */
    public VmaLockLayout vmaLockLayout() {
        return layout;
    }

    /** Is the per-VMA lock the 6.4-6.14 rw_semaphore (either layout) rather than vm_refcnt? */
    public boolean vmaLockIsRwsem() {
        return layout == VmaLockLayout.RWSEM_SEPARATE_OBJECT || layout == VmaLockLayout.RWSEM_EMBEDDED;
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
