package dev.vmsim.core.lock;

import java.util.List;

/**
 * Where the words a per-VMA read lock writes sit, line by line: the data the cache-line model needs
 * to decide which lock words move together and which share a line with fields every fault reads. A
 * property of the {@link LockingMode}, from the kernel versions the mode models.
 *
 * <p>Each {@link Line} lists the words that share one 64-byte cache line, lock words first; the
 * other fields are named only where a reader of the fault path touches them (vm_start, vm_end,
 * vm_flags, vm_lock_seq, vm_mm), since those are the ones a false share would slow down.
 */
public enum VmaLockLayout {
    /** CONFIG_PER_VMA_LOCK=n: no per-VMA lock word; every fault writes the mmap_lock instead. */
    NONE(List.of()),

    /**
     * 6.15 onwards: {@code refcount_t vm_refcnt ____cacheline_aligned_in_smp} inside the VMA (the VMA
     * cache is cache-aligned, 256 bytes per VMA), so the refcount is alone on its line; readers do
     * two RMWs on it per fault and store nothing else ("reimplement per-vma lock as a refcount",
     * v10, machine-profiles.md §6).
     */
    REFCOUNT_OWN_LINE(List.of(
            new Line("vma+0", List.of(), List.of("vm_start", "vm_end", "vm_mm", "vm_flags")),
            new Line("vma.vm_refcnt", List.of("vm_refcnt"), List.of()))),

    /**
     * 6.4 to 6.14: {@code struct vma_lock { struct rw_semaphore lock; }}, a separate 40-byte object
     * from the unaligned vma_lock slab, pointed to by {@code vma->vm_lock}. The rwsem's count and
     * owner share the object's line (and usually that line holds part of a neighbouring VMA's
     * vma_lock too); the VMA's own lines see no lock writes. Moved out of the VMA because "during
     * contention its count and owner fields are constantly updated ... causes constant cache line
     * bouncing" (commit 6638055b8f70, machine-profiles.md §6 [SB2]).
     */
    RWSEM_SEPARATE_OBJECT(List.of(
            new Line("vma+0", List.of(), List.of("vm_start", "vm_end", "vm_mm", "vm_flags", "vm_lock_seq", "vm_lock")),
            new Line(
                    "vma_lock",
                    List.of("count", "owner"),
                    List.of("osq", "wait_lock", "wait_list", "neighbour vma_lock")))),

    /**
     * The first per-VMA lock series (2023, up to 6.3 development): the rw_semaphore embedded in the
     * VMA, "placed on the cache line boundary so that its 'count' field falls into the first cache
     * line" (commit 0a1a9e2fe8e9, machine-profiles.md §6 [SB1]): the count shares the VMA's first
     * line with the fields every lookup reads, and the owner starts the next line.
     */
    RWSEM_EMBEDDED(List.of(
            new Line("vma+0", List.of("count"), List.of("vm_start", "vm_end", "vm_mm", "vm_flags", "vm_lock_seq")),
            new Line("vma+64", List.of("owner"), List.of("osq", "wait_lock", "wait_list"))));

    /**
     * One cache line: the lock words a read acquisition writes on it, and the other fields it holds.
     *
     * @param name where the line is ("vma+0": the VMA's first line; "vma_lock": the separate object)
     */
    public record Line(String name, List<String> lockWords, List<String> otherFields) {}

    private final List<Line> lines;

    VmaLockLayout(final List<Line> lines) {
        this.lines = lines;
    }

    /** The lines that matter to a reader, in address order. */
    public List<Line> lines() {
        return lines;
    }

    /** Do {@code a} and {@code b} (lock words) sit on the same line? */
    public boolean shareLine(final String a, final String b) {
        for (final Line l : lines) {
            if (l.lockWords().contains(a) && l.lockWords().contains(b)) {
                return true;
            }
        }
        return false;
    }

    /** Does lock word {@code word} share its line with a field the fault path reads? */
    public boolean sharesWithVmaFields(final String word) {
        for (final Line l : lines) {
            if (l.lockWords().contains(word) && l.name().startsWith("vma+")) {
                return true;
            }
        }
        return false;
    }
}
