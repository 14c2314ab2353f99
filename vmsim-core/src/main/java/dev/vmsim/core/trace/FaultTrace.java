package dev.vmsim.core.trace;

import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.fault.FaultFlags;
import dev.vmsim.core.fault.VmFault;
import dev.vmsim.core.lock.MmapLock;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.trace.jfr.JfrSites;

/**
 * The fault-path event sites, one static method per event. Each method reads {@link #sink} once
 * (a volatile read: acquire; pairs with the release in {@link #install}) and returns at once when no
 * sink is installed: the arguments are primitives or constants, so a disabled site allocates
 * nothing. A site whose arguments cost something to compute (an arch decode string) checks {@link
 * #enabled()} first.
 *
 * <p>Events, in the order a fault emits them:
 * <ul>
 *   <li>{@code page_fault_user} / {@code page_fault_kernel} (x86, exceptions:page_fault_user/kernel)
 *       or {@code do_mem_abort} (arm64, which has no such tracepoint): a slice around the whole
 *       fault; BEGIN carries the address, the arch decode ({@code error_code}, {@code esr}) and
 *       {@code decode} (ArchFault.describe()); END carries {@code signal}, and {@code rss} and
 *       {@code free_frames} as the fault returns (the counters of the Perfetto trace);
 *   <li>{@code lock_vma_under_rcu} (result locked / abort / miss) and {@code lock_vma_under_rcu_wait}
 *       (result wait);
 *   <li>{@code lock_mm_and_find_vma}: a slice; inside it {@code mmap_write_lock_via} (upgrade or
 *       drop-and-retake, i.e. upgrade_mmap_lock_carefully) and {@code expand_downwards}; END carries
 *       result found / none;
 *   <li>{@code handle_mm_fault}: a slice; BEGIN carries the FAULT_FLAG_* decoded, END the VM_FAULT_*
 *       result decoded; inside it the handler that ran: {@code do_anonymous_page} (page zero / new),
 *       {@code do_wp_page} (action reuse / copy / shared), {@code shmem_fault}, {@code handle_pte_fault}
 *       (action access_flags / spurious / raced), {@code do_swap_page} (one event per step:
 *       the swap PTE decoded, swap cache hit or miss, readahead, I/O wait, the lock dropped, mapped);
 *   <li>the mmap_lock tracepoints, bridged from {@link MmapLock#setTraceSink}.
 * </ul>
 *
 * <p>Three sites (lock_vma_under_rcu, lock_mm_and_find_vma, handle_mm_fault's return) also feed the
 * JFR page-fault event's locking path ({@link JfrSites}), each gated on that event's own enabled state.
 *
 * <p>Departure: the kernel's tracepoints are per-event static keys enabled system-wide; here one
 * sink receives all of them, for every thread (events carry the thread and CPU).
 */
public final class FaultTrace {
    public static final String PAGE_FAULT_USER = "page_fault_user";
    public static final String PAGE_FAULT_KERNEL = "page_fault_kernel";
    public static final String DO_MEM_ABORT = "do_mem_abort";
    public static final String LOCK_VMA_UNDER_RCU = "lock_vma_under_rcu";
    public static final String LOCK_VMA_UNDER_RCU_WAIT = "lock_vma_under_rcu_wait";
    public static final String LOCK_MM_AND_FIND_VMA = "lock_mm_and_find_vma";
    public static final String MMAP_WRITE_LOCK_VIA = "mmap_write_lock_via";
    public static final String EXPAND_DOWNWARDS = "expand_downwards";
    public static final String HANDLE_MM_FAULT = "handle_mm_fault";
    public static final String DO_ANONYMOUS_PAGE = "do_anonymous_page";
    public static final String DO_WP_PAGE = "do_wp_page";
    public static final String SHMEM_FAULT = "shmem_fault";
    public static final String HANDLE_PTE_FAULT = "handle_pte_fault";
    public static final String DO_SWAP_PAGE = "do_swap_page";

    /** The installed sink or null. Volatile: written by install (release), read once per site (acquire). */
    private static volatile TraceSink sink;

    private FaultTrace() {}

    /** Installs {@code s} (null: tracing off) and bridges the mmap_lock tracepoints to it. */
    public static void install(final TraceSink s) {
        sink = s;
        MmapLock.setTraceSink(s == null ? null : new MmapLockBridge(s));
    }

    /** Is a sink installed? For sites whose arguments are costly to build. */
    public static boolean enabled() {
        return sink != null;
    }

    // ---------------------------------------------------------------- arch entry

    /** exceptions:page_fault_user / page_fault_kernel (x86): the fault begins. */
    public static void x86PageFaultEnter(
            final boolean user, final long address, final int errorCode, final String decode) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.BEGIN, user ? PAGE_FAULT_USER : PAGE_FAULT_KERNEL, new String[] {
                "address", hex(address), "error_code", "0x" + Integer.toHexString(errorCode), "decode", decode
            });
        }
    }

    /** The x86 fault returns with {@code sigInfo} (SigInfo.OK: the access is retried). */
    public static void x86PageFaultExit(final boolean user, final int sigInfo) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.END, user ? PAGE_FAULT_USER : PAGE_FAULT_KERNEL, exitArgs(sigInfo));
        }
    }

    /** do_mem_abort (arm64): the abort begins. */
    public static void arm64AbortEnter(final boolean user, final long far, final long esr, final String decode) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.BEGIN, DO_MEM_ABORT, new String[] {
                "address", hex(far), "esr", hex(esr), "user", Boolean.toString(user), "decode", decode
            });
        }
    }

    /** do_mem_abort returns with {@code sigInfo}. */
    public static void arm64AbortExit(final int sigInfo) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.END, DO_MEM_ABORT, exitArgs(sigInfo));
        }
    }

    /**
     * The fault's END arguments: the signal, and the counters a trace viewer plots as it returns:
     * {@code rss} (the faulting mm's anon + shmem pages, get_mm_rss) and {@code free_frames} (the
     * machine's free frames, nr_free_pages), when the thread runs a CPU with an mm.
     */
    private static String[] exitArgs(final int sigInfo) {
        final Cpu cpu = Cpu.current();
        final MmStruct mm = cpu == null ? null : cpu.mm();
        if (mm == null) {
            return new String[] {"signal", SigInfo.describe(sigInfo)};
        }
        return new String[] {
            "signal",
            SigInfo.describe(sigInfo),
            "rss",
            Long.toString(mm.anonRss() + mm.shmemRss()),
            "free_frames",
            Long.toString(cpu.machine().frames().freeFrames())
        };
    }

    // ---------------------------------------------------------------- mm/mmap_lock.c

    /** lock_vma_under_rcu's outcome: "locked", "abort" (fall back) or "miss" (detached under us, retried). */
    public static void lockVmaUnderRcu(final long address, final String result) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.INSTANT, LOCK_VMA_UNDER_RCU, new String[] {"address", hex(address), "result", result});
        }
        JfrSites.lockVmaUnderRcu(address, result);
    }

    /** lock_vma_under_rcu_wait waited for a VMA writer and retries. */
    public static void lockVmaUnderRcuWait(final long address) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.INSTANT, LOCK_VMA_UNDER_RCU_WAIT, new String[] {"address", hex(address), "result", "wait"
            });
        }
    }

    /** lock_mm_and_find_vma begins. */
    public static void lockMmAndFindVmaEnter(final long address) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.BEGIN, LOCK_MM_AND_FIND_VMA, new String[] {"address", hex(address)});
        }
        JfrSites.lockMmAndFindVma();
    }

    /** lock_mm_and_find_vma returns: a VMA (mmap read lock held) or none (bad area, nothing held). */
    public static void lockMmAndFindVmaExit(final boolean found) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.END, LOCK_MM_AND_FIND_VMA, new String[] {"result", found ? "found" : "none"});
        }
    }

    /**
     * How lock_mm_and_find_vma reached the mmap write lock to expand the stack: the atomic upgrade
     * (the simulator's mmap_upgrade_trylock) or upgrade_mmap_lock_carefully's drop and re-take.
     */
    public static void mmapWriteLockVia(final boolean upgraded) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.INSTANT, MMAP_WRITE_LOCK_VIA, new String[] {"via", upgraded ? "upgrade" : "drop-retake"});
        }
    }

    /** expand_downwards returned {@code err} (0 or a -errno) for {@code address}. */
    public static void expandDownwards(final long address, final int err) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.INSTANT, EXPAND_DOWNWARDS, new String[] {
                "address", hex(address), "ret", Integer.toString(err)
            });
        }
    }

    // ---------------------------------------------------------------- mm/memory.c

    /** handle_mm_fault begins with FAULT_FLAG_* {@code flags}. */
    public static void handleMmFaultEnter(final long address, final int flags) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.BEGIN, HANDLE_MM_FAULT, new String[] {"address", hex(address), "flags", faultFlags(flags)
            });
        }
    }

    /** handle_mm_fault returns VM_FAULT_* {@code ret}. */
    public static void handleMmFaultExit(final int ret) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.END, HANDLE_MM_FAULT, new String[] {"ret", vmFault(ret)});
        }
        JfrSites.handleMmFaultReturned(ret);
    }

    /** do_anonymous_page mapped the shared zero page (read) or a new zeroed page (write). */
    public static void doAnonymousPage(final boolean zeroPage) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.INSTANT, DO_ANONYMOUS_PAGE, new String[] {"page", zeroPage ? "zero" : "new"});
        }
    }

    /** do_wp_page: "reuse" (wp_page_reuse), "copy" (wp_page_copy; {@code fromZero}: of the zero page) or "shared". */
    public static void doWpPage(final String action, final boolean fromZero) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.INSTANT, DO_WP_PAGE, new String[] {"action", action, "from", fromZero ? "zero" : "page"});
        }
    }

    /** The shmem fault (do_read_fault / do_shared_fault with shmem_fault): "mapped" or "sigbus". */
    public static void shmemFault(final String result) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.INSTANT, SHMEM_FAULT, new String[] {"result", result});
        }
    }

    /**
     * handle_pte_fault on a present PTE that needed no new page: "access_flags" (ptep_set_access_flags:
     * young/dirty set), "spurious" (flush_tlb_fix_spurious_fault) or "raced" (the PTE changed under us).
     */
    public static void handlePteFault(final String action) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.INSTANT, HANDLE_PTE_FAULT, new String[] {"action", action});
        }
    }

    /**
     * A step of do_swap_page: {@code step} is one of "swap_pte" (the PTE decoded: {@code detail} is
     * the entry), "swap_cache" (hit / miss), "readahead" (pages read around the fault), "io_wait"
     * (waiting for the read), "lock_dropped" (the fault lock released to wait: "vma" or "mmap"),
     * "locked" (folio locked with the fault lock held), "raced" and "mapped" (how the page was
     * mapped). Callers build {@code detail} only when {@link #enabled()}.
     */
    public static void doSwapPage(final String step, final String detail) {
        final TraceSink s = sink;
        if (s != null) {
            s.event(TraceSink.INSTANT, DO_SWAP_PAGE, new String[] {"step", step, "detail", detail});
        }
    }

    // ---------------------------------------------------------------- decoding

    private static final String[] FLAG_NAMES = {
        "WRITE",
        "MKWRITE",
        "ALLOW_RETRY",
        "RETRY_NOWAIT",
        "KILLABLE",
        "TRIED",
        "USER",
        "REMOTE",
        "INSTRUCTION",
        "INTERRUPTIBLE",
        "UNSHARE",
        "ORIG_PTE_VALID",
        "VMA_LOCK",
    };

    /**
     * FAULT_FLAG_* decoded as the kernel's FAULT_FLAG_TRACE names them, with the always-set default
     * triple (ALLOW_RETRY|KILLABLE|INTERRUPTIBLE) left out for readability; "0" when nothing else is set.
     */
    public static String faultFlags(final int flags) {
        final int shown = flags & ~FaultFlags.FAULT_FLAG_DEFAULT;
        final StringBuilder sb = new StringBuilder();
        for (int bit = 0; bit < FLAG_NAMES.length; bit++) {
            if ((shown & (1 << bit)) != 0) {
                if (sb.length() > 0) {
                    sb.append('|');
                }
                sb.append(FLAG_NAMES[bit]);
            }
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }

    private static final int[] VM_FAULT_BITS = {
        VmFault.VM_FAULT_OOM, VmFault.VM_FAULT_SIGBUS, VmFault.VM_FAULT_MAJOR, VmFault.VM_FAULT_HWPOISON,
        VmFault.VM_FAULT_HWPOISON_LARGE, VmFault.VM_FAULT_SIGSEGV, VmFault.VM_FAULT_NOPAGE, VmFault.VM_FAULT_LOCKED,
        VmFault.VM_FAULT_RETRY, VmFault.VM_FAULT_FALLBACK, VmFault.VM_FAULT_DONE_COW, VmFault.VM_FAULT_NEEDDSYNC,
        VmFault.VM_FAULT_COMPLETED,
    };
    private static final String[] VM_FAULT_NAMES = {
        "OOM",
        "SIGBUS",
        "MAJOR",
        "HWPOISON",
        "HWPOISON_LARGE",
        "SIGSEGV",
        "NOPAGE",
        "LOCKED",
        "RETRY",
        "FALLBACK",
        "DONE_COW",
        "NEEDDSYNC",
        "COMPLETED",
    };

    /** VM_FAULT_* decoded as the kernel's VM_FAULT_RESULT_TRACE names them ("0" for success). */
    public static String vmFault(final int ret) {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < VM_FAULT_BITS.length; i++) {
            if ((ret & VM_FAULT_BITS[i]) != 0) {
                if (sb.length() > 0) {
                    sb.append('|');
                }
                sb.append(VM_FAULT_NAMES[i]);
            }
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }

    static String hex(final long v) {
        return "0x" + Long.toHexString(v);
    }
}
