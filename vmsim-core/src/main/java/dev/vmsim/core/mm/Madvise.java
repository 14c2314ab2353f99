package dev.vmsim.core.mm;

import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.lock.LockVma;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.pgtable.MmuGather;

/**
 * madvise(2) (mm/madvise.c, Linux 6.18). Modelled: MADV_NORMAL (no effect on the VMAs here, since
 * MADV_RANDOM/SEQUENTIAL are not modelled), MADV_DONTNEED (zaps the PTEs: private data is discarded
 * and refaults as zero; guard markers stay), MADV_POPULATE_READ/WRITE (faults the range in through
 * the fault path, {@link Gup}) and MADV_GUARD_INSTALL/REMOVE (guard regions: PTE markers of {@link
 * dev.vmsim.core.swap.PteMarker} that make any access a fatal SIGSEGV without a VMA of their own),
 * and MADV_WIPEONFORK/KEEPONFORK (set or clear VM_WIPEONFORK through madvise_update_vma, splitting
 * or merging the VMA: a child forked later gets that range empty, guard markers included, since
 * dup_mmap copies no page table of such a VMA). Other advice values are EINVAL: a departure,
 * documented.
 *
 * <p>Locking (get_lock_mode): MADV_DONTNEED is MADVISE_VMA_READ_LOCK, as in the kernel since 6.16
 * ("mm: use per_vma lock for MADV_DONTNEED"): try_vma_read_lock read-locks the one VMA covering the
 * range with lock_vma_under_rcu and zaps under that lock alone; a range not inside one VMA, or a
 * failed attempt, falls back to the mmap read lock. MADV_POPULATE_*, MADV_GUARD_INSTALL and
 * MADV_GUARD_REMOVE are MADVISE_MMAP_READ_LOCK in 6.18 (6.19 moves the guard advice to the VMA read
 * lock; not modelled). MADV_WIPEONFORK/KEEPONFORK change vm_flags: MADVISE_MMAP_WRITE_LOCK,
 * taken killable (EINTR). MADV_NORMAL takes the mmap read lock (departure: the kernel's default
 * MADVISE_MMAP_WRITE_LOCK, which MADV_NORMAL needs only to change VM_RAND_READ/VM_SEQ_READ). Without
 * per-VMA locks ({@link LockingMode#MMAP_ONLY}) MADV_DONTNEED takes the mmap read lock at once.
 *
 * <p>Guard regions (madvise_guard_install): the VMA must pass is_valid_guard_vma (not VM_SPECIAL or
 * VM_HUGETLB, and for install not VM_LOCKED: EINVAL); install prepares the VMA's anon_vma (so that
 * vma_needs_copy copies its page tables at fork and the child inherits the markers; 6.18 does
 * this for every VMA, a shared one included), then walks the range setting a marker in each none
 * PTE. A populated PTE (a page, the zero page, a swap entry) ends the walk; the range is zapped
 * (keeping the markers already set: its data is discarded, as MADV_DONTNEED would) and walked
 * again, at most MAX_MADVISE_GUARD_RETRIES times before restart_syscall; the system call is then
 * restarted with the locks dropped ({@link #madvise}), or answers EINTR to a dying task.
 */
final class Madvise {
    /** MAX_MADVISE_GUARD_RETRIES. */
    static final int MAX_MADVISE_GUARD_RETRIES = 3;

    private Madvise() {}

    /**
     * do_madvise, restarted while it answers -ERESTARTNOINTR (the signal code's restart of a system
     * call that called restart_syscall: user space never sees that value); a task with a fatal
     * signal (a Java interrupt) is not restarted and gets -EINTR.
     */
    static int madvise(final MmStruct mm, final long start, final long lenIn, final int behavior) {
        for (; ; ) {
            final int ret = doMadvise(mm, start, lenIn, behavior);
            if (ret != -Errno.ERESTARTNOINTR) {
                return ret;
            }
            if (Thread.currentThread().isInterrupted()) {
                return -Errno.EINTR;
            }
        }
    }

    /** madvise_behavior_valid, for the advice modelled. */
    static boolean madviseBehaviorValid(final int behavior) {
        switch (behavior) {
            case Mman.MADV_NORMAL:
            case Mman.MADV_DONTNEED:
            case Mman.MADV_POPULATE_READ:
            case Mman.MADV_POPULATE_WRITE:
            case Mman.MADV_GUARD_INSTALL:
            case Mman.MADV_GUARD_REMOVE:
            case Mman.MADV_WIPEONFORK:
            case Mman.MADV_KEEPONFORK:
                return true;
            default:
                return false;
        }
    }

    /** get_lock_mode's MADVISE_MMAP_WRITE_LOCK, for the advice modelled: those that change vm_flags. */
    private static boolean updatesVmFlags(final int behavior) {
        return behavior == Mman.MADV_WIPEONFORK || behavior == Mman.MADV_KEEPONFORK;
    }

    private static boolean isMadvisePopulate(final int behavior) {
        return behavior == Mman.MADV_POPULATE_READ || behavior == Mman.MADV_POPULATE_WRITE;
    }

    private static int doMadvise(final MmStruct mm, final long start, final long lenIn, final int behavior) {
        if (!madviseBehaviorValid(behavior)) {
            return -Errno.EINVAL;
        }
        // check_input_range.
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
                    return visit(mm, null, new Vma[] {vma}, start, end, behavior);
                } finally {
                    VmaLock.endRead(vma);
                }
            }
        }
        if (updatesVmFlags(behavior)) {
            if (mm.mmapLock().writeLockKillable() != 0) {
                return -Errno.EINTR;
            }
            try {
                return walkVmas(mm, start, end, behavior);
            } finally {
                mm.mmapLock().writeUnlock();
            }
        }
        // MADVISE_MMAP_READ_LOCK, and the fallback of MADVISE_VMA_READ_LOCK.
        mm.mmapLock().readLock();
        try {
            return isMadvisePopulate(behavior)
                    ? madvisePopulate(mm, start, end, behavior)
                    : walkVmas(mm, start, end, behavior);
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

    /**
     * madvise_walk_vmas: applies the advice to each mapped part; ENOMEM if there was a hole. An
     * advice that changes vm_flags may split or merge the VMA it is given ({@code cur[0]} is then
     * the VMA that now covers the range), and the walk goes on after that one, as the kernel's.
     */
    private static int walkVmas(final MmStruct mm, final long start0, final long lastEnd, final int behavior) {
        long start = start0;
        int unmappedError = 0;
        Vma vma = mm.findVma(start);
        Vma prev = vma != null && Long.compareUnsigned(start, vma.vmStart) > 0
                ? vma
                : mm.vmaPrev(vma != null ? vma.vmStart : -1L);
        final Vma[] cur = new Vma[1];
        for (; ; ) {
            if (vma == null) {
                return -Errno.ENOMEM;
            }
            if (Long.compareUnsigned(start, vma.vmStart) < 0) {
                unmappedError = -Errno.ENOMEM;
                start = vma.vmStart;
                if (Long.compareUnsigned(start, lastEnd) >= 0) {
                    break;
                }
            }
            long end = Long.compareUnsigned(lastEnd, vma.vmEnd) < 0 ? lastEnd : vma.vmEnd;
            cur[0] = vma;
            final int error = visit(mm, prev, cur, start, end, behavior);
            if (error != 0) {
                return error;
            }
            vma = cur[0];
            prev = vma;
            if (Long.compareUnsigned(end, vma.vmEnd) < 0) {
                end = vma.vmEnd;
            }
            if (Long.compareUnsigned(end, lastEnd) >= 0) {
                break;
            }
            vma = mm.findVma(vma.vmEnd);
            start = end;
        }
        return unmappedError;
    }

    /** madvise_vma_behavior for the advice modelled, on {@code cur[0]} (which an update may replace). */
    private static int visit(
            final MmStruct mm, final Vma prev, final Vma[] cur, final long start, final long end, final int behavior) {
        final Vma vma = cur[0];
        VmaLock.assertStabilised(vma); // the mmap read lock, or the VMA read lock of MADVISE_VMA_READ_LOCK
        switch (behavior) {
            case Mman.MADV_GUARD_INSTALL:
                return madviseGuardInstall(mm, vma, start, end);
            case Mman.MADV_GUARD_REMOVE:
                return madviseGuardRemove(mm, vma, start, end);
            case Mman.MADV_DONTNEED:
                // madvise_dontneed_free_valid_vma: no VM_PFNMAP, no VM_LOCKED.
                if ((vma.vmFlags & (VmFlags.VM_PFNMAP | VmFlags.VM_LOCKED)) != 0) {
                    return -Errno.EINVAL;
                }
                zapPageRangeSingle(mm, vma, start, end);
                return 0;
            case Mman.MADV_WIPEONFORK:
                // Only anonymous private memory: a shmem object would be shared with the child anyway.
                if (vma.vmFile != null || (vma.vmFlags & VmFlags.VM_SHARED) != 0) {
                    return -Errno.EINVAL;
                }
                return madviseUpdateVma(mm, prev, cur, start, end, vma.vmFlags | VmFlags.VM_WIPEONFORK);
            case Mman.MADV_KEEPONFORK:
                return madviseUpdateVma(mm, prev, cur, start, end, vma.vmFlags & ~VmFlags.VM_WIPEONFORK);
            default:
                return 0;
        }
    }

    /**
     * madvise_update_vma: gives [start, end) of {@code cur[0]} the flags {@code newFlags}, splitting
     * or merging through vma_modify_flags; {@code cur[0]} becomes the VMA that covers the range. A
     * failed split is -EAGAIN, as madvise_vma_behavior maps -ENOMEM ("kernel resources temporarily
     * unavailable"). <b>Context:</b> mmap write lock.
     */
    private static int madviseUpdateVma(
            final MmStruct mm, final Vma prev, final Vma[] cur, final long start, final long end, final long newFlags) {
        final Vma vma = cur[0];
        if (vma.vmFlags == newFlags) {
            return 0;
        }
        final int[] err = {0};
        final Vma updated = VmaOps.modify(mm, prev, vma, start, end, newFlags, err);
        if (updated == null) {
            return err[0] == -Errno.ENOMEM ? -Errno.EAGAIN : err[0];
        }
        cur[0] = updated;
        VmaLock.startWrite(updated);
        updated.vmFlags = newFlags; // vm_flags is protected by the mmap write lock
        return 0;
    }

    /**
     * zap_page_range_single with no zap_details: unmaps the pages and frees the swap slots of
     * [start, end), keeping guard markers (no ZAP_FLAG_DROP_MARKER).
     */
    private static void zapPageRangeSingle(final MmStruct mm, final Vma vma, final long start, final long end) {
        final MmuGather tlb = new MmuGather(mm);
        mm.addRss(vma, -mm.pageTables().zapRange(start, end, 0, tlb));
        tlb.finish();
    }

    /** is_valid_guard_vma: no VM_SPECIAL or VM_HUGETLB mapping, and no VM_LOCKED one unless {@code allowLocked}. */
    static boolean isValidGuardVma(final Vma vma, final boolean allowLocked) {
        long disallowed = VmFlags.VM_SPECIAL | VmFlags.VM_HUGETLB;
        if (!allowLocked) {
            disallowed |= VmFlags.VM_LOCKED; // zapping a locked range is not allowed
        }
        return (vma.vmFlags & disallowed) == 0;
    }

    /** madvise_guard_install (see the class comment). <b>Context:</b> mmap read lock. */
    private static int madviseGuardInstall(final MmStruct mm, final Vma vma, final long start, final long end) {
        if (!isValidGuardVma(vma, false)) {
            return -Errno.EINVAL;
        }
        final int err = vma.anonVmaPrepare();
        if (err != 0) {
            return err;
        }
        for (int i = 0; i < MAX_MADVISE_GUARD_RETRIES; i++) {
            final int r = mm.pageTables().guardInstallRange(start, end);
            if (r <= 0) {
                return r;
            }
            zapPageRangeSingle(mm, vma, start, end);
            LockHooks.at("madvise_guard_install:after_zap"); // where a racing fault repopulates the range
        }
        return -Errno.ERESTARTNOINTR; // restart_syscall: faults keep repopulating the range
    }

    /** madvise_guard_remove: removal is allowed in an mlocked range, being non-destructive. */
    private static int madviseGuardRemove(final MmStruct mm, final Vma vma, final long start, final long end) {
        if (!isValidGuardVma(vma, true)) {
            return -Errno.EINVAL;
        }
        mm.pageTables().guardRemoveRange(start, end);
        return 0;
    }

    /**
     * madvise_populate: faults [start, end) in with {@link Gup#faultinPageRange} until done or an
     * error, which it passes on as the kernel's switch does (EINTR, EINVAL, EHWPOISON, EFAULT;
     * anything else ENOMEM). <b>Context:</b> mmap read lock (never dropped here: see {@link Gup}).
     */
    private static int madvisePopulate(final MmStruct mm, final long start0, final long end, final int behavior) {
        final boolean write = behavior == Mman.MADV_POPULATE_WRITE;
        long start = start0;
        while (Long.compareUnsigned(start, end) < 0) {
            final long pages = Gup.faultinPageRange(mm, start, end, write);
            if (pages < 0) {
                final int err = (int) -pages;
                return err == Errno.EINTR || err == Errno.EINVAL || err == Errno.EHWPOISON || err == Errno.EFAULT
                        ? (int) pages
                        : -Errno.ENOMEM;
            }
            start += pages << mm.pageShift;
        }
        return 0;
    }
}
