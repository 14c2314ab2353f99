package dev.vmsim.core.mm;

import dev.vmsim.core.Machine;
import dev.vmsim.core.cpu.MmCpumask;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.MmapLock;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.tree.MapleTree;

/**
 * An address space (struct mm_struct).
 *
 * <p>SKELETON: [3/6] adds the address-space operations (mmap, munmap, mprotect, mremap, madvise,
 * brk, fork), counters and validate().
 */
public class MmStruct {
    private final Machine machine;
    /** mm_mt: the VMA tree, written under the mmap write lock, read under RCU or the mmap lock. */
    protected final MapleTree<Vma> mmMt = new MapleTree<>(true);
    private final MmapLock mmapLock;
    private final PageTables pageTables;
    private final MmCpumask cpumask = new MmCpumask();

    public MmStruct(final Machine machine, final LockingMode mode) {
        this.machine = machine;
        this.mmapLock = new MmapLock(mode);
        this.pageTables = new PageTables(machine, machine.arch().pageTableFormat());
    }

    public final Machine machine() {
        return machine;
    }

    public final MmapLock mmapLock() {
        return mmapLock;
    }

    public final MapleTree<Vma> mmMt() {
        return mmMt;
    }

    /** The page tables (pgd and below). */
    public final PageTables pageTables() {
        return pageTables;
    }

    /** mm_cpumask. */
    public final MmCpumask cpumask() {
        return cpumask;
    }
}
