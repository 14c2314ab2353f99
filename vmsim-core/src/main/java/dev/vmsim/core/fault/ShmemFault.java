package dev.vmsim.core.fault;

import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_WRITE;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_OOM;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_SIGBUS;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.ShmemFile;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.pgtable.Ptl;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.trace.FaultTrace;

/**
 * do_fault for shared anonymous (shmem) mappings (mm/memory.c do_read_fault / do_shared_fault with
 * shmem_fault): the page comes from the file's page cache and is mapped into the PTE; a write
 * fault maps it writable and dirty. A page offset at or beyond i_size is SIGBUS.
 */
final class ShmemFault {
    private ShmemFault() {}

    static int doSharedFault(final MmStruct mm, final Vma vma, final long address, final int flags, final long ptePa) {
        final ShmemFile file = vma.vmFile;
        if (file == null) {
            return VM_FAULT_SIGBUS; // do_anonymous_page: VM_SHARED without vm_ops
        }
        final int shift = mm.pageShift();
        final long pgoff = vma.vmPgoff + ((address - vma.vmStart) >>> shift);
        if (pgoff >= (file.size() + mm.pageSize() - 1) >>> shift) {
            FaultTrace.shmemFault("sigbus");
            return VM_FAULT_SIGBUS;
        }
        final FrameAllocator frames = mm.machine().frames();
        final int cpu = PteFault.cpuId();
        final long pfn = file.getPage(pgoff, frames, cpu);
        if (pfn == FrameAllocator.NO_FRAME) {
            return VM_FAULT_OOM;
        }
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        long entry = fmt.pteMkyoung(fmt.pfnPte(pfn, fmt.vmGetPageProt(vma.vmFlags)));
        if ((flags & FAULT_FLAG_WRITE) != 0 && (vma.vmFlags & VmFlags.VM_WRITE) != 0) {
            entry = fmt.pteMkwrite(fmt.pteMkdirty(entry));
        }
        final Ptl ptl = pt.ptl(ptePa);
        ptl.lock();
        try {
            if (!fmt.pteNone(pt.readPte(ptePa))) {
                return 0;
            }
            frames.get(pfn); // the mapping's reference
            frames.incMapcount(pfn);
            mm.addShmemRss(1);
            pt.setPte(ptePa, entry);
        } finally {
            ptl.unlock();
        }
        FaultTrace.shmemFault("mapped");
        return 0;
    }
}
