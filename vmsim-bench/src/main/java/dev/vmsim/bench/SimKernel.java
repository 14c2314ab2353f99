package dev.vmsim.bench;

import dev.vmsim.core.swap.SwapParams;
import java.util.Map;

/**
 * The system-call surface of one simulated address space, as the workloads see it: the adapter
 * between the benchmark runner and {@link dev.vmsim.core.mm.MmStruct}.
 *
 * <p>Return conventions are the kernel's: an address or {@code -errno} from {@link #mmap}, {@code 0}
 * or {@code -errno} from the others. Every method may be called by many platform threads at once;
 * the implementation takes whatever locks the simulated kernel takes and no lock of its own.
 */
public interface SimKernel {
    /** The architecture name ("x86_64", "arm64"). */
    String arch();

    /**
     * PAGE_SIZE of the simulated machine: 4 KiB on x86_64, the granule on arm64. Workloads step
     * through their mappings page by page with it. A kernel that does not say has 4 KiB pages.
     */
    default long pageSize() {
        return 4096;
    }

    /** The locking mode's command-line name. */
    String locking();

    /**
     * swapon(2) of a device with {@code params}, before any task runs.
     *
     * @throws UnsupportedOperationException if this kernel models no swap
     */
    default void swapon(final SwapParams params) {
        throw new UnsupportedOperationException(arch() + ": this kernel has no swap");
    }

    /**
     * Installs the OOM killer in the page allocator, before any task runs.
     *
     * @throws UnsupportedOperationException if this kernel models none
     */
    default void enableOomKiller() {
        throw new UnsupportedOperationException(arch() + ": this kernel has no OOM killer");
    }

    /**
     * Names the process for the kernel's log lines (its comm: the OOM killer's "Killed process 1
     * (swap-storm)"). The default does nothing.
     */
    default void setComm(final String comm) {}

    /**
     * The exit of a process whose tasks were all killed: every VMA unmapped, as exit_mmap's
     * unmap_vmas does (the mm itself stays for the post-run checks). The default does nothing.
     */
    default void unmapAll() {}

    /** mmap(2): the mapped address or {@code -errno}. */
    long mmap(long addr, long len, int prot, int flags);

    /** munmap(2). */
    int munmap(long addr, long len);

    /** mprotect(2). */
    int mprotect(long addr, long len, int prot);

    /** madvise(2). */
    int madvise(long addr, long len, int advice);

    /**
     * A new simulated task of this mm on a CPU of its own (switch_mm done), run by the calling thread:
     * the thread becomes one of the process's tasks (a thread of the process whose mm this is,
     * oom_score_adj 0), so a SIGKILL to the process (the OOM killer's) reaches it.
     */
    SimTask newTask();

    /**
     * Turns on the simulator's atomic mmap_lock upgrade in lock_mm_and_find_vma (off by default, as
     * in the kernel). Called before the first task starts. The default refuses: a kernel that does
     * not model the upgrade must not pretend to.
     */
    default void enableMmapUpgrade() {
        throw new UnsupportedOperationException(locking() + " on " + arch() + ": this kernel has no mmap_lock upgrade");
    }

    /** A snapshot of the machine's and the mm's counters. */
    KernelCounters counters();

    /**
     * The machine's /proc/meminfo now, name to value in the file's order (kB; a count for the
     * HugePages_* lines); empty for a kernel that has no machine of its own to report.
     */
    default Map<String, Long> meminfo() {
        return Map.of();
    }

    /** Checks the mm's invariants (validate_mm); throws {@link IllegalStateException} when broken. */
    void validate();

    /** Frames allocated on the machine right now (page tables included), the per-CPU LRU batches drained first. */
    long allocatedFrames();

    /**
     * Ends the simulated machine once nothing runs on it any more, so that its host memory can serve
     * the next one (see {@link dev.vmsim.core.Machine#close}). The default does nothing.
     */
    default void close() {}
}
