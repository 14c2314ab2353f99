package dev.vmsim.core.mm;

import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.pgtable.MmuGather;
import dev.vmsim.core.rmap.AnonVmas;

/** mremap(2) (mm/mremap.c: do_mremap and its helpers) for anonymous memory. */
final class Mremap {
    private Mremap() {}

    /** struct vma_remap_struct. */
    private static final class Vrm {
        final MmStruct mm;
        long addr;
        long oldLen;
        long newLen;
        final int flags;
        long newAddr;
        Vma vma;
        long delta;
        int remapType;
        /** Whether the mmap write lock is still held (shrink in place drops it). */
        boolean mmapLocked;

        Vrm(
                final MmStruct mm,
                final long addr,
                final long oldLen,
                final long newLen,
                final int flags,
                final long newAddr) {
            this.mm = mm;
            this.addr = addr;
            this.oldLen = oldLen;
            this.newLen = newLen;
            this.flags = flags;
            this.newAddr = newAddr;
        }

        boolean impliesNewAddr() {
            return (flags & (Mman.MREMAP_FIXED | Mman.MREMAP_DONTUNMAP)) != 0;
        }
    }

    private static final int MREMAP_NO_RESIZE = 1;
    private static final int MREMAP_SHRINK = 2;
    private static final int MREMAP_EXPAND = 3;

    static long mremap(
            final MmStruct mm,
            final long addr,
            final long oldLen,
            final long newLen,
            final int flags,
            final long newAddr) {
        final Vrm vrm = new Vrm(mm, addr, mm.pageAlign(oldLen), mm.pageAlign(newLen), flags, newAddr);
        final long p = checkMremapParams(vrm);
        if (p != 0) {
            return p;
        }
        // BUG-12 reintroduced: map_count read before the lock (check_mremap_params, KCSAN 2026).
        final int unlockedMapCount = BugSwitches.on(Bug.BUG_12) ? mm.mapCount : 0;
        LockHooks.at("mremap:before_mmap_write_lock");
        if (mm.mmapLock().writeLockKillable() != 0) {
            return -Errno.EINTR;
        }
        vrm.mmapLocked = true;
        try {
            // check_map_count_against_split_early: headroom for two unmap splits and a move, checked
            // under the mmap write lock that every map_count writer holds (the BUG-12 fix).
            final int mapCount = BugSwitches.on(Bug.BUG_12) ? unlockedMapCount : mm.mapCount;
            if (mapCount + 4 > mm.maxMapCount) {
                return -Errno.ENOMEM;
            }
            if ((flags & Mman.MREMAP_FIXED) != 0 && vrm.oldLen == vrm.newLen) {
                return remapMove(vrm);
            }
            vrm.vma = mm.vmaLookup(vrm.addr);
            final long r = checkPrepVma(vrm);
            if (r != 0) {
                return r;
            }
            return vrm.impliesNewAddr() ? mremapTo(vrm) : mremapAt(vrm);
        } finally {
            if (vrm.mmapLocked) {
                mm.mmapLock().writeUnlock();
            }
        }
    }

    private static boolean overlaps(final Vrm vrm) {
        final long endOld = vrm.addr + vrm.oldLen;
        final long endNew = vrm.newAddr + vrm.newLen;
        return Long.compareUnsigned(endOld, vrm.newAddr) > 0 && Long.compareUnsigned(endNew, vrm.addr) > 0;
    }

    /** check_mremap_params. */
    private static long checkMremapParams(final Vrm vrm) {
        final MmStruct mm = vrm.mm;
        if ((vrm.flags & ~(Mman.MREMAP_FIXED | Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP)) != 0) {
            return -Errno.EINVAL;
        }
        if ((vrm.addr & (mm.pageSize - 1)) != 0) {
            return -Errno.EINVAL;
        }
        if (vrm.newLen == 0) {
            return -Errno.EINVAL;
        }
        if (Long.compareUnsigned(vrm.newLen, mm.taskSize) > 0) {
            return -Errno.EINVAL;
        }
        if (!vrm.impliesNewAddr()) {
            return 0;
        }
        if (Long.compareUnsigned(vrm.newAddr, mm.taskSize - vrm.newLen) > 0) {
            return -Errno.EINVAL;
        }
        if ((vrm.newAddr & (mm.pageSize - 1)) != 0) {
            return -Errno.EINVAL;
        }
        if ((vrm.flags & Mman.MREMAP_MAYMOVE) == 0) {
            return -Errno.EINVAL;
        }
        if ((vrm.flags & Mman.MREMAP_DONTUNMAP) != 0 && vrm.oldLen != vrm.newLen) {
            return -Errno.EINVAL;
        }
        if (overlaps(vrm)) {
            return -Errno.EINVAL;
        }
        return 0;
    }

    /** check_prep_vma. */
    private static long checkPrepVma(final Vrm vrm) {
        final MmStruct mm = vrm.mm;
        final Vma vma = vrm.vma;
        if (vma == null) {
            return -Errno.EFAULT;
        }
        vrm.delta = vrm.oldLen < vrm.newLen ? vrm.newLen - vrm.oldLen : vrm.oldLen - vrm.newLen;
        vrm.remapType = Long.compareUnsigned(vrm.newLen, vrm.oldLen) < 0
                ? MREMAP_SHRINK
                : vrm.newLen == vrm.oldLen ? MREMAP_NO_RESIZE : MREMAP_EXPAND;
        if (!vrm.impliesNewAddr()) {
            vrm.newAddr = vrm.addr;
        }
        if (vrm.remapType != MREMAP_EXPAND && !vrm.impliesNewAddr()) {
            return 0;
        }
        long oldLen = vrm.oldLen;
        final long newLen = vrm.newLen;
        if (oldLen == 0 && (vma.vmFlags & (VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE)) == 0) {
            return -Errno.EINVAL;
        }
        if ((vrm.flags & Mman.MREMAP_DONTUNMAP) != 0
                && (vma.vmFlags & (VmFlags.VM_DONTEXPAND | VmFlags.VM_PFNMAP)) != 0) {
            return -Errno.EINVAL;
        }
        if (vrm.remapType == MREMAP_SHRINK) {
            oldLen = newLen;
        }
        if (Long.compareUnsigned(oldLen, vma.vmEnd - vrm.addr) > 0) {
            return -Errno.EFAULT;
        }
        if (newLen == oldLen) {
            return 0;
        }
        final long pgoff = vma.vmPgoff + ((vrm.addr - vma.vmStart) >>> mm.pageShift);
        if (Long.compareUnsigned(pgoff + (newLen >>> mm.pageShift), pgoff) < 0) {
            return -Errno.EINVAL;
        }
        if ((vma.vmFlags & (VmFlags.VM_DONTEXPAND | VmFlags.VM_PFNMAP)) != 0) {
            return -Errno.EFAULT;
        }
        return 0;
    }

    /** mremap_at: resize in place, or move to a free area (MAYMOVE). */
    private static long mremapAt(final Vrm vrm) {
        switch (vrm.remapType) {
            case MREMAP_NO_RESIZE:
                return vrm.addr;
            case MREMAP_SHRINK: {
                final boolean[] unlocked = {false};
                final int e = Mmap.doVmiMunmap(vrm.mm, vrm.addr + vrm.newLen, vrm.delta, true, unlocked);
                if (unlocked[0]) {
                    vrm.mmapLocked = false;
                }
                return e != 0 ? e : vrm.addr;
            }
            default:
                return expandVma(vrm);
        }
    }

    /** vma_expandable. */
    private static boolean vmaExpandable(final MmStruct mm, final Vma vma, final long delta) {
        final long end = vma.vmEnd + delta;
        if (Long.compareUnsigned(end, vma.vmEnd) < 0) {
            return false;
        }
        if (mm.findVmaIntersection(vma.vmEnd, end) != null) {
            return false;
        }
        return !Errno.isError(Mmap.getUnmappedArea(mm, vma.vmStart, end - vma.vmStart, Mman.MAP_FIXED));
    }

    /** expand_vma: in place if [addr, addr+old_len) ends the VMA and the space after is free. */
    private static long expandVma(final Vrm vrm) {
        final MmStruct mm = vrm.mm;
        final Vma vma = vrm.vma;
        if (vma.vmEnd - vrm.addr == vrm.oldLen && vmaExpandable(mm, vma, vrm.delta)) {
            // vma_merge_extend: merge the new range [vm_end, vm_end+delta) into vma (and maybe next).
            final VmaOps.Vmg vmg = new VmaOps.Vmg();
            vmg.prev = vma;
            vmg.start = vma.vmEnd;
            vmg.end = vma.vmEnd + vrm.delta;
            vmg.flags = vma.vmFlags;
            vmg.file = vma.vmFile;
            vmg.anonVma = vma.anonVma;
            vmg.pgoff = vma.vmPgoff + ((vmg.start - vma.vmStart) >>> mm.pageShift);
            vmg.next = mm.findVma(vmg.end);
            final long flags = vma.vmFlags;
            if (VmaOps.mergeNewRange(mm, vmg) == null) {
                return -Errno.ENOMEM;
            }
            vrmStatAccount(mm, flags, vrm.delta);
            return vrm.addr;
        }
        if ((vrm.flags & Mman.MREMAP_MAYMOVE) == 0) {
            return -Errno.ENOMEM;
        }
        final long e = setNewAddr(vrm);
        if (e != 0) {
            return e;
        }
        return moveVma(vrm);
    }

    /** vrm_stat_account: total_vm and its kinds, and locked_vm for an mlocked VMA, grow by {@code bytes}. */
    private static void vrmStatAccount(final MmStruct mm, final long vmFlags, final long bytes) {
        mm.vmStatAccount(vmFlags, bytes >>> mm.pageShift);
        if ((vmFlags & VmFlags.VM_LOCKED) != 0) {
            mm.lockedVm += bytes >>> mm.pageShift;
        }
    }

    /** vrm_set_new_addr: get_unmapped_area for the destination. */
    private static long setNewAddr(final Vrm vrm) {
        final long hint = vrm.impliesNewAddr() ? vrm.newAddr : 0;
        int mapFlags = 0;
        if ((vrm.flags & Mman.MREMAP_FIXED) != 0) {
            mapFlags |= Mman.MAP_FIXED;
        }
        if ((vrm.vma.vmFlags & VmFlags.VM_MAYSHARE) != 0) {
            mapFlags |= Mman.MAP_SHARED;
        }
        final long res = Mmap.getUnmappedArea(vrm.mm, hint, vrm.newLen, mapFlags);
        if (Errno.isError(res)) {
            return res;
        }
        vrm.newAddr = res;
        return 0;
    }

    /** mremap_to: FIXED (unmap the destination first) or DONTUNMAP. */
    private static long mremapTo(final Vrm vrm) {
        final MmStruct mm = vrm.mm;
        if ((vrm.flags & Mman.MREMAP_FIXED) != 0) {
            final int e = Mmap.doVmiMunmap(mm, vrm.newAddr, vrm.newLen, false, new boolean[1]);
            vrm.vma = null;
            if (e != 0) {
                return e;
            }
            vrm.vma = mm.vmaLookup(vrm.addr);
            if (vrm.vma == null) {
                return -Errno.EFAULT;
            }
        }
        if (vrm.remapType == MREMAP_SHRINK) {
            final int e = Mmap.doVmiMunmap(mm, vrm.addr + vrm.newLen, vrm.delta, false, new boolean[1]);
            if (e != 0) {
                return e;
            }
            vrm.vma = mm.vmaLookup(vrm.addr);
            if (vrm.vma == null) {
                return -Errno.EFAULT;
            }
            vrm.oldLen = vrm.newLen;
        }
        final long e = setNewAddr(vrm);
        if (e != 0) {
            return e;
        }
        return moveVma(vrm);
    }

    /** remap_move: MREMAP_FIXED without resize, possibly across several VMAs. */
    private static long remapMove(final Vrm vrm) {
        final MmStruct mm = vrm.mm;
        final long start = vrm.addr;
        final long end = vrm.addr + vrm.oldLen;
        long targetAddr = vrm.newAddr;
        long res = -Errno.EFAULT;
        long lastEnd = 0;
        boolean seen = false;
        long cursor = start;
        for (; ; ) {
            final Vma vma = mm.findVmaIntersection(cursor, end);
            if (vma == null) {
                break;
            }
            final long addr = Long.compareUnsigned(vma.vmStart, start) > 0 ? vma.vmStart : start;
            final long len = (Long.compareUnsigned(end, vma.vmEnd) < 0 ? end : vma.vmEnd) - addr;
            if (!seen && Long.compareUnsigned(start, vma.vmStart) < 0) {
                return -Errno.EFAULT;
            }
            final long offset = seen ? vma.vmStart - lastEnd : 0;
            lastEnd = vma.vmEnd;
            vrm.vma = vma;
            vrm.addr = addr;
            vrm.newAddr = targetAddr + offset;
            vrm.oldLen = len;
            vrm.newLen = len;
            long r = checkPrepVma(vrm);
            if (r == 0) {
                r = mremapTo(vrm);
            }
            if (Errno.isError(r)) {
                return r;
            }
            if (!seen) {
                res = r;
            }
            seen = true;
            targetAddr = r + vrm.newLen;
            cursor = addr + len;
            if (cursor == 0 || Long.compareUnsigned(cursor, end) >= 0) {
                break;
            }
        }
        return res;
    }

    /**
     * move_vma with copy_vma_and_data: copy the VMA to new_addr, move the page tables, then unmap
     * the source. When move_page_tables stops short (a destination table could not be allocated),
     * the entries it moved go back, and it is the new area that is unmapped instead of the old, so
     * mremap fails with -ENOMEM and leaves the address space as it found it.
     */
    private static long moveVma(final Vrm vrm) {
        final MmStruct mm = vrm.mm;
        // prep_move_vma → check_map_count_against_split.
        if (mm.mapCount + 2 > mm.maxMapCount) {
            return -Errno.ENOMEM;
        }
        Vma vma = vrm.vma;
        VmaLock.startWrite(vma);
        final long newPgoff = vma.vmPgoff + ((vrm.addr - vma.vmStart) >>> mm.pageShift);
        final Vma[] vmap = {vma};
        final Vma newVma = copyVma(mm, vmap, vrm.newAddr, vrm.newLen, newPgoff);
        if (newVma == null) {
            return -Errno.ENOMEM; // copy_vma failed: nothing has moved
        }
        vma = vmap[0];
        vrm.vma = vma;
        final MmuGather tlb = new MmuGather(mm);
        final long moved = mm.pageTables().moveRange(vrm.addr, vrm.newAddr, vrm.oldLen, tlb);
        int err = 0;
        if (moved < vrm.oldLen) {
            err = -Errno.ENOMEM;
            // Move the entries back: the source tables are still there, so this cannot fail.
            mm.pageTables().moveRange(vrm.newAddr, vrm.addr, moved, tlb);
            vrm.vma = newVma;
            vrm.oldLen = vrm.newLen;
            vrm.addr = vrm.newAddr;
        }
        tlb.finish();
        // Counted even on failure: the munmap below takes new_len off total_vm again.
        vrmStatAccount(mm, newVma.vmFlags, vrm.newLen);
        if (err == 0 && (vrm.flags & Mman.MREMAP_DONTUNMAP) != 0) {
            // dontunmap_complete: the old VMA stays, unlocked and emptied.
            VmaLock.startWrite(vma);
            VmaLock.assertWriteLocked(vma); // vm_flags_clear
            vma.vmFlags &= ~(VmFlags.VM_LOCKED | VmFlags.VM_LOCKONFAULT);
        } else {
            // unmap_source_vma: the source on success, the new area on failure.
            Mmap.doVmiMunmap(mm, vrm.addr, vrm.oldLen, false, new boolean[1]);
        }
        return err != 0 ? err : vrm.newAddr;
    }

    /**
     * copy_vma (mm/vma.c): a VMA for [addr, addr+len) with vma's attributes, merged with a
     * neighbour if possible. An anonymous VMA never faulted gets the pgoff of its new address.
     */
    static Vma copyVma(final MmStruct mm, final Vma[] vmap, final long addr, final long len, final long pgoff0) {
        final Vma vma = vmap[0];
        final long vmaStart = vma.vmStart;
        long pgoff = pgoff0;
        if (vma.isAnonymous() && vma.anonVma == null) {
            pgoff = addr >>> mm.pageShift;
        }
        final VmaOps.Vmg vmg = new VmaOps.Vmg();
        vmg.start = addr;
        vmg.end = addr + len;
        vmg.flags = vma.vmFlags;
        vmg.file = vma.vmFile;
        vmg.anonVma = vma.anonVma;
        vmg.pgoff = pgoff;
        vmg.copiedFrom = vma;
        vmg.prev = mm.vmaPrev(addr);
        vmg.next = mm.findVma(addr + len);
        Vma newVma = VmaOps.mergeNewRange(mm, vmg);
        if (newVma != null) {
            if (Long.compareUnsigned(vmaStart, newVma.vmStart) >= 0
                    && Long.compareUnsigned(vmaStart, newVma.vmEnd) < 0) {
                vmap[0] = newVma;
            }
            return newVma;
        }
        if (vmg.nomem) {
            return null;
        }
        newVma = VmaOps.dup(vma);
        if (newVma == null || !VmaOps.iterPrealloc(mm)) {
            if (newVma != null) { // out_free_vma
                VmaOps.fput(mm, newVma);
                VmaOps.free(mm, newVma);
            }
            return null;
        }
        newVma.vmStart = addr;
        newVma.vmEnd = addr + len;
        newVma.vmPgoff = pgoff;
        AnonVmas.anonVmaClone(newVma, vma); // copy_vma: the copy is found by every rmap walk of vma
        if (newVma.vmOps != null && newVma.vmOps.open != null) {
            newVma.vmOps.open.accept(newVma); // copy_vma: the copy is a VMA of its own
        }
        // vma_link.
        VmaOps.storeNew(mm, newVma);
        mm.mapCount++;
        return newVma;
    }
}
