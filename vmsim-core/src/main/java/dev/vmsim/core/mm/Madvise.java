package dev.vmsim.core.mm;

import dev.vmsim.core.lock.LockVma;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.pgtable.MmuGather;

/**
 * madvise(2) (mm/madvise.c). Modelled: MADV_NORMAL (no effect on the VMAs here, since
 * MADV_RANDOM/SEQUENTIAL are not modelled) and MADV_DONTNEED (zaps the PTEs: private data is
 * discarded and refaults as zero). Other advice values are EINVAL: a departure, documented.
 *
 * <p>Locking (get_lock_mode): MADV_DONTNEED is MADVISE_VMA_READ_LOCK, as in the kernel since 6.16
 * ("mm: use per_vma lock for MADV_DONTNEED"): try_vma_read_lock read-locks the one VMA covering the
 * range with lock_vma_under_rcu and zaps under that lock alone; a range not inside one VMA, or a
 * failed attempt, falls back to the mmap read lock. MADV_NORMAL takes the mmap read lock. Without
 * per-VMA locks ({@link LockingMode#MMAP_ONLY}) every call takes the mmap read lock.
 */
final class Madvise {
    private Madvise() {}

    static int madvise(final MmStruct mm, final long start, final long lenIn, final int behavior) {
        if (behavior != Mman.MADV_NORMAL && behavior != Mman.MADV_DONTNEED) {
            return -Errno.EINVAL;
        }
        if ((start & (mm.pageSize - 1)) != 0) {
            return -Errno.EINVAL;
        }
        final long len = mm.pageAlign(lenIn);
        if (lenIn != 0 && len == 0) {
            return -Errno.EINVAL;
        }
        final long end = start + len;
        if (Long.compareUnsigned(end, start) < 0) {
            return -Errno.EINVAL;
        }
        if (end == start) {
            return 0;
        }
        if (behavior == Mman.MADV_DONTNEED && mm.mmapLock().mode() != LockingMode.MMAP_ONLY) {
            final Vma vma = tryVmaReadLock(mm, start, end);
            if (vma != null) {
                try {
                    return visit(mm, vma, start, end, behavior);
                } finally {
                    VmaLock.endRead(vma);
                }
            }
        }
        // MADVISE_MMAP_READ_LOCK, and the fallback of MADVISE_VMA_READ_LOCK.
        mm.mmapLock().readLock();
        try {
            return walkVmas(mm, start, end, behavior);
        } finally {
            mm.mmapLock().readUnlock();
        }
    }

    /**
     * try_vma_read_lock: the VMA covering {@code start}, read-locked, if it also covers {@code end};
     * otherwise null with no lock held (the caller falls back to the mmap read lock).
     */
    private static Vma tryVmaReadLock(final MmStruct mm, final long start, final long end) {
        final Vma vma = LockVma.lockVmaUnderRcu(mm, start);
        if (vma == null) {
            return null;
        }
        if (Long.compareUnsigned(end, vma.vmEnd) > 0) {
            VmaLock.endRead(vma);
            return null;
        }
        return vma;
    }

    /** madvise_walk_vmas: applies the advice to each mapped part; ENOMEM if there was a hole. */
    private static int walkVmas(final MmStruct mm, final long start0, final long end, final int behavior) {
        long start = start0;
        int unmappedError = 0;
        Vma vma = mm.findVma(start);
        for (;;) {
            if (vma == null) {
                return -Errno.ENOMEM;
            }
            if (Long.compareUnsigned(start, vma.vmStart) < 0) {
                unmappedError = -Errno.ENOMEM;
                start = vma.vmStart;
                if (Long.compareUnsigned(start, end) >= 0) {
                    break;
                }
            }
            final long tmp = Long.compareUnsigned(end, vma.vmEnd) < 0 ? end : vma.vmEnd;
            final int error = visit(mm, vma, start, tmp, behavior);
            if (error != 0) {
                return error;
            }
            start = tmp;
            if (Long.compareUnsigned(start, end) >= 0) {
                break;
            }
            vma = mm.findVma(start);
        }
        return unmappedError;
    }

    private static int visit(final MmStruct mm, final Vma vma, final long start, final long end, final int behavior) {
        VmaLock.assertStabilised(vma); // the mmap read lock, or the VMA read lock of MADVISE_VMA_READ_LOCK
        if (behavior == Mman.MADV_NORMAL) {
            return 0;
        }
        // madvise_dontneed_free_valid_vma: no VM_PFNMAP, no VM_LOCKED.
        if ((vma.vmFlags & (VmFlags.VM_PFNMAP | VmFlags.VM_LOCKED)) != 0) {
            return -Errno.EINVAL;
        }
        // zap_page_range_single.
        final MmuGather tlb = new MmuGather(mm);
        mm.addRss(vma, -mm.pageTables().zapRange(start, end, tlb));
        tlb.finish();
        return 0;
    }
}
