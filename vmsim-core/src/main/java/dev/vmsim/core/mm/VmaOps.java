package dev.vmsim.core.mm;

import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.inject.FailSite;
import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.rmap.AnonVmas;

/**
 * The VMA-tree write side of mm/vma.c: store/remove, __split_vma, vma_merge_new_range,
 * vma_merge_existing_range, vma_expand and vma_modify. Every caller holds the mmap write lock;
 * every VMA is write-locked ({@code vma_start_write}) before it changes, and a new VMA is
 * write-locked, then marked attached, then stored (vma_iter_store_new).
 */
final class VmaOps {
    /** VM_IGNORE_MERGE: VM_SOFTDIRTY (0 without CONFIG_MEM_SOFT_DIRTY, which we model as set). */
    static final long VM_IGNORE_MERGE = VmFlags.VM_SOFTDIRTY;

    private VmaOps() {}

    /** vma_iter_store_new: write-lock, mark attached, then publish in the tree. */
    static void storeNew(final MmStruct mm, final Vma vma) {
        mm.mmapLock().assertWriteLocked();
        if (!BugSwitches.on(Bug.BUG_07)) {
            VmaLock.startWrite(vma); // the BUG-07 fix: invisible to lockless faults until mmap_write_unlock
        }
        VmaLock.markAttached(vma);
        mm.mmMt.store(vma.vmStart, vma.vmEnd - 1, vma);
    }

    /** vma_iter_store_overwrite: re-stores an attached VMA whose range changed. */
    static void storeOverwrite(final MmStruct mm, final Vma vma) {
        VmaLock.assertAttached(vma);
        mm.mmMt.store(vma.vmStart, vma.vmEnd - 1, vma);
    }

    /** Write-locks, removes from the tree, marks detached and frees one VMA (no accounting). */
    static void removeDetach(final MmStruct mm, final Vma vma) {
        mm.mmapLock().assertWriteLocked();
        VmaLock.startWrite(vma);
        mm.mmMt.store(vma.vmStart, vma.vmEnd - 1, null);
        VmaLock.markDetached(vma);
        free(mm, vma);
    }

    /**
     * vm_area_alloc: a detached VMA of {@code mm} from the machine's VMA cache, perhaps one just
     * freed that a lock-free reader still holds (typesafe-by-RCU).
     */
    static Vma alloc(final MmStruct mm) {
        if (mm.machine().failInject().shouldFail(FailSite.VMA_ALLOC)) {
            return null; // kmem_cache_alloc(vm_area_cachep) failing
        }
        return mm.machine().vmaCache().alloc(mm, 0, 0);
    }

    /** vm_area_dup (+ get_file): a detached copy from the VMA cache, lock state initialised; null on -ENOMEM. */
    static Vma dup(final Vma vma) {
        return dup(vma, vma.vmMm);
    }

    /**
     * vm_area_dup for {@code mm} (dup_mmap passes the child's): allocated for {@code mm}, so the lock
     * state vma_lock_init makes (vm_lock in the rw_semaphore modes) belongs to it; null on -ENOMEM.
     */
    static Vma dup(final Vma vma, final MmStruct mm) {
        final Vma n = alloc(mm);
        if (n == null) {
            return null;
        }
        n.copyFieldsFrom(vma);
        n.vmMm = mm;
        if (n.vmFile != null) {
            n.vmFile.get();
        }
        return n;
    }

    /**
     * vma_iter_prealloc (mas_preallocate): reserves the maple nodes the next tree store of {@code mm}
     * needs, so that the store cannot fail once the VMAs have started to change. The simulator's tree
     * allocates its path copy inside the store and never fails there; this is the point where the
     * kernel's allocation can fail (fail_prealloc), and every caller calls it before its first change.
     *
     * @return false on -ENOMEM
     */
    static boolean iterPrealloc(final MmStruct mm) {
        return !mm.machine().failInject().shouldFail(FailSite.MAPLE_NODE);
    }

    /**
     * vm_area_free: a detached VMA goes back to the machine's VMA cache and may be handed out again
     * at once. The caller holds no further reference to it.
     */
    static void free(final MmStruct mm, final Vma vma) {
        AnonVmas.unlinkAnonVmas(vma); // a no-op when free_pgtables already unlinked it
        mm.machine().vmaCache().free(vma);
    }

    /** vma_close (remove_vma's first step): runs vm_ops->close, if the VMA has one. */
    static void close(final Vma vma) {
        if (vma.vmOps != null && vma.vmOps.close != null) {
            vma.vmOps.close.accept(vma);
        }
    }

    /** can_merge_remove_vma: a merge may delete a VMA only if it has no vm_ops->close. */
    static boolean canMergeRemoveVma(final Vma vma) {
        return vma.vmOps == null || vma.vmOps.close == null;
    }

    /** remove_vma's fput: drops the VMA's reference on its shmem file. */
    static void fput(final MmStruct mm, final Vma vma) {
        if (vma.vmFile != null) {
            vma.vmFile.put(mm.machine().frames(), 0);
        }
    }

    static long pages(final MmStruct mm, final long start, final long end) {
        return (end - start) >>> mm.pageShift;
    }

    /** split_vma: __split_vma with the max_map_count check. */
    static int splitVma(final MmStruct mm, final Vma vma, final long addr, final boolean newBelow) {
        if (mm.mapCount >= mm.maxMapCount) {
            return -Errno.ENOMEM;
        }
        return splitVmaNoCheck(mm, vma, addr, newBelow);
    }

    /**
     * __split_vma (mm/vma.c): splits {@code vma} at {@code addr}; the new VMA is the part below addr
     * if {@code newBelow}, else the part above. {@code vma} keeps the other part. 0 or -errno.
     */
    static int splitVmaNoCheck(final MmStruct mm, final Vma vma, final long addr, final boolean newBelow) {
        final Vma n = dup(vma);
        if (n == null) {
            return -Errno.ENOMEM;
        }
        if (!iterPrealloc(mm)) {
            fput(mm, n);
            free(mm, n);
            return -Errno.ENOMEM; // out_free_vma: nothing has changed yet
        }
        if (newBelow) {
            n.vmEnd = addr;
        } else {
            n.vmStart = addr;
            n.vmPgoff += (addr - vma.vmStart) >>> mm.pageShift;
        }
        AnonVmas.anonVmaClone(n, vma); // after its range is set, as __split_vma orders it
        if (n.vmOps != null && n.vmOps.open != null) {
            n.vmOps.open.accept(n);
        }
        VmaLock.startWrite(vma);
        VmaLock.startWrite(n);
        // vma_prepare: the anon_vma lock excludes rmap walks while vm_start / vm_pgoff change.
        final AnonVma anonVma = vma.anonVma;
        if (anonVma != null) {
            anonVma.lockWrite();
        }
        try {
            if (newBelow) {
                vma.vmPgoff += (addr - n.vmStart) >>> mm.pageShift;
                vma.vmStart = addr;
            } else {
                vma.vmEnd = addr;
            }
        } finally {
            if (anonVma != null) {
                anonVma.unlockWrite();
            }
        }
        // vma_complete: store the new VMA (over part of the old entry) and count it.
        VmaLock.markAttached(n);
        mm.mmMt.store(n.vmStart, n.vmEnd - 1, n);
        mm.mapCount++;
        return 0;
    }

    /** The state of one merge attempt (struct vma_merge_struct). */
    static final class Vmg {
        Vma prev;
        Vma middle;
        Vma next;
        long start;
        long end;
        long flags;
        long pgoff;
        ShmemFile file;
        AnonVma anonVma;
        /** copy_vma's source, for the fork-child check. */
        Vma copiedFrom;
        /** vma_merge_new_range's just-expand mode: do not merge with next. */
        boolean justExpand;
        /** VMA_MERGE_ERROR_NOMEM: the merge was possible but vma_iter_prealloc failed; nothing changed. */
        boolean nomem;
        /** vmg->state: the outcome of the last merge attempt. */
        MergeState state = MergeState.START;
    }

    /** enum vma_merge_state. */
    enum MergeState {
        START,
        ERROR_NOMEM,
        NOMERGE,
        SUCCESS
    }

    private static boolean isMergeableVma(final Vmg vmg, final Vma vma) {
        if (((vma.vmFlags ^ vmg.flags) & ~VM_IGNORE_MERGE) != 0) {
            return false;
        }
        return vma.vmFile == vmg.file;
    }

    private static boolean isMergeableAnonVma(final Vmg vmg, final Vma tgt) {
        final AnonVma tgtAnon = tgt.anonVma;
        final AnonVma srcAnon = vmg.anonVma;
        if (tgtAnon == null && srcAnon != null) {
            if (vmg.middle != null && vmg.middle.isForkChild()) {
                return false;
            }
            return vmg.copiedFrom == null || !vmg.copiedFrom.isForkChild();
        }
        if (tgtAnon != null && srcAnon == null) {
            return !tgt.isForkChild();
        }
        return srcAnon == tgtAnon;
    }

    /** can_vma_merge_before: the range may go in front of next. */
    private static boolean canMergeBefore(final MmStruct mm, final Vmg vmg) {
        final long pglen = pages(mm, vmg.start, vmg.end);
        return isMergeableVma(vmg, vmg.next)
                && isMergeableAnonVma(vmg, vmg.next)
                && vmg.next.vmPgoff == vmg.pgoff + pglen;
    }

    /** can_vma_merge_after: the range may go after prev. */
    private static boolean canMergeAfter(final MmStruct mm, final Vmg vmg) {
        return isMergeableVma(vmg, vmg.prev)
                && isMergeableAnonVma(vmg, vmg.prev)
                && vmg.prev.vmPgoff + vmg.prev.pages(mm.pageShift) == vmg.pgoff;
    }

    private static boolean canMergeLeft(final MmStruct mm, final Vmg vmg) {
        return vmg.prev != null && vmg.prev.vmEnd == vmg.start && canMergeAfter(mm, vmg);
    }

    private static boolean canMergeRight(final MmStruct mm, final Vmg vmg, final boolean canMergeLeft) {
        final Vma next = vmg.next;
        if (next == null || vmg.end != next.vmStart || !canMergeBefore(mm, vmg)) {
            return false;
        }
        if (!canMergeLeft) {
            return true;
        }
        final Vma prev = vmg.prev;
        return prev.anonVma == null || next.anonVma == null || prev.anonVma == next.anonVma;
    }

    private static boolean special(final long flags) {
        return (flags & VmFlags.VM_SPECIAL) != 0;
    }

    /** dup_anon_vma: a target without an anon_vma takes the source's. */
    private static void dupAnonVma(final Vma dst, final Vma src) {
        if (src != null && src.anonVma != null && dst.anonVma == null) {
            dst.anonVma = src.anonVma;
            dst.anonVmaChainLength = src.anonVmaChainLength;
            AnonVmas.anonVmaClone(dst, src);
        }
    }

    /** Removes a VMA absorbed by a merge: detach after the survivor was re-stored (vma_complete). */
    private static void removeMerged(final MmStruct mm, final Vma vma) {
        VmaLock.markDetached(vma);
        mm.mapCount--;
        fput(mm, vma);
        free(mm, vma);
    }

    /**
     * vma_merge_new_range (mm/vma.c): tries to place the new range [start, end) by extending prev,
     * next, or both (removing next). Returns the VMA that now covers the range, or null (NOMERGE).
     */
    static Vma mergeNewRange(final MmStruct mm, final Vmg vmg) {
        vmg.state = MergeState.NOMERGE;
        if (special(vmg.flags) || (vmg.prev == null && vmg.next == null)) {
            return null;
        }
        final Vma prev = vmg.prev;
        final Vma next = vmg.next;
        if (prev != null && special(prev.vmFlags)) {
            vmg.prev = null;
        }
        if (next != null && special(next.vmFlags)) {
            vmg.next = null;
        }
        final boolean left = canMergeLeft(mm, vmg);
        boolean right = !vmg.justExpand && canMergeRight(mm, vmg, left);
        vmg.prev = prev;
        vmg.next = next;
        if (left && right && !canMergeRemoveVma(next)) {
            right = false; // next may not be deleted: reduce to extending prev (MERGE-08)
        }
        if (!left && !right) {
            return null;
        }
        long start = vmg.start;
        long end = vmg.end;
        long pgoff = vmg.pgoff;
        final Vma target;
        if (right) {
            end = next.vmEnd;
        }
        if (left) {
            start = prev.vmStart;
            pgoff = prev.vmPgoff;
            target = prev;
        } else {
            target = next;
        }
        final boolean removeNext = left && right;
        if (!iterPrealloc(mm)) {
            vmg.nomem = true;
            vmg.state = MergeState.ERROR_NOMEM;
            return null;
        }
        // vma_expand: lock everything that changes, then commit.
        VmaLock.startWrite(target);
        if (removeNext) {
            VmaLock.startWrite(next);
            dupAnonVma(target, next);
        }
        if (vmg.copiedFrom != null) {
            dupAnonVma(target, vmg.copiedFrom);
        }
        target.vmStart = start;
        target.vmEnd = end;
        target.vmPgoff = pgoff;
        storeOverwrite(mm, target);
        if (removeNext) {
            removeMerged(mm, next);
        }
        vmg.state = MergeState.SUCCESS;
        return target;
    }

    /**
     * vma_merge_existing_range (mm/vma.c): [start, end) lies inside vmg.middle and is being given
     * vmg.flags; merges it into prev and/or next where compatible, shrinking or deleting middle.
     * Returns the VMA now covering [start, end), or null (NOMERGE; nothing changed).
     */
    static Vma mergeExistingRange(final MmStruct mm, final Vmg vmg) {
        final Vma middle = vmg.middle;
        vmg.state = MergeState.NOMERGE;
        if (special(vmg.flags) || special(middle.vmFlags)) {
            return null;
        }
        final boolean leftSide = vmg.start == middle.vmStart;
        final boolean rightSide = vmg.end == middle.vmEnd;
        final Vma prev = vmg.prev != null && vmg.prev != middle && !special(vmg.prev.vmFlags) ? vmg.prev : null;
        final Vma next = rightSide ? mm.vmaNext(middle) : null;
        vmg.prev = leftSide ? prev : null;
        vmg.next = next != null && !special(next.vmFlags) ? next : null;
        final boolean mergeLeft = leftSide && canMergeLeft(mm, vmg);
        boolean mergeRight = rightSide && canMergeRight(mm, vmg, mergeLeft);
        if (!mergeLeft && !mergeRight) {
            vmg.prev = prev;
            return null;
        }
        // A merge over the whole of middle deletes it, which its vm_ops->close forbids (MERGE-07).
        if (leftSide && rightSide && !canMergeRemoveVma(middle)) {
            vmg.prev = prev;
            return null;
        }
        if (mergeLeft && mergeRight && !canMergeRemoveVma(vmg.next)) {
            mergeRight = false; // next may not be deleted: reduce to merging prev and middle
        }
        if (!iterPrealloc(mm)) { // commit_merge's vma_iter_prealloc, before the first change
            vmg.prev = prev;
            vmg.nomem = true;
            vmg.state = MergeState.ERROR_NOMEM;
            return null;
        }
        vmg.state = MergeState.SUCCESS;
        final long shift = mm.pageShift;
        if (mergeLeft && mergeRight) {
            final Vma p = vmg.prev;
            final Vma n = vmg.next;
            VmaLock.startWrite(p);
            VmaLock.startWrite(middle);
            VmaLock.startWrite(n);
            LockHooks.at("vma_merge_existing_range:locked");
            dupAnonVma(p, middle);
            dupAnonVma(p, n);
            p.vmEnd = n.vmEnd;
            storeOverwrite(mm, p);
            removeMerged(mm, middle);
            removeMerged(mm, n);
            return p;
        }
        if (mergeLeft) {
            final Vma p = vmg.prev;
            VmaLock.startWrite(p);
            VmaLock.startWrite(middle);
            LockHooks.at("vma_merge_existing_range:locked");
            dupAnonVma(p, middle);
            if (rightSide) {
                p.vmEnd = middle.vmEnd;
                storeOverwrite(mm, p);
                removeMerged(mm, middle);
            } else {
                middle.vmPgoff += (vmg.end - middle.vmStart) >>> shift;
                middle.vmStart = vmg.end;
                p.vmEnd = vmg.end;
                storeOverwrite(mm, p);
            }
            return p;
        }
        final Vma n = vmg.next;
        VmaLock.startWrite(middle);
        VmaLock.startWrite(n);
        LockHooks.at("vma_merge_existing_range:locked");
        dupAnonVma(n, middle);
        if (leftSide) {
            n.vmStart = middle.vmStart;
            n.vmPgoff = vmg.pgoff;
            storeOverwrite(mm, n);
            removeMerged(mm, middle);
        } else {
            middle.vmEnd = vmg.start;
            n.vmStart = vmg.start;
            n.vmPgoff = vmg.pgoff;
            storeOverwrite(mm, n);
        }
        return n;
    }

    /**
     * vma_modify (mm/vma.c): makes [start, end) of {@code vma} a VMA of its own, merging with a
     * neighbour when the new flags allow it, else splitting off the unchanged head and tail.
     * Returns that VMA or null with {@code err[0]} = -errno. {@code prev} is the VMA before
     * {@code vma} (or {@code vma} itself when start is inside it).
     */
    static Vma modify(
            final MmStruct mm,
            final Vma prev,
            final Vma vma,
            final long start,
            final long end,
            final long newFlags,
            final int[] err) {
        final Vmg vmg = new Vmg();
        vmg.prev = prev;
        vmg.middle = vma;
        vmg.start = start;
        vmg.end = end;
        vmg.flags = newFlags;
        vmg.pgoff = vma.vmPgoff + ((start - vma.vmStart) >>> mm.pageShift);
        vmg.file = vma.vmFile;
        vmg.anonVma = vma.anonVma;
        final Vma merged = mergeExistingRange(mm, vmg);
        if (merged != null) {
            return merged;
        }
        if (vmg.nomem) {
            err[0] = -Errno.ENOMEM;
            return null;
        }
        if (vma.vmStart < start) {
            final int e = splitVma(mm, vma, start, true);
            if (e != 0) {
                err[0] = e;
                return null;
            }
        }
        if (vma.vmEnd > end) {
            final int e = splitVma(mm, vma, end, false);
            if (e != 0) {
                err[0] = e;
                return null;
            }
        }
        return vma;
    }
}
