package dev.vmsim.core.trace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Unsigned;

/**
 * One simulated page fault, from the arch entry (x86 exc_page_fault, arm64 do_mem_abort) to its
 * return: the kernel's exceptions:page_fault_user/kernel tracepoint with the path and duration
 * added. Committed by {@link JfrSites}.
 */
@Name("vmsim.mm.PageFault")
@Label("Page Fault")
@Category({"vmsim", "mm"})
@Description(
        "A simulated page fault: the arch's fault record, the locking path do_user_addr_fault/do_page_fault took and the result")
@StackTrace(false)
public final class PageFaultEvent extends VirtualSpanEvent {
    @Label("Architecture")
    public String arch;

    @Label("Address")
    @Description("CR2 (x86-64) or FAR (arm64)")
    @MemoryAddress
    public long address;

    @Label("Error Code")
    @Description("The x86 #PF error code (0 on arm64)")
    public long errorCode;

    @Label("ESR")
    @Description("The arm64 ESR_ELx (0 on x86-64)")
    @Unsigned
    public long esr;

    @Label("User Mode")
    public boolean user;

    @Label("Locking Path")
    @Description("vma_lock: handled under the per-VMA lock; vma_lock_retry: VM_FAULT_RETRY under it, finished under the"
            + " mmap_lock; fallback: lock_vma_under_rcu aborted, handled under the mmap_lock; mmap_lock: no per-VMA"
            + " attempt; none: no lock taken")
    public String lockPath;

    @Label("VMA Lock Misses")
    @Description("lock_vma_under_rcu walks restarted because the VMA was detached under it (VMA_LOCK_MISS)")
    public int vmaLockMisses;

    @Label("mmap_lock Retries")
    @Description("Times the fault went round do_user_addr_fault's retry loop (VM_FAULT_RETRY under the mmap_lock)")
    public int mmapLockRetries;

    @Label("VM_FAULT")
    @Description("The last handle_mm_fault's VM_FAULT_* result, by the kernel's names")
    public String vmFault;

    @Label("Result")
    @Description("ok (the access is retried), or the signal delivered")
    public String result;
}
