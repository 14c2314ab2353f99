package dev.vmsim.core.fault;

import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_TRIED;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_UNSHARE;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_VMA_LOCK;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_WRITE;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_OOM;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_RETRY;

import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.cpu.TlbFlush;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.pgtable.Ptl;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.rmap.Rmap;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.trace.FaultTrace;

/**
 * PTE-level fault handling for anonymous private memory (mm/memory.c): handle_pte_fault,
 * do_anonymous_page, do_wp_page and wp_page_copy, vmf_anon_prepare.
 *
 * <p>Page accounting: a mapped anonymous page holds one reference and one map count per PTE that
 * maps it (the rmap); the shared zero page is mapped by special PTEs and never counted.
 */
final class PteFault {
    private PteFault() {}

    /** handle_pte_fault (§9.5), with the PTE table already allocated at {@code ptePa}. */
    static int handlePteFault(final MmStruct mm, final Vma vma, final long address, final int flags, final long ptePa) {
        final PageTables pt = mm.pageTables();
        final long orig = pt.readPte(ptePa);
        final PageTableFormat fmt = pt.format();
        if (fmt.pteNone(orig)) {
            if ((vma.vmFlags & VmFlags.VM_SHARED) != 0) {
                return ShmemFault.doSharedFault(mm, vma, address, flags, ptePa);
            }
            return doAnonymousPage(mm, vma, address, flags, ptePa);
        }
        if (!fmt.ptePresent(orig)) {
            return SwapFault.doSwapPage(mm, vma, address, flags, ptePa, orig);
        }
        final Ptl ptl = pt.ptl(ptePa);
        ptl.lock();
        try {
            final long pte = pt.readPte(ptePa);
            if (pte != orig) {
                FaultTrace.handlePteFault("raced");
                return 0; // someone else changed it: the retried access sees the new entry
            }
            if ((flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) != 0 && !fmt.pteWrite(pte)) {
                return doWpPage(mm, vma, address, flags, ptePa, pte, ptl);
            }
            long entry = pte;
            if ((flags & FAULT_FLAG_WRITE) != 0) {
                entry = fmt.pteMkdirty(entry);
            }
            entry = fmt.pteMkyoung(entry);
            if (entry != pte) {
                // ptep_set_access_flags: the walker may set A/D concurrently; CAS keeps both.
                pt.casPte(ptePa, pte, entry);
                FaultTrace.handlePteFault("access_flags");
            } else if ((flags & FAULT_FLAG_WRITE) != 0 && (flags & FAULT_FLAG_TRIED) == 0) {
                // flush_tlb_fix_spurious_fault: this CPU's TLB held a stale, stricter entry.
                flushLocal(mm, address);
                FaultTrace.handlePteFault("spurious");
            }
            return 0;
        } finally {
            ptl.unlock();
        }
    }

    private static void flushLocal(final MmStruct mm, final long address) {
        final Cpu cpu = Cpu.current();
        if (cpu != null) {
            cpu.mmu().flushPage(mm, address & -mm.pageSize());
        }
    }

    /**
     * vmf_anon_prepare: a write fault needs the VMA's anon_vma. Under the VMA lock that needs the
     * mmap read lock, which may only be trylocked while a VMA lock is held (lock order): on failure
     * the VMA lock is released and VM_FAULT_RETRY returned so the fault is retried under the mmap
     * lock.
     */
    static int vmfAnonPrepare(final MmStruct mm, final Vma vma, final int flags) {
        if (vma.anonVma != null) {
            return 0;
        }
        final boolean vmaLocked = (flags & FAULT_FLAG_VMA_LOCK) != 0;
        if (vmaLocked && BugSwitches.on(Bug.BUG_08)) {
            mm.mmapLock().readLock(); // BUG-08: a sleeping mmap_lock under the VMA read lock (LOCK-04)
        } else if (vmaLocked && !mm.mmapLock().readTrylock()) { // the fix: trylock only, else retry
            FaultLock.releaseFaultLock(vma, flags);
            return VM_FAULT_RETRY;
        }
        int ret = 0;
        if (vma.anonVmaPrepare() != 0) {
            ret = VM_FAULT_OOM;
        }
        if (vmaLocked) {
            mm.mmapLock().readUnlock();
        }
        return ret;
    }

    /**
     * do_anonymous_page (§9.6). A read fault maps the shared zero page unless mm_forbids_zeropage():
     * then it takes the write fault's path (vmf_anon_prepare, a zeroed page of its own, writable and
     * dirty when the VMA is writable), so the VMA gets an anon_vma, as on such a kernel.
     */
    static int doAnonymousPage(
            final MmStruct mm, final Vma vma, final long address, final int flags, final long ptePa) {
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final FrameAllocator frames = mm.machine().frames();
        final long prot = fmt.vmGetPageProt(vma.vmFlags);
        if ((flags & FAULT_FLAG_WRITE) == 0 && !mm.forbidsZeropage()) {
            // Read fault: map the shared zero page, never writable in a private mapping.
            final long entry = fmt.pteMkspecial(fmt.pfnPte(frames.zeroPfn(), prot));
            final Ptl ptl = pt.ptl(ptePa);
            ptl.lock();
            try {
                if (!fmt.pteNone(pt.readPte(ptePa))) {
                    return 0;
                }
                pt.setPte(ptePa, entry);
            } finally {
                ptl.unlock();
            }
            FaultTrace.doAnonymousPage(true);
            return 0;
        }
        final int prep = vmfAnonPrepare(mm, vma, flags);
        if (prep != 0) {
            return prep;
        }
        final int cpu = cpuId();
        final long pfn = frames.allocZeroed(cpu);
        if (pfn == FrameAllocator.NO_FRAME) {
            return VM_FAULT_OOM;
        }
        long entry = fmt.pteMkyoung(fmt.pfnPte(pfn, prot));
        if ((vma.vmFlags & VmFlags.VM_WRITE) != 0) {
            entry = fmt.pteMkwrite(fmt.pteMkdirty(entry));
        }
        final Ptl ptl = pt.ptl(ptePa);
        ptl.lock();
        try {
            if (!fmt.pteNone(pt.readPte(ptePa))) {
                frames.put(cpu, pfn); // lost the race: release the fresh page
                return 0;
            }
            mm.addAnonRss(1);
            Rmap.folioAddNewAnonRmap(frames, pfn, vma, address, true); // RMAP_EXCLUSIVE
            mm.machine().vmscan().folioAddLruVma(cpu, pfn, vma);
            pt.setPte(ptePa, entry);
        } finally {
            ptl.unlock();
        }
        FaultTrace.doAnonymousPage(false);
        return 0;
    }

    /**
     * do_wp_page (§9.7), called with the PTL held on a present, write-protected PTE. A private
     * anonymous page mapped only here is reused in place; the zero page or a page shared after fork
     * is copied (wp_page_copy).
     */
    static int doWpPage(
            final MmStruct mm,
            final Vma vma,
            final long address,
            final int flags,
            final long ptePa,
            final long pte,
            final Ptl ptl) {
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final FrameAllocator frames = mm.machine().frames();
        if ((vma.vmFlags & (VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE)) != 0) {
            // wp_page_shared: the page stays; it just becomes writable and dirty.
            pt.casPte(ptePa, pte, fmt.pteMkyoung(fmt.pteMkdirty(fmt.pteMkwrite(pte))));
            FaultTrace.doWpPage("shared", false);
            return 0;
        }
        final long oldPfn = fmt.pfn(pte);
        if (!fmt.pteSpecial(pte)
                && Rmap.folioTestAnon(frames.memMap(), oldPfn)
                && (frames.memMap().test(oldPfn, PageFlags.PG_ANON_EXCLUSIVE)
                        || wpCanReuseAnonFolio(mm, vma, oldPfn))) {
            if ((flags & FAULT_FLAG_UNSHARE) != 0) {
                return 0;
            }
            // wp_page_reuse: exclusive anonymous page.
            pt.casPte(ptePa, pte, fmt.pteMkyoung(fmt.pteMkdirty(fmt.pteMkwrite(pte))));
            mm.machine().vmstat().count(VmEvent.PGREUSE);
            FaultTrace.doWpPage("reuse", false);
            return 0;
        }
        ptl.unlock();
        FaultTrace.doWpPage("copy", fmt.pteSpecial(pte));
        try {
            return wpPageCopy(mm, vma, address, flags, ptePa, pte);
        } finally {
            ptl.lock(); // the caller unlocks
        }
    }

    /**
     * wp_can_reuse_anon_folio (mm/memory.c): a folio no longer marked exclusive (shared at fork)
     * may be reused in place when this mapping holds its only reference: a folio not yet on the LRU
     * may owe a reference to this CPU's lru_add batch, so that is drained first (lru_add_drain); then
     * the refcount must be 1, checked again under the folio lock, and the folio's rmap is narrowed
     * to this VMA's anon_vma (folio_move_anon_rmap, which marks it exclusive). A folio in the swap
     * cache is not reused here (folio_free_swap is the swap code's). <b>Context:</b> PTL held.
     */
    private static boolean wpCanReuseAnonFolio(final MmStruct mm, final Vma vma, final long pfn) {
        final FrameAllocator frames = mm.machine().frames();
        if (frames.refcount(pfn) > 3) {
            return false;
        }
        if (!frames.memMap().test(pfn, PageFlags.PG_LRU)) {
            mm.machine().vmscan().lruAddDrain(cpuId());
        }
        if (frames.refcount(pfn) > 1 || frames.memMap().test(pfn, PageFlags.PG_SWAPCACHE)) {
            return false;
        }
        if (!frames.folioWait().trylock(pfn)) {
            return false;
        }
        try {
            if (frames.refcount(pfn) != 1) {
                return false;
            }
            Rmap.folioMoveAnonRmap(frames.memMap(), pfn, vma);
            return true;
        } finally {
            frames.folioWait().unlock(pfn);
        }
    }

    /** wp_page_copy: copy (or zero, for the zero page) into a new page, then replace the PTE with break-before-make. */
    private static int wpPageCopy(
            final MmStruct mm, final Vma vma, final long address, final int flags, final long ptePa, final long orig) {
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final FrameAllocator frames = mm.machine().frames();
        final int prep = vmfAnonPrepare(mm, vma, flags);
        if (prep != 0) {
            return prep;
        }
        final int cpu = cpuId();
        final long newPfn = frames.allocZeroed(cpu);
        if (newPfn == FrameAllocator.NO_FRAME) {
            return VM_FAULT_OOM;
        }
        final boolean fromZero = fmt.pteSpecial(orig);
        final long oldPfn = fmt.pfn(orig);
        if (!fromZero) {
            frames.memory().copyFrame(oldPfn, newPfn);
        }
        long entry = fmt.pteMkyoung(fmt.pfnPte(newPfn, fmt.vmGetPageProt(vma.vmFlags)));
        if ((vma.vmFlags & VmFlags.VM_WRITE) != 0) {
            entry = fmt.pteMkwrite(fmt.pteMkdirty(entry));
        }
        final Ptl ptl = pt.ptl(ptePa);
        ptl.lock();
        try {
            if (pt.readPte(ptePa) != orig) {
                frames.put(cpu, newPfn);
                return 0;
            }
            // ptep_clear_flush: no CPU may keep using the old page once the new one is visible.
            pt.setPte(ptePa, 0);
            TlbFlush.flushTlbPage(mm, address & -mm.pageSize());
            Rmap.folioAddNewAnonRmap(frames, newPfn, vma, address, true); // RMAP_EXCLUSIVE
            mm.machine().vmscan().folioAddLruVma(cpu, newPfn, vma);
            pt.setPte(ptePa, entry);
            if (fromZero) {
                mm.addAnonRss(1);
            } else {
                Rmap.folioRemoveRmapPte(frames, oldPfn);
                frames.put(cpu, oldPfn);
            }
        } finally {
            ptl.unlock();
        }
        return 0;
    }

    /** smp_processor_id(): the CPU the calling thread runs on, or 0 outside a task; it picks the per-CPU page list. */
    static int cpuId() {
        final Cpu cpu = Cpu.current();
        return cpu == null ? 0 : cpu.id();
    }
}
