package dev.vmsim.core.mm;

import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.inject.FailSite;
import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.lock.MmapLock;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.pgtable.MmuGather;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.rmap.AnonVmas;
import java.util.List;

/** dup_mmap (mm/mmap.c, called from kernel/fork.c) and exit_mmap. */
final class Fork {
    private Fork() {}

    /**
     * dup_mmap: write-locks the parent mm (killable) and the child, then for every parent VMA
     * {@code vma_start_write_killable} (BUG-02: per-VMA faulters on the parent are excluded while its
     * page tables are copied; BUG-13: a fatal signal ends the wait for the VMA's readers), copies the
     * VMA and, where needed, the page tables with copy-on-write; a child that gets a swap entry joins
     * the swap mmlist. On a fatal signal or an allocation failure the child's tree gets the
     * XA_ZERO_ENTRY marker where the copy stopped and MMF_UNSTABLE ({@link #markFailure}), both locks
     * are dropped, the child goes to mmput (whose exit_mmap stops at the marker) and null is returned.
     *
     * <p>Only where vma_needs_copy says so (an anon_vma, or VM_PFNMAP/VM_MIXEDMAP) are the page
     * tables copied: a VMA without an anon_vma, a shared anonymous one included, is not, and the child
     * refaults its pages from the shmem file, so its Rss (RssShmem, smaps) starts at 0 there, as in
     * the kernel.
     */
    static MmStruct dupMmap(final MmStruct oldmm) {
        if (oldmm.mmapLock().writeLockKillable() != 0) {
            return null;
        }
        final MmStruct mm;
        try {
            mm = new MmStruct(oldmm);
        } catch (final OutOfMemoryError e) { // mm_alloc_pgd failing: thrown by PageTables, not the JVM
            oldmm.mmapLock().writeUnlock();
            return null;
        }
        mm.mmapLock().writeLockNested(MmapLock.SINGLE_DEPTH_NESTING);
        boolean failed = false;
        try {
            final List<Vma> vmas = oldmm.vmas();
            Vma failedAt = null; // mpnt at loop_out: where the marker goes
            mm.totalVm = oldmm.totalVm;
            mm.dataVm = oldmm.dataVm;
            mm.execVm = oldmm.execVm;
            mm.stackVm = oldmm.stackVm;
            final MmuGather tlb = new MmuGather(oldmm);
            for (final Vma mpnt : vmas) {
                if (!writeLockParentVma(mpnt)) {
                    failed = true; // -EINTR: a fatal signal while readers drained
                    failedAt = mpnt;
                    break;
                }
                if ((mpnt.vmFlags & VmFlags.VM_DONTCOPY) != 0) {
                    mm.vmStatAccount(mpnt.vmFlags, -mpnt.pages(oldmm.pageShift));
                    continue;
                }
                final Vma tmp = VmaOps.dup(mpnt, mm);
                if (tmp == null
                        || (mpnt.anonVma != null
                                && (mpnt.vmFlags & VmFlags.VM_WIPEONFORK) == 0
                                && mm.machine().failInject().shouldFail(FailSite.ANON_VMA))
                        || !VmaOps.iterPrealloc(mm)) {
                    // fail_nomem / fail_nomem_anon_vma_fork: the child, as far as it got, is torn down.
                    if (tmp != null) {
                        VmaOps.fput(mm, tmp);
                        VmaOps.free(mm, tmp);
                    }
                    failed = true;
                    failedAt = mpnt;
                    break;
                }
                tmp.vmFlags &= ~(VmFlags.VM_LOCKED | VmFlags.VM_LOCKONFAULT);
                if ((mpnt.vmFlags & VmFlags.VM_WIPEONFORK) != 0) {
                    tmp.anonVma = null; // the chain was never cloned: vm_area_dup copies no chain
                    tmp.anonVmaChainLength = 0;
                } else if (mpnt.anonVma != null) {
                    // anon_vma_fork: the child gets its own anon_vma chained to the parent's.
                    AnonVmas.anonVmaFork(tmp, mpnt);
                    tmp.anonVmaChainLength = mpnt.anonVmaChainLength + 1;
                }
                if (tmp.vmOps != null && tmp.vmOps.open != null) {
                    tmp.vmOps.open.accept(tmp);
                }
                LockHooks.at("dup_mmap:after_anon_vma_fork");
                VmaOps.storeNew(mm, tmp);
                mm.mapCount++;
                if (mpnt == oldmm.vdso) {
                    mm.vdso = tmp;
                }
                if ((mpnt.vmFlags & VmFlags.VM_WIPEONFORK) == 0
                        && (mpnt.anonVma != null || (mpnt.vmFlags & (VmFlags.VM_PFNMAP | VmFlags.VM_MIXEDMAP)) != 0)) {
                    final int e = oldmm.pageTables()
                            .copyRange(
                                    mm.pageTables(), mpnt.vmStart, mpnt.vmEnd, VmFlags.isCowMapping(mpnt.vmFlags), tlb);
                    if (e > 0) {
                        mm.addRss(mpnt, e);
                    }
                    if (mm.swapEnts() > 0) {
                        // copy_nonpresent_pte: the child may now hold swap entries, so swapoff must
                        // find it. Here after the VMA's tables rather than at its first swap PTE: no
                        // walker can see the difference, since both need the child's mmap lock.
                        mm.machine().mmlist().addChild(mm, oldmm);
                    }
                    if (e < 0) {
                        failed = true;
                        final int i = vmas.indexOf(mpnt);
                        failedAt = i + 1 < vmas.size() ? vmas.get(i + 1) : null; // mpnt = vma_next(&vmi)
                        break;
                    }
                }
            }
            if (failed) {
                markFailure(mm, failedAt);
            }
            // The parent's PTEs of COW mappings were write-protected: flush its TLBs.
            tlb.finish();
        } finally {
            mm.mmapLock().writeUnlock();
            oldmm.mmapLock().writeUnlock();
        }
        if (failed) {
            // dup_mm's free_pt: the half-built child goes to mmput after both locks are dropped. Its
            // exit_mmap runs there, or at the mmput of a swapoff that took a reference meanwhile.
            LockHooks.at("dup_mmap:before_mmput");
            mm.mmput();
            return null;
        }
        return mm;
    }

    /**
     * dup_mmap's loop_out on failure, as 6.18 has it: XA_ZERO_ENTRY over {@code mpnt}'s range marks
     * where the copy stopped, so exit_mmap stops there (MMF_OOM_SKIP: the OOM reaper must not walk
     * the broken tree either), and MMF_UNSTABLE tells other walkers (swapoff, BUG-09) to keep out.
     * With no {@code mpnt} (the last VMA failed after it was stored) there is no marker.
     *
     * <p>Departure: the child tree is built VMA by VMA, not by __mt_dup, so the range past the marker
     * is empty instead of holding the parent's VMAs; every walker stops at the marker, or (BUG-09)
     * fails on it, before it would reach them. (Later kernels tear the copied VMAs down inside
     * dup_mmap and leave no marker; 6.18 is modelled.) <b>Context:</b> both mmap write locks held.
     */
    private static void markFailure(final MmStruct mm, final Vma mpnt) {
        if (mpnt != null) {
            mm.mmMt.store(mpnt.vmStart, mpnt.vmEnd - 1, Vma.XA_ZERO_ENTRY);
            mm.oom().setOomSkip();
        }
        mm.setUnstable();
    }

    /**
     * The parent VMA's write lock for the copy: vma_start_write_killable, as dup_mmap has it since
     * 6.19; false on a fatal signal. With BUG-02 on no lock is taken; with BUG-13 on the wait is
     * uninterruptible (vma_start_write), so SIGKILL cannot end it.
     */
    private static boolean writeLockParentVma(final Vma mpnt) {
        if (BugSwitches.on(Bug.BUG_02)) {
            return true; // before the BUG-02 fix (fb49c455323f): faults on mpnt run during the copy
        }
        if (BugSwitches.on(Bug.BUG_13)) {
            VmaLock.startWrite(mpnt); // before the BUG-13 fix: TASK_UNINTERRUPTIBLE
            return true;
        }
        return VmaLock.startWriteKillable(mpnt) == 0;
    }

    /**
     * exit_mmap: zap everything under the read lock, then free tables and VMAs under the write lock.
     * Both walks end at an interrupted fork's XA_ZERO_ENTRY ({@link MmStruct#vmas}), as unmap_vmas,
     * free_pgtables and the removal loop do; the tree's destroy takes the marker with it.
     */
    static void exitMmap(final MmStruct mm) {
        mm.mmapLock().readLock();
        final List<Vma> vmas;
        try {
            vmas = mm.vmas();
            final MmuGather tlb = new MmuGather(mm);
            for (final Vma v : vmas) {
                mm.addRss(v, -mm.pageTables().zapRange(v.vmStart, v.vmEnd, PageTables.ZAP_FLAG_DROP_MARKER, tlb));
            }
            tlb.finish();
        } finally {
            mm.mmapLock().readUnlock();
        }
        mm.mmapLock().writeLock();
        try {
            final MmuGather tlb = new MmuGather(mm);
            if (!vmas.isEmpty()) {
                for (final Vma v : vmas) {
                    AnonVmas.unlinkAnonVmas(v); // free_pgtables: before the tables go
                }
                mm.pageTables().freePgtables(vmas.get(0).vmStart, vmas.get(vmas.size() - 1).vmEnd, 0, 0, tlb);
            }
            tlb.finish();
            for (final Vma v : mm.vmas()) {
                VmaLock.startWrite(v);
                VmaLock.markDetached(v);
                VmaOps.close(v); // remove_vma
                VmaOps.fput(mm, v);
                VmaOps.free(mm, v);
            }
            mm.mmMt.destroy();
            mm.mapCount = 0;
            mm.totalVm = 0;
            mm.dataVm = 0;
            mm.execVm = 0;
            mm.stackVm = 0;
            mm.lockedVm = 0;
            mm.vdso = null;
            mm.pageTables().destroy();
        } finally {
            mm.mmapLock().writeUnlock();
        }
        mm.machine().mmExited(mm);
    }
}
