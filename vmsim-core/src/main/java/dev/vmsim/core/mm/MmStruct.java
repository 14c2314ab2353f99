package dev.vmsim.core.mm;

import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.MmapLock;
import dev.vmsim.core.tree.MapleTree;

/**
 * An address space (struct mm_struct).
 *
 * <p>SKELETON: [3/6] adds the address-space operations, page tables, counters and validate().
 */
public class MmStruct {
    /** mm_mt: the VMA tree, written under the mmap write lock, read under RCU or the mmap lock. */
    protected final MapleTree<Vma> mmMt = new MapleTree<>(true);
    private final MmapLock mmapLock;

    public MmStruct(final LockingMode mode) {
        this.mmapLock = new MmapLock(mode);
    }

    public final MmapLock mmapLock() {
        return mmapLock;
    }

    public final MapleTree<Vma> mmMt() {
        return mmMt;
    }
}
