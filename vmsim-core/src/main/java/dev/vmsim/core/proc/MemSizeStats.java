package dev.vmsim.core.proc;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.phys.FrameAllocator;

/**
 * struct mem_size_stats (fs/proc/task_mmu.c) and its page walk: what smaps_pte_range and
 * smaps_account add up for one VMA, or for every VMA of an mm for smaps_rollup. Byte counts; the
 * Pss sums are in bytes shifted left by {@link #PSS_SHIFT}, as the kernel keeps them.
 *
 * <p>Not modelled, so always 0 as on a kernel that has no such page: KSM, LazyFree (no MADV_FREE),
 * AnonHugePages/ShmemPmdMapped/FilePmdMapped (no THP), the hugetlb lines, Swap and SwapPss (no swap).
 * Departure: the simulator keeps no folio dirty or referenced flags, so "dirty" is the PTE's dirty
 * bit and "referenced" its young bit; a shared anonymous page is only ever dirtied through a PTE here.
 */
final class MemSizeStats {
    /** PSS_SHIFT: the fixed-point shift of the proportional sums. */
    static final int PSS_SHIFT = 12;

    long resident;
    long sharedClean;
    long sharedDirty;
    long privateClean;
    long privateDirty;
    long referenced;
    long anonymous;
    long pss;
    long pssDirty;
    long pssAnon;
    long pssFile;
    long pssShmem;
    long pssLocked;

    /**
     * smap_gather_stats: walks the normal pages of {@code vma} ({@link NormalPages}; caller holds the
     * mmap_lock for read) and accounts each with smaps_account.
     */
    void gather(final MmStruct mm, final Vma vma) {
        final PageTableFormat format = mm.pageTables().format();
        final FrameAllocator frames = mm.machine().frames();
        final long pageSize = mm.pageSize();
        final boolean anon = vma.isAnonymous();
        final boolean locked = (vma.vmFlags & VmFlags.VM_LOCKED) != 0;
        NormalPages.forEach(
                mm,
                vma,
                (pfn, pte) -> account(
                        pageSize, frames.mapcount(pfn), anon, format.pteYoung(pte), format.pteDirty(pte), locked));
    }

    /**
     * smaps_account for one small page: a page mapped more than once is shared and its Pss is its
     * size divided by the map count (smaps_page_accumulate).
     */
    private void account(
            final long size,
            final int mapcount,
            final boolean anon,
            final boolean young,
            final boolean dirty,
            final boolean locked) {
        if (anon) {
            anonymous += size;
        }
        resident += size;
        if (young) {
            referenced += size;
        }
        long p = size << PSS_SHIFT;
        final boolean exclusive = mapcount < 2;
        if (!exclusive) {
            p /= mapcount;
        }
        pss += p;
        if (dirty) {
            pssDirty += p;
        }
        if (anon) {
            pssAnon += p;
        } else {
            pssShmem += p;
        }
        if (locked) {
            pssLocked += p;
        }
        if (dirty) {
            if (exclusive) {
                privateDirty += size;
            } else {
                sharedDirty += size;
            }
        } else if (exclusive) {
            privateClean += size;
        } else {
            sharedClean += size;
        }
    }
}
