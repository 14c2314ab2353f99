package dev.vmsim.core.fault;

import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_RETRY_NOWAIT;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_TRIED;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_UNSHARE;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_VMA_LOCK;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_WRITE;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_ERROR;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_MAJOR;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_OOM;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_RETRY;

import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.task.Task;
import dev.vmsim.core.trace.FaultTrace;

/**
 * The generic fault handler (mm/memory.c): handle_mm_fault and __handle_mm_fault. The PTE-level
 * work is in {@link PteFault}.
 *
 * <p>Lock release follows the contract between arch code and mm core (§8.1): with VM_FAULT_RETRY
 * or VM_FAULT_COMPLETED in the result, the fault lock (the VMA read lock under FAULT_FLAG_VMA_LOCK,
 * else the mmap read lock) has already been released here; otherwise the caller still holds it and
 * releases it.
 */
public final class Memory {
    private Memory() {}

    /**
     * handle_mm_fault: resolves a fault at {@code address} in {@code vma} with FAULT_FLAG_* {@code
     * flags}; returns VM_FAULT_* bits, accounted once (on the final attempt) by mm_account_fault.
     */
    public static int handleMmFault(final Vma vma, final long address, final int flags, final PtRegs regs) {
        final MmStruct mm = vma.vmMm;
        FaultLock.assertFaultLocked(vma, flags);
        FaultTrace.handleMmFaultEnter(address, flags);
        final int ret;
        if (!sanitizeFaultFlags(vma, flags)) {
            ret = VmFault.VM_FAULT_SIGSEGV;
        } else {
            ret = handleMmFaultInner(mm, vma, address, flags);
        }
        // From here the VMA may be gone: the lock may have been dropped (RETRY / COMPLETED).
        mmAccountFault(mm, flags, ret);
        FaultTrace.handleMmFaultExit(ret);
        return ret;
    }

    /**
     * sanitize_fault_flags: the "cannot happen" combinations the kernel warns about and refuses
     * with SIGSEGV. Returns false to refuse. (UNSHARE on a non-COW mapping is dropped, not refused;
     * the anonymous-only simulator has no UNSHARE callers.)
     */
    static boolean sanitizeFaultFlags(final Vma vma, final int flags) {
        final long vmFlags = vma.vmFlags;
        if ((flags & FAULT_FLAG_WRITE) != 0) {
            if ((flags & FAULT_FLAG_UNSHARE) != 0) {
                return false;
            }
            if ((vmFlags & VmFlags.VM_MAYWRITE) == 0) {
                return false;
            }
            if ((vmFlags & VmFlags.VM_WRITE) == 0 && !VmFlags.isCowMapping(vmFlags)) {
                return false;
            }
        }
        return (flags & (FAULT_FLAG_VMA_LOCK | FAULT_FLAG_RETRY_NOWAIT))
                != (FAULT_FLAG_VMA_LOCK | FAULT_FLAG_RETRY_NOWAIT);
    }

    /**
     * __handle_mm_fault: allocates the upper levels and the PTE table, then handle_pte_fault. No huge
     * pages are modelled (THP is off), so the PUD/PMD huge-fault branches never run.
     */
    private static int handleMmFaultInner(final MmStruct mm, final Vma vma, final long address, final int flags) {
        final PageTables pt = mm.pageTables();
        Platform.current().load(mm.mmapLock().pgdLine()); // pgd_offset reads mm->pgd
        Platform.current()
                .charge(Cost.WALK_LEVEL, mm.machine().arch().pageTableFormat().levels());
        final long ptePa = pt.ptePa(address, true);
        if (ptePa < 0) {
            // A page-table page could not be allocated: nothing was installed (OOM-09).
            return VM_FAULT_OOM;
        }
        return PteFault.handlePteFault(mm, vma, address, flags, ptePa);
    }

    /**
     * mm_account_fault: nothing for a RETRY (the final attempt accounts); otherwise pgfault, even for
     * failed faults; no min/maj split for errors; the task's maj_flt when the result has
     * VM_FAULT_MAJOR or the flags have FAULT_FLAG_TRIED, else its min_flt. With regs == NULL (GUP,
     * e.g. MAP_POPULATE) the kernel skips only the perf events, which the simulator does not have,
     * so the task counters are kept for every caller.
     *
     * <p>The vmstat pgmajfault is not counted here: as in the kernel, the handler that started the
     * I/O counts it (do_swap_page), on the attempt that returns VM_FAULT_MAJOR, even when that
     * attempt ends in VM_FAULT_RETRY. A FAULT_FLAG_TRIED retry is not a major fault for vmstat.
     */
    static void mmAccountFault(final MmStruct mm, final int flags, final int ret) {
        if ((ret & VM_FAULT_RETRY) != 0) {
            return;
        }
        mm.machine().vmstat().count(VmEvent.PGFAULT);
        if ((ret & VM_FAULT_ERROR) != 0) {
            return;
        }
        if ((ret & VM_FAULT_MAJOR) != 0 || (flags & FAULT_FLAG_TRIED) != 0) {
            Task.current().majFlt++;
        } else {
            Task.current().minFlt++;
        }
    }
}
