package dev.vmsim.core.trace.jfr;

import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.fault.VmFault;
import dev.vmsim.core.trace.FaultTrace;

/**
 * The JFR event sites of the fault path, one static method per site. Each is gated on its event
 * type's own enabled state, read through a {@code static final} instance ({@code isEnabled()}: a
 * couple of plain loads, no allocation), so the sites cost nothing measurable when no recording
 * asks for the event, whether the recording was started by {@code vmsim run --jfr},
 * {@code -XX:StartFlightRecording} or Mission Control.
 *
 * <p>A fault's event is begun at the arch entry and committed at its return; the sites in between
 * (lock_vma_under_rcu, lock_mm_and_find_vma, handle_mm_fault) note the locking path in the
 * calling thread's open fault event, found through a ThreadLocal that only an enabled recording
 * touches. An mmap_lock acquisition is held the same way from start_locking to acquire_returned
 * (a task waits for one lock at a time).
 *
 * <p>Timestamps and durations are JFR's own (its ticks clock), not the trace recorder's. Under the
 * virtual clock JFR's are the host's, so every event also carries {@code virtualTime} (and a duration
 * event {@code virtualDuration}) from the {@link Platform}: the simulated CPU's clock.
 */
public final class JfrSites {
    private static final PageFaultEvent PAGE_FAULT = new PageFaultEvent();
    private static final MmapLockAcquireEvent MMAP_LOCK_ACQUIRE = new MmapLockAcquireEvent();
    private static final MmapLockReleaseEvent MMAP_LOCK_RELEASE = new MmapLockReleaseEvent();
    private static final VmaLockAbortEvent VMA_LOCK_ABORT = new VmaLockAbortEvent();
    private static final TlbShootdownEvent TLB_SHOOTDOWN = new TlbShootdownEvent();

    /** The calling thread's open fault, for the path sites. */
    private static final ThreadLocal<Fault> FAULT = new ThreadLocal<>();
    /** The calling thread's acquisition in progress. */
    private static final ThreadLocal<MmapLockAcquireEvent> ACQUIRE = new ThreadLocal<>();

    /** The path state of one open fault (faults do not nest in the simulator: a fault handler makes no uaccess). */
    private static final class Fault {
        final PageFaultEvent event = new PageFaultEvent();
        /** lock_vma_under_rcu's last outcome: 0 none, 1 locked, 2 abort. */
        int vmaLock;

        int misses;
        int mmapLockTries;
        boolean vmaRetry;
        int lastVmFault;
    }

    private JfrSites() {}

    /** The running simulated CPU's clock under the virtual clock; 0 on the host clock. */
    private static long virtualNow() {
        final Platform p = Platform.current();
        return p.isVirtual() ? p.now() : 0;
    }

    /** Is the page-fault event enabled? Arch entry sites check it before building their arguments. */
    public static boolean pageFaultEnabled() {
        return PAGE_FAULT.isEnabled();
    }

    // ---------------------------------------------------------------- the fault

    /** The fault begins (call only if {@link #pageFaultEnabled()}). */
    public static void pageFaultBegin() {
        final Fault f = new Fault();
        FAULT.set(f);
        f.event.begin();
        f.event.virtualTime = virtualNow();
    }

    /**
     * The fault returns {@code sigInfo} ({@link SigInfo}); commits the event begun by {@link
     * #pageFaultBegin()} with the arch's fault record: {@code errorCode} (x86) or {@code esr} (arm64).
     */
    public static void pageFaultEnd(
            final String arch,
            final long address,
            final long errorCode,
            final long esr,
            final boolean user,
            final int sigInfo) {
        if (!PAGE_FAULT.isEnabled()) {
            return;
        }
        final Fault f = FAULT.get();
        if (f == null) {
            return; // the recording began during this fault
        }
        FAULT.set(null);
        final PageFaultEvent e = f.event;
        e.end();
        if (e.shouldCommit()) {
            e.virtualDuration = virtualNow() - e.virtualTime;
            e.arch = arch;
            e.address = address;
            e.errorCode = errorCode;
            e.esr = esr;
            e.user = user;
            e.lockPath = lockPath(f);
            e.vmaLockMisses = f.misses;
            e.mmapLockRetries = Math.max(0, f.mmapLockTries - 1);
            e.vmFault = FaultTrace.vmFault(f.lastVmFault);
            e.result = SigInfo.describe(sigInfo);
            e.commit();
        }
    }

    private static String lockPath(final Fault f) {
        if (f.vmaLock == 1 && f.mmapLockTries == 0) {
            return "vma_lock";
        }
        if (f.vmaRetry) {
            return "vma_lock_retry";
        }
        if (f.vmaLock == 2) {
            return f.mmapLockTries > 0 ? "fallback" : "none";
        }
        return f.mmapLockTries > 0 ? "mmap_lock" : "none";
    }

    /** lock_vma_under_rcu's outcome ("locked", "abort", "miss"); an abort is also a VmaLockAbort event. */
    public static void lockVmaUnderRcu(final long address, final String result) {
        if (PAGE_FAULT.isEnabled()) {
            final Fault f = FAULT.get();
            if (f != null) {
                switch (result) {
                    case "locked":
                        f.vmaLock = 1;
                        break;
                    case "abort":
                        f.vmaLock = 2;
                        break;
                    default:
                        f.misses++;
                        break;
                }
            }
        }
        if (VMA_LOCK_ABORT.isEnabled() && result.equals("abort")) {
            final VmaLockAbortEvent e = new VmaLockAbortEvent();
            e.address = address;
            e.virtualTime = virtualNow();
            e.commit();
        }
    }

    /** lock_mm_and_find_vma begins: the fault is on the mmap_lock path (again, if this is a retry). */
    public static void lockMmAndFindVma() {
        if (PAGE_FAULT.isEnabled()) {
            final Fault f = FAULT.get();
            if (f != null) {
                f.mmapLockTries++;
            }
        }
    }

    /** handle_mm_fault returned {@code ret}; a VM_FAULT_RETRY under the VMA lock sends the fault to the mmap_lock. */
    public static void handleMmFaultReturned(final int ret) {
        if (PAGE_FAULT.isEnabled()) {
            final Fault f = FAULT.get();
            if (f != null) {
                f.lastVmFault = ret;
                if (f.mmapLockTries == 0 && (ret & VmFault.VM_FAULT_RETRY) != 0) {
                    f.vmaRetry = true;
                }
            }
        }
    }

    // ---------------------------------------------------------------- mmap_lock

    /** trace_mmap_lock_start_locking. */
    public static void mmapLockStartLocking() {
        if (MMAP_LOCK_ACQUIRE.isEnabled()) {
            final MmapLockAcquireEvent e = new MmapLockAcquireEvent();
            ACQUIRE.set(e);
            e.begin();
            e.virtualTime = virtualNow();
        }
    }

    /** trace_mmap_lock_acquire_returned. */
    public static void mmapLockAcquireReturned(final boolean write, final boolean success) {
        if (MMAP_LOCK_ACQUIRE.isEnabled()) {
            final MmapLockAcquireEvent e = ACQUIRE.get();
            if (e == null) {
                return; // a downgrade (no start_locking), or the recording began during the wait
            }
            ACQUIRE.set(null);
            e.end();
            if (e.shouldCommit()) {
                e.virtualDuration = virtualNow() - e.virtualTime;
                e.write = write;
                e.success = success;
                e.commit();
            }
        }
    }

    /** trace_mmap_lock_released. */
    public static void mmapLockReleased(final boolean write) {
        if (MMAP_LOCK_RELEASE.isEnabled()) {
            final MmapLockReleaseEvent e = new MmapLockReleaseEvent();
            e.write = write;
            e.virtualTime = virtualNow();
            e.commit();
        }
    }

    // ---------------------------------------------------------------- TLB

    /** A shootdown begins: its event, or null when the event is disabled. */
    public static TlbShootdownEvent tlbShootdownBegin() {
        if (!TLB_SHOOTDOWN.isEnabled()) {
            return null;
        }
        final TlbShootdownEvent e = new TlbShootdownEvent();
        e.begin();
        e.virtualTime = virtualNow();
        return e;
    }

    /** The shootdown begun as {@code e} (null: disabled) is complete. */
    public static void tlbShootdownEnd(
            final TlbShootdownEvent e,
            final long start,
            final long end,
            final long pages,
            final int cpus,
            final int remoteCpus) {
        if (e == null) {
            return;
        }
        e.end();
        if (e.shouldCommit()) {
            e.virtualDuration = virtualNow() - e.virtualTime;
            e.startAddress = start;
            e.endAddress = end;
            e.pages = pages;
            e.cpus = cpus;
            e.remoteCpus = remoteCpus;
            e.commit();
        }
    }
}
