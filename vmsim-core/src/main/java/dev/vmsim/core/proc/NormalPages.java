package dev.vmsim.core.proc;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.phys.FrameAllocator;

/**
 * The walk that smaps and meminfo both make over a VMA's PTEs: each present PTE for which
 * vm_normal_page returns a page. The zero page and special PTEs (the vDSO's) are not normal pages
 * and count nowhere, not even in Rss. Caller holds the mmap_lock for read.
 */
final class NormalPages {
    /** Receives one normal page: its pfn and the PTE that maps it. */
    @FunctionalInterface
    interface Visitor {
        void page(long pfn, long pte);
    }

    private NormalPages() {}

    static void forEach(final MmStruct mm, final Vma vma, final Visitor visitor) {
        final PageTableFormat format = mm.pageTables().format();
        final FrameAllocator frames = mm.machine().frames();
        mm.pageTables().forEachPte(vma.vmStart, vma.vmEnd, (va, pte) -> {
            if (!format.ptePresent(pte) || format.pteSpecial(pte)) {
                return;
            }
            final long pfn = format.pfn(pte);
            if (pfn != frames.zeroPfn()) {
                visitor.page(pfn, pte);
            }
        });
    }
}
