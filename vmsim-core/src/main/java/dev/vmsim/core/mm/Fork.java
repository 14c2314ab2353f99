package dev.vmsim.core.mm;

import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.pgtable.MmuGather;
import java.util.List;

/** dup_mmap (mm/mmap.c, called from kernel/fork.c) and exit_mmap. */
final class Fork {
    private Fork() {}

    /**
     * dup_mmap: write-locks the parent mm (killable) and the child, then for every parent VMA
     * {@code vma_start_write} (BUG-02: per-VMA faulters on the parent are excluded while its page
     * tables are copied), copies the VMA and, where needed, the page tables with copy-on-write.
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
        final MmStruct mm = new MmStruct(oldmm);
        mm.mmapLock().writeLock();
        try {
            final List<Vma> vmas = oldmm.vmas();
            mm.totalVm = oldmm.totalVm;
            mm.dataVm = oldmm.dataVm;
            mm.execVm = oldmm.execVm;
            mm.stackVm = oldmm.stackVm;
            final MmuGather tlb = new MmuGather(oldmm);
            for (final Vma mpnt : vmas) {
                VmaLock.startWrite(mpnt);
                if ((mpnt.vmFlags & VmFlags.VM_DONTCOPY) != 0) {
                    mm.vmStatAccount(mpnt.vmFlags, -mpnt.pages(oldmm.pageShift));
                    continue;
                }
                final Vma tmp = VmaOps.dup(mpnt, mm);
                tmp.vmFlags &= ~(VmFlags.VM_LOCKED | VmFlags.VM_LOCKONFAULT);
                if ((mpnt.vmFlags & VmFlags.VM_WIPEONFORK) != 0) {
                    tmp.anonVma = null;
                    tmp.anonVmaChainLength = 0;
                } else if (mpnt.anonVma != null) {
                    // anon_vma_fork: the child gets its own anon_vma chained to the parent's.
                    tmp.anonVma = new AnonVma(mpnt.anonVma);
                    tmp.anonVmaChainLength = mpnt.anonVmaChainLength + 1;
                }
                VmaOps.storeNew(mm, tmp);
                mm.mapCount++;
                if (mpnt == oldmm.vdso) {
                    mm.vdso = tmp;
                }
                if ((mpnt.vmFlags & VmFlags.VM_WIPEONFORK) == 0
                        && (mpnt.anonVma != null
                                || (mpnt.vmFlags & (VmFlags.VM_PFNMAP | VmFlags.VM_MIXEDMAP)) != 0)) {
                    final int e = oldmm.pageTables().copyRange(mm.pageTables(), mpnt.vmStart, mpnt.vmEnd,
                            VmFlags.isCowMapping(mpnt.vmFlags), tlb);
                    if (e > 0) {
                        mm.addRss(mpnt, e);
                    }
                    if (e < 0) {
                        tlb.finish();
                        mm.mmapLock().writeUnlock();
                        mm.exitMmap();
                        return null;
                    }
                }
            }
            // The parent's PTEs of COW mappings were write-protected: flush its TLBs.
            tlb.finish();
        } finally {
            if (mm.mmapLock().isWriteLocked()) {
                mm.mmapLock().writeUnlock();
            }
            oldmm.mmapLock().writeUnlock();
        }
        return mm;
    }

    /** exit_mmap: zap everything under the read lock, then free tables and VMAs under the write lock. */
    static void exitMmap(final MmStruct mm) {
        mm.mmapLock().readLock();
        final List<Vma> vmas;
        try {
            vmas = mm.vmas();
            final MmuGather tlb = new MmuGather(mm);
            for (final Vma v : vmas) {
                mm.addRss(v, -mm.pageTables().zapRange(v.vmStart, v.vmEnd, tlb));
            }
            tlb.finish();
        } finally {
            mm.mmapLock().readUnlock();
        }
        mm.mmapLock().writeLock();
        try {
            final MmuGather tlb = new MmuGather(mm);
            if (!vmas.isEmpty()) {
                mm.pageTables().freePgtables(vmas.get(0).vmStart, vmas.get(vmas.size() - 1).vmEnd, 0, 0, tlb);
            }
            tlb.finish();
            for (final Vma v : mm.vmas()) {
                VmaLock.startWrite(v);
                VmaLock.markDetached(v);
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
