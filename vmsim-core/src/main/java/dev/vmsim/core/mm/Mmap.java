package dev.vmsim.core.mm;

import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.fault.FaultFlags;
import dev.vmsim.core.fault.Memory;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.pgtable.MmuGather;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.rmap.AnonVmas;
import dev.vmsim.core.tree.MaState;
import java.util.ArrayList;
import java.util.List;

/**
 * mmap, munmap, get_unmapped_area and brk (mm/mmap.c, mm/vma.c, mm/util.c) for anonymous memory.
 */
final class Mmap {
    private Mmap() {}

    /** calc_vm_prot_bits. */
    static long calcVmProtBits(final int prot) {
        long f = 0;
        if ((prot & Mman.PROT_READ) != 0) {
            f |= VmFlags.VM_READ;
        }
        if ((prot & Mman.PROT_WRITE) != 0) {
            f |= VmFlags.VM_WRITE;
        }
        if ((prot & Mman.PROT_EXEC) != 0) {
            f |= VmFlags.VM_EXEC;
        }
        return f;
    }

    /** vm_mmap_pgoff → do_mmap, then mm_populate outside the lock. */
    static long mmap(final MmStruct mm, final long addr, final long len, final int prot, final int flags) {
        // The fitted residual (the work not modelled step by step) in its two parts, each where the
        // kernel spends it: the part outside the mmap_lock (ksys_mmap_pgoff, security_mmap_file,
        // the transition to and from user mode) before the lock, the part inside under it. The
        // split is the kernel's, traced at one thread (ResidualFit.LockShare).
        Platform.current().charge(Cost.MMAP_OTHER_UNLOCKED);
        if (mm.mmapLock().writeLockKillable() != 0) {
            return -Errno.EINTR;
        }
        final long[] populate = {0};
        final long ret;
        try {
            Platform.current().charge(Cost.MMAP_OTHER_LOCKED);
            ret = doMmap(mm, addr, len, prot, flags, populate);
        } finally {
            mm.mmapLock().writeUnlock();
        }
        if (!Errno.isError(ret) && populate[0] != 0) {
            mmPopulate(mm, ret, populate[0]);
        }
        return ret;
    }

    /** round_hint_to_min. */
    private static long roundHintToMin(final MmStruct mm, final long hint) {
        final long h = hint & -mm.pageSize;
        if (h != 0 && Long.compareUnsigned(h, mm.mmapMinAddr) < 0) {
            return mm.pageAlign(mm.mmapMinAddr);
        }
        return h;
    }

    /** do_mmap (mm/mmap.c) for MAP_ANONYMOUS; the mmap write lock is held. */
    static long doMmap(
            final MmStruct mm,
            final long addr0,
            final long len0,
            final int prot,
            final int flags0,
            final long[] populate) {
        long addr = addr0;
        int flags = flags0;
        if (len0 == 0) {
            return -Errno.EINVAL;
        }
        if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0) {
            flags |= Mman.MAP_FIXED;
        }
        if ((flags & Mman.MAP_FIXED) == 0) {
            addr = roundHintToMin(mm, addr);
        }
        final long len = mm.pageAlign(len0);
        if (len == 0) {
            return -Errno.ENOMEM;
        }
        // pgoff is 0 for anonymous memory: no EOVERFLOW possible.
        if (mm.mapCount > mm.maxMapCount) {
            return -Errno.ENOMEM;
        }
        addr = getUnmappedArea(mm, addr, len, flags);
        if (Errno.isError(addr)) {
            return addr;
        }
        if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0 && mm.findVmaIntersection(addr, addr + len) != null) {
            return -Errno.EEXIST;
        }
        long vmFlags = calcVmProtBits(prot) | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC;
        if ((flags & Mman.MAP_GROWSDOWN) != 0) {
            vmFlags |= VmFlags.VM_GROWSDOWN;
        }
        if ((flags & Mman.MAP_LOCKED) != 0) {
            vmFlags |= VmFlags.VM_LOCKED;
        }
        final long pgoff;
        ShmemFile file = null;
        // The anonymous half of do_mmap's switch: MAP_SHARED_VALIDATE validates flags against a
        // file's f_op, so without a file it is not a type at all and falls to the default (-EINVAL).
        switch (flags & Mman.MAP_TYPE) {
            case Mman.MAP_SHARED:
                if ((vmFlags & VmFlags.VM_GROWSDOWN) != 0) {
                    return -Errno.EINVAL;
                }
                pgoff = 0;
                vmFlags |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE;
                file = new ShmemFile(len);
                break;
            case Mman.MAP_PRIVATE:
                pgoff = addr >>> mm.pageShift;
                break;
            default:
                return -Errno.EINVAL;
        }
        if ((flags & Mman.MAP_NORESERVE) != 0) {
            vmFlags |= VmFlags.VM_NORESERVE;
        }
        final long ret = mmapRegion(mm, file, addr, len, vmFlags, pgoff);
        if (!Errno.isError(ret)
                && ((vmFlags & VmFlags.VM_LOCKED) != 0
                        || (flags & (Mman.MAP_POPULATE | Mman.MAP_NONBLOCK)) == Mman.MAP_POPULATE)) {
            populate[0] = len;
        }
        return ret;
    }

    /** accountable_mapping: private writable anonymous memory is charged (VM_ACCOUNT). */
    static boolean accountableMapping(final long vmFlags) {
        return (vmFlags & (VmFlags.VM_NORESERVE | VmFlags.VM_SHARED | VmFlags.VM_WRITE)) == VmFlags.VM_WRITE;
    }

    /**
     * __mmap_region (mm/vma.c): unmaps whatever [addr, addr+len) overlaps (gather + detach first,
     * PTEs cleared before the new VMA is visible, VMAs freed last), then merges with a neighbour
     * or stores a new, write-locked VMA.
     */
    static long mmapRegion(
            final MmStruct mm,
            final ShmemFile file,
            final long addr,
            final long len,
            final long vmFlags0,
            final long pgoff) {
        final long end = addr + len;
        long vmFlags = vmFlags0;
        // __mmap_prepare: gather the VMAs to replace.
        final Munmap vms = new Munmap(mm, addr, end);
        final Vma first = mm.findVmaIntersection(addr, end);
        if (first != null) {
            final int e = vms.gather(first);
            if (e != 0) {
                return e;
            }
            mm.mmMt.store(addr, end - 1, null);
        }
        if (accountableMapping(vmFlags)) {
            vmFlags |= VmFlags.VM_ACCOUNT;
        }
        // vms_clean_up_area: clear the old PTEs before anything new can be mapped there.
        vms.clearPtes();
        final VmaOps.Vmg vmg = new VmaOps.Vmg();
        vmg.start = addr;
        vmg.end = end;
        vmg.flags = vmFlags;
        vmg.pgoff = pgoff;
        vmg.file = null; // shmem_zero_setup attaches the file only after the merge attempt
        vmg.prev = mm.vmaPrev(addr);
        vmg.next = mm.findVma(end);
        if (vmg.prev != null && vmg.prev.vmEnd != addr) {
            vmg.prev = null;
        }
        if (vmg.next != null && vmg.next.vmStart != end) {
            vmg.next = null;
        }
        Vma vma = null;
        if (file == null) {
            vma = VmaOps.mergeNewRange(mm, vmg);
        }
        if (vma == null) {
            vma = VmaOps.alloc(mm);
            if (vma == null || !VmaOps.iterPrealloc(mm)) {
                // __mmap_new_vma failing after the old PTEs were cleared: vms_abort_munmap_vmas
                // cannot restore them, so it leaves a gap where the old mapping was (its
                // "old failure method"); with nothing replaced, nothing has changed.
                if (vma != null) {
                    VmaOps.free(mm, vma);
                }
                vms.complete(false);
                return -Errno.ENOMEM;
            }
            vma.vmStart = addr;
            vma.vmEnd = end;
            vma.vmFlags = vmFlags;
            vma.vmPgoff = pgoff;
            vma.vmFile = file;
            vma.vmPageProt = mm.machine().arch().pageTableFormat().vmGetPageProt(vmFlags);
            VmaOps.storeNew(mm, vma);
            mm.mapCount++;
        }
        // __mmap_complete: free the replaced VMAs, then account the new range.
        vms.complete(false);
        mm.vmStatAccount(vmFlags, len >>> mm.pageShift);
        if ((vmFlags & VmFlags.VM_LOCKED) != 0) {
            mm.lockedVm += len >>> mm.pageShift;
        }
        return addr;
    }

    /**
     * mm_populate → populate_vma_page_range: faults every page of [start, start+len) in through
     * the fault path under the mmap read lock, as get_user_pages does (write faults for private
     * writable VMAs, so they get their own pages and an anon_vma). Errors are ignored, as in the
     * kernel. faultin_page's flags: FOLL_WRITE becomes FAULT_FLAG_WRITE; populate is not FOLL_REMOTE
     * (it is the caller's own mm), so these are the task's own minor faults. Departure: no
     * FAULT_FLAG_ALLOW_RETRY (FOLL_UNLOCKABLE), since the anonymous fault path never drops the mmap
     * lock.
     */
    static void mmPopulate(final MmStruct mm, final long start, final long len) {
        final long end = start + len;
        long addr = start;
        while (Long.compareUnsigned(addr, end) < 0) {
            mm.mmapLock().readLock();
            try {
                final Vma vma = mm.findVma(addr);
                if (vma == null || Long.compareUnsigned(vma.vmStart, end) >= 0) {
                    return;
                }
                if (Long.compareUnsigned(addr, vma.vmStart) < 0) {
                    addr = vma.vmStart;
                }
                final long stop = Long.compareUnsigned(vma.vmEnd, end) < 0 ? vma.vmEnd : end;
                if ((vma.vmFlags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP)) != 0
                        || (vma.vmFlags & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC)) == 0) {
                    addr = stop;
                    continue;
                }
                int faultFlags = 0;
                if ((vma.vmFlags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED)) == VmFlags.VM_WRITE) {
                    faultFlags |= FaultFlags.FAULT_FLAG_WRITE;
                }
                for (; Long.compareUnsigned(addr, stop) < 0; addr += mm.pageSize) {
                    Memory.handleMmFault(vma, addr, faultFlags, PtRegs.KERNEL_UACCESS);
                }
            } finally {
                mm.mmapLock().readUnlock();
            }
        }
    }

    // ---- get_unmapped_area ----

    /** __get_unmapped_area for anonymous memory: an address or -errno. */
    static long getUnmappedArea(final MmStruct mm, final long addr, final long len, final int flags) {
        if (Long.compareUnsigned(len, mm.taskSize) > 0) {
            return -Errno.ENOMEM;
        }
        final long pmdSize = 1L << mm.pageTables().format().levelShift(1); // PMD_SIZE
        long a = 0;
        if ((flags & Mman.MAP_SHARED) == 0 && addr == 0 && (len & (pmdSize - 1)) == 0) {
            // Larger anonymous mappings are THP aligned (thp_get_unmapped_area_vmflags).
            a = thpGetUnmappedArea(mm, addr, len, flags, pmdSize);
        }
        if (a == 0) {
            a = getUnmappedAreaTopdown(mm, addr, len, flags);
        }
        if (Errno.isError(a)) {
            return a;
        }
        if (Long.compareUnsigned(a, mm.taskSize - len) > 0) {
            return -Errno.ENOMEM;
        }
        if ((a & (mm.pageSize - 1)) != 0) {
            return -Errno.EINVAL;
        }
        // security_mmap_addr → cap_mmap_addr.
        if (Long.compareUnsigned(a, mm.mmapMinAddr) < 0) {
            return -Errno.EPERM;
        }
        return a;
    }

    /**
     * __thp_get_unmapped_area (mm/huge_memory.c) for anonymous memory (pgoff 0): searches for
     * len + PMD_SIZE and returns a PMD-aligned address inside it, or 0 to fall back.
     */
    static long thpGetUnmappedArea(
            final MmStruct mm, final long addr, final long len, final int flags, final long size) {
        final long lenPad = len + size;
        if (Long.compareUnsigned(lenPad, len) < 0) {
            return 0;
        }
        long ret = getUnmappedAreaTopdown(mm, addr, lenPad, flags);
        if (Errno.isError(ret)) {
            return 0;
        }
        if (ret == addr) {
            return addr;
        }
        final long offSub = (0 - ret) & (size - 1);
        if (offSub == 0) {
            return ret + size; // MMF_TOPDOWN
        }
        ret += offSub;
        return ret;
    }

    /**
     * generic_get_unmapped_area_topdown / arch_get_unmapped_area_topdown. Above DEFAULT_MAP_WINDOW
     * (x86-64 LA57) only for a hint above it: such a hint lets the search end (arch_get_mmap_end) and
     * its top (mmap_base, arch_get_mmap_base) move up by TASK_SIZE - DEFAULT_MAP_WINDOW; any other
     * search, the bottom-up fallback included, stays inside the window. MAP_FIXED is limited by
     * TASK_SIZE only.
     */
    static long getUnmappedAreaTopdown(final MmStruct mm, final long addr0, final long len, final int flags) {
        final long aboveWindow = Long.compareUnsigned(addr0, mm.mapWindow) > 0 ? mm.taskSize - mm.mapWindow : 0;
        final long mmapEnd = (flags & Mman.MAP_FIXED) != 0 ? mm.taskSize : mm.mapWindow + aboveWindow;
        if (Long.compareUnsigned(len, mmapEnd - mm.mmapMinAddr) > 0) {
            return -Errno.ENOMEM;
        }
        if ((flags & Mman.MAP_FIXED) != 0) {
            return addr0;
        }
        if (addr0 != 0) {
            final long addr = mm.pageAlign(addr0);
            final Vma vma = mm.findVma(addr);
            final Vma prev = vma != null ? mm.vmaPrev(vma.vmStart) : mm.vmaPrev(-1L);
            if (Long.compareUnsigned(mmapEnd - len, addr) >= 0
                    && Long.compareUnsigned(addr, mm.mmapMinAddr) >= 0
                    && (vma == null || Long.compareUnsigned(addr + len, mm.vmStartGap(vma)) <= 0)
                    && (prev == null || Long.compareUnsigned(addr, mm.vmEndGap(prev)) >= 0)) {
                return addr;
            }
        }
        final long a = unmappedAreaTopdown(mm, len, mm.pageSize, mm.mmapBase + aboveWindow);
        if (!Errno.isError(a)) {
            return a;
        }
        // Fall back to a bottom-up search from TASK_UNMAPPED_BASE (mmap_legacy_base: a third of the window).
        return unmappedArea(mm, len, mm.pageAlign(mm.mapWindow / 3), mmapEnd);
    }

    /** unmapped_area_topdown (mm/vma.c): the highest gap of len in [low, high), keeping guard gaps. */
    static long unmappedAreaTopdown(final MmStruct mm, final long len, final long low0, final long high0) {
        final long low = Long.compareUnsigned(low0, mm.mmapMinAddr) < 0 ? mm.mmapMinAddr : low0;
        long high = high0;
        final MaState<Vma> mas = mm.mas(0);
        for (; ; ) {
            if (Long.compareUnsigned(high, low) <= 0 || mas.emptyAreaRev(low, high - 1, len) != 0) {
                return -Errno.ENOMEM;
            }
            final long gapEnd = mas.last + 1;
            final long gap = gapEnd - len;
            final Vma next = gapEnd == 0 ? null : mm.findVma(gapEnd);
            if (next != null && (next.vmFlags & VmFlags.VM_GROWSDOWN) != 0) {
                final long startGap = mm.vmStartGap(next);
                if (Long.compareUnsigned(startGap, gapEnd) < 0) {
                    high = startGap;
                    continue;
                }
            } else {
                final Vma prev = mm.vmaPrev(gapEnd);
                if (prev != null && Long.compareUnsigned(mm.vmEndGap(prev), gap) > 0) {
                    high = prev.vmStart;
                    continue;
                }
            }
            return gap;
        }
    }

    /** unmapped_area (mm/vma.c): the lowest gap of len in [low, high). */
    static long unmappedArea(final MmStruct mm, final long len, final long low0, final long high) {
        long low = Long.compareUnsigned(low0, mm.mmapMinAddr) < 0 ? mm.mmapMinAddr : low0;
        final MaState<Vma> mas = mm.mas(0);
        for (; ; ) {
            if (Long.compareUnsigned(high, low) <= 0 || mas.emptyArea(low, high - 1, len) != 0) {
                return -Errno.ENOMEM;
            }
            final long gap = mas.index;
            final Vma next = mm.findVma(gap);
            if (next != null
                    && (next.vmFlags & VmFlags.VM_GROWSDOWN) != 0
                    && Long.compareUnsigned(mm.vmStartGap(next), gap + len) < 0) {
                low = next.vmEnd;
                continue;
            }
            return gap;
        }
    }

    // ---- munmap ----

    /** __vm_munmap: takes the write lock, unmaps, downgrading to read for the PTE zap. */
    static int munmap(final MmStruct mm, final long start, final long len) {
        // As for mmap: the residual's part outside the mmap_lock before it. The kernel spends a little
        // of it after mmap_read_unlock (__mt_destroy); to the lock's other users only the sum matters.
        Platform.current().charge(Cost.MUNMAP_OTHER_UNLOCKED);
        if (mm.mmapLock().writeLockKillable() != 0) {
            return -Errno.EINTR;
        }
        final boolean[] unlocked = {false};
        try {
            // The part under the lock, charged under the write lock: the kernel spends part of it
            // under the read lock after mmap_write_downgrade, which excludes writers (mmap1's only
            // other lock users) as the write lock does.
            Platform.current().charge(Cost.MUNMAP_OTHER_LOCKED);
            return doVmiMunmap(mm, start, len, true, unlocked);
        } finally {
            if (!unlocked[0]) {
                mm.mmapLock().writeUnlock();
            }
        }
    }

    /**
     * do_vmi_munmap (mm/vma.c). With {@code unlock}, a successful unmap downgrades the lock to read
     * before zapping and releases it at the end ({@code unlocked[0]} is then true).
     */
    static int doVmiMunmap(
            final MmStruct mm, final long start, final long len0, final boolean unlock, final boolean[] unlocked) {
        if ((start & (mm.pageSize - 1)) != 0
                || Long.compareUnsigned(start, mm.taskSize) > 0
                || Long.compareUnsigned(len0, mm.taskSize - start) > 0) {
            return -Errno.EINVAL;
        }
        final long end = start + mm.pageAlign(len0);
        if (end == start) {
            return -Errno.EINVAL;
        }
        final Vma vma = mm.findVmaIntersection(start, end);
        if (vma == null) {
            return 0;
        }
        return doVmiAlignMunmap(mm, vma, start, end, unlock, unlocked);
    }

    /** do_vmi_align_munmap: gather (split, write-lock, detach) → clear tree → complete. */
    static int doVmiAlignMunmap(
            final MmStruct mm,
            final Vma vma,
            final long start,
            final long end,
            final boolean unlock,
            final boolean[] unlocked) {
        final Munmap vms = new Munmap(mm, start, end);
        final int e = vms.gather(vma);
        if (e != 0) {
            return e;
        }
        mm.mmMt.store(start, end - 1, null);
        vms.complete(unlock);
        if (unlock) {
            unlocked[0] = true;
        }
        return 0;
    }

    /**
     * struct vma_munmap_struct: the VMAs being unmapped, gathered into a private detached list.
     * The order is that of §14.3: write-lock → detach → tree removal → (downgrade) → PTE zap →
     * TLB flush → free pages/tables → free VMA objects.
     */
    static final class Munmap {
        final MmStruct mm;
        final long start;
        final long end;
        final List<Vma> detached = new ArrayList<>();
        long unmapStart;
        long unmapEnd;
        long nrPages;
        long lockedVm;
        long execVm;
        long stackVm;
        long dataVm;
        boolean ptesCleared;

        Munmap(final MmStruct mm, final long start, final long end) {
            this.mm = mm;
            this.start = start;
            this.end = end;
        }

        /** vms_gather_munmap_vmas: 0 or -errno (splits already done are kept, as in Linux). */
        int gather(final Vma first) {
            Vma vma = first;
            if (Long.compareUnsigned(start, vma.vmStart) > 0) {
                if (Long.compareUnsigned(end, vma.vmEnd) < 0 && mm.mapCount >= mm.maxMapCount) {
                    return -Errno.ENOMEM;
                }
                final int e = VmaOps.splitVmaNoCheck(mm, vma, start, true);
                if (e != 0) {
                    return e; // start_split_failed: nothing has changed
                }
            }
            // The split at end comes before any VMA is detached, so a failure leaves none detached.
            // The kernel splits it when the loop reaches it and reattaches the gathered VMAs on
            // failure (reattach_vmas): the same end state, the split at start kept.
            final Vma last = mm.vmaLookup(end - 1);
            if (last != null
                    && Long.compareUnsigned(last.vmEnd, end) > 0
                    && Long.compareUnsigned(last.vmStart, end) < 0) {
                final int e = VmaOps.splitVmaNoCheck(mm, last, end, false);
                if (e != 0) {
                    return e;
                }
            }
            final Vma prev = mm.vmaPrev(start);
            unmapStart = prev != null ? prev.vmEnd : 0;
            for (Vma next = mm.findVma(start);
                    next != null && Long.compareUnsigned(next.vmStart, end) < 0;
                    next = mm.findVma(next.vmEnd)) {
                VmaLock.startWrite(next);
                VmaLock.markDetached(next);
                detached.add(next);
                final long n = next.pages(mm.pageShift);
                nrPages += n;
                if ((next.vmFlags & VmFlags.VM_LOCKED) != 0) {
                    lockedVm += n;
                }
                if (MmStruct.isExecMapping(next.vmFlags)) {
                    execVm += n;
                } else if (MmStruct.isStackMapping(next.vmFlags)) {
                    stackVm += n;
                } else if (MmStruct.isDataMapping(next.vmFlags)) {
                    dataVm += n;
                }
                if (next.vmEnd == 0) {
                    break;
                }
            }
            final Vma next = mm.findVma(end);
            unmapEnd = next != null ? next.vmStart : 0; // USER_PGTABLES_CEILING
            return 0;
        }

        /** vms_clear_ptes → unmap_region: zap PTEs, free page tables, flush, free pages. */
        void clearPtes() {
            if (ptesCleared || detached.isEmpty()) {
                return;
            }
            ptesCleared = true;
            final MmuGather tlb = new MmuGather(mm);
            for (final Vma v : detached) {
                mm.addRss(v, -mm.pageTables().zapRange(v.vmStart, v.vmEnd, PageTables.ZAP_FLAG_DROP_MARKER, tlb));
            }
            final Vma firstV = detached.get(0);
            final Vma lastV = detached.get(detached.size() - 1);
            for (final Vma v : detached) {
                AnonVmas.unlinkAnonVmas(v); // free_pgtables: no rmap walk reaches the tables it frees
            }
            mm.pageTables().freePgtables(firstV.vmStart, lastV.vmEnd, unmapStart, unmapEnd, tlb);
            tlb.finish();
        }

        /** vms_complete_munmap_vmas: the point of no return. */
        void complete(final boolean unlock) {
            mm.writeVmCounters();
            mm.mapCount -= detached.size();
            mm.lockedVm -= lockedVm;
            if (unlock) {
                mm.mmapLock().writeDowngrade();
            }
            try {
                clearPtes();
                mm.totalVm -= nrPages;
                mm.execVm -= execVm;
                mm.stackVm -= stackVm;
                mm.dataVm -= dataVm;
                // remove_vma: vm_ops->close, drop file references and free the VMAs into the cache (reusable at once).
                for (final Vma v : detached) {
                    VmaOps.close(v);
                    VmaOps.fput(mm, v);
                    VmaOps.free(mm, v);
                }
                detached.clear();
            } finally {
                if (unlock) {
                    mm.mmapLock().readUnlock();
                }
            }
        }
    }

    // ---- brk ----

    /** VM_DATA_DEFAULT_FLAGS (non-exec data) for the brk area. */
    static final long VM_DATA_DEFAULT_FLAGS =
            VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC;

    /** SYSCALL_DEFINE1(brk) (mm/mmap.c): returns the new break, or the old one on failure. */
    static long brk(final MmStruct mm, final long brk) {
        if (mm.mmapLock().writeLockKillable() != 0) {
            return -Errno.EINTR;
        }
        boolean locked = true;
        final long origbrk = mm.brk;
        try {
            if (Long.compareUnsigned(brk, mm.startBrk) < 0) {
                return origbrk;
            }
            final long newbrk = mm.pageAlign(brk);
            final long oldbrk = mm.pageAlign(mm.brk);
            if (oldbrk == newbrk) {
                mm.brk = brk;
                return brk;
            }
            if (Long.compareUnsigned(brk, mm.brk) <= 0) {
                final Vma brkvma = mm.findVmaIntersection(newbrk, oldbrk);
                if (brkvma == null || Long.compareUnsigned(brkvma.vmStart, oldbrk) >= 0) {
                    return origbrk;
                }
                mm.brk = brk;
                final boolean[] unlocked = {false};
                final int e = doVmiMunmap(mm, newbrk, oldbrk - newbrk, true, unlocked);
                locked = !unlocked[0];
                if (e != 0) {
                    mm.brk = origbrk;
                    return origbrk;
                }
                return brk;
            }
            final Vma next = mm.findVmaIntersection(oldbrk, newbrk + mm.pageSize + mm.stackGuardGap);
            if (next != null && Long.compareUnsigned(newbrk + mm.pageSize, mm.vmStartGap(next)) > 0) {
                return origbrk;
            }
            Vma brkvma = mm.vmaPrev(oldbrk);
            if (brkvma != null && Long.compareUnsigned(brkvma.vmStart, mm.startBrk) < 0) {
                brkvma = null;
            }
            if (doBrkFlags(mm, brkvma, oldbrk, newbrk - oldbrk) != 0) {
                return origbrk;
            }
            mm.brk = brk;
            return brk;
        } finally {
            if (locked) {
                mm.mmapLock().writeUnlock();
            }
        }
    }

    /** do_brk_flags (mm/vma.c): extends the brk VMA or adds a new one. */
    static int doBrkFlags(final MmStruct mm, final Vma vma, final long addr, final long len) {
        final long flags = VM_DATA_DEFAULT_FLAGS | VmFlags.VM_ACCOUNT;
        if (mm.mapCount > mm.maxMapCount) {
            return -Errno.ENOMEM;
        }
        if (!VmaOps.iterPrealloc(mm)) {
            return -Errno.ENOMEM; // vma_iter_prealloc / vma_iter_store_gfp failing: nothing changed
        }
        if (vma != null
                && vma.vmEnd == addr
                && vma.vmFile == null
                && ((vma.vmFlags ^ flags) & ~VmaOps.VM_IGNORE_MERGE) == 0
                && !vma.isForkChild()) {
            VmaLock.startWrite(vma);
            vma.vmEnd = addr + len;
            VmaOps.storeOverwrite(mm, vma);
        } else {
            final Vma n = VmaOps.alloc(mm);
            if (n == null) {
                return -Errno.ENOMEM; // vma_alloc_fail
            }
            n.vmStart = addr;
            n.vmEnd = addr + len;
            n.vmPgoff = addr >>> mm.pageShift;
            n.vmFlags = flags;
            n.vmPageProt = mm.machine().arch().pageTableFormat().vmGetPageProt(flags);
            VmaOps.storeNew(mm, n);
            mm.mapCount++;
        }
        mm.vmStatAccount(flags, len >>> mm.pageShift);
        return 0;
    }
}
