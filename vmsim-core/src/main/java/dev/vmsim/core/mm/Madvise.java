package dev.vmsim.core.mm;

import dev.vmsim.core.pgtable.MmuGather;

/**
 * madvise(2) (mm/madvise.c). Modelled: MADV_NORMAL (no effect on the VMAs here, since
 * MADV_RANDOM/SEQUENTIAL are not modelled) and MADV_DONTNEED (zaps the PTEs: private data is
 * discarded and refaults as zero). Other advice values are EINVAL: a departure, documented.
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
        // MADV_DONTNEED and MADV_NORMAL's walk run under the mmap read lock.
        mm.mmapLock().readLock();
        try {
            return walkVmas(mm, start, end, behavior);
        } finally {
            mm.mmapLock().readUnlock();
        }
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
