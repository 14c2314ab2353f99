package dev.vmsim.core.clock;

/**
 * One 64-byte cache line holding words that many CPUs write (an rwsem's count or owner, a VMA's
 * vm_refcnt, a page-table lock, zone->lock): the unit of the virtual clock's contention model
 * ({@link VirtualScheduler}). Kernel objects own their lines; which words share a line is the
 * object's layout (for the per-VMA lock, {@link dev.vmsim.core.lock.VmaLockLayout}).
 *
 * <p>The state is the virtual clock's, and only the CPU the virtual scheduler is running touches it,
 * so the fields are plain: the scheduler's baton hand-over (a volatile write read by the next
 * thread) orders each CPU's updates before the next CPU's. On the host clock a line is never
 * touched: {@link HostPlatform} ignores it.
 */
public final class CacheLine {
    /** What the line is, for attribution: "mmap_lock.count", "vma.vm_refcnt", "zone->lock". */
    final String name;
    /** The CPU holding the line modified or exclusive; -1 while it is only in memory. */
    int owner = -1;
    /** NUMA node whose memory backs the line: the node of its first writer; -1 before. */
    int home = -1;
    /** The end of the current transaction (ps): a write, or a read that fetched the line; one at a time. */
    long busyUntilPs;
    /** CPUs holding a shared copy since the last write (bit per CPU), or null. */
    long[] sharers;
    /** The statistics of this line's name in {@link #statsOf}: saves a map lookup per access. */
    VirtualScheduler.LineStats stats;

    VirtualScheduler statsOf;

    /**
     * @param name the line's place in the kernel's data, as the attribution reports it
     */
    public CacheLine(final String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** The CPU that wrote the line last, -1 if none (virtual clock only). */
    public int owner() {
        return owner;
    }

    boolean isSharer(final int cpu) {
        final long[] s = sharers;
        return s != null && (cpu >>> 6) < s.length && (s[cpu >>> 6] & (1L << cpu)) != 0;
    }

    void addSharer(final int cpu) {
        long[] s = sharers;
        if (s == null || (cpu >>> 6) >= s.length) {
            final long[] grown = new long[Math.max((cpu >>> 6) + 1, s == null ? 1 : s.length)];
            if (s != null) {
                System.arraycopy(s, 0, grown, 0, s.length);
            }
            sharers = s = grown;
        }
        s[cpu >>> 6] |= 1L << cpu;
    }

    @Override
    public String toString() {
        return name;
    }
}
