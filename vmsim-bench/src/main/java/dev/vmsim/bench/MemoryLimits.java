package dev.vmsim.bench;

import dev.vmsim.core.phys.Watermarks;
import dev.vmsim.core.swap.SwapParams;

/**
 * A run's memory and swap ({@code --mem}, {@code --swap}): the machine's physical memory in bytes
 * (0: as much as the workload needs, so that nothing is reclaimed) and its swap device's size in
 * bytes (0: no swapon, as before memory pressure was modelled).
 *
 * <p>The swap device's latencies are {@link #SWAP_READ_NS} and {@link #SWAP_WRITE_NS} per 4 KiB,
 * {@link #SWAP_QUEUE_DEPTH} requests in flight: defaults of the run, not of the machine profile
 * (the profile is the CPU's cost model; the device is a separate part).
 *
 * @param memBytes --mem, or 0
 * @param swapBytes --swap, or 0
 */
public record MemoryLimits(long memBytes, long swapBytes) {
    /** No --mem, no --swap. */
    public static final MemoryLimits DEFAULT = new MemoryLimits(0, 0);

    /**
     * 4 KiB random read latency: Intel SSD DC P4510 product specification (ark.intel.com,
     * "Latency - Read 77 µs"), a datacenter NVMe drive of the kind a swap device is.
     */
    public static final long SWAP_READ_NS = 77_000;
    /** 4 KiB random write latency: the same specification's "Latency - Write 18 µs". */
    public static final long SWAP_WRITE_NS = 18_000;
    /**
     * Requests the device serves at once: 32, the queue depth at which the same specification (as
     * NVMe datasheets generally) quotes its 4K random IOPS.
     */
    public static final int SWAP_QUEUE_DEPTH = 32;
    /** /proc/sys/vm/page-cluster's default: a readahead window of 8 pages. */
    public static final int PAGE_CLUSTER = 3;
    /**
     * Page-table levels a task's first page needs below the PGD, at most (x86-64 4-level, arm64 4K
     * 4-level; arm64's 16K and 64K granules need fewer): the boot minimum takes the upper bound.
     */
    static final int TABLES_PER_TASK = 3;

    public MemoryLimits {
        if (memBytes < 0 || swapBytes < 0) {
            throw new IllegalArgumentException("negative size");
        }
    }

    /** The machine's frames: --mem in pages, or {@code workloadFrames} without --mem. */
    public long frames(final long workloadFrames, final long pageSize) {
        return memBytes == 0 ? workloadFrames : memBytes / pageSize;
    }

    /** The swap device for a machine with PAGE_SIZE {@code pageSize}, or null without --swap. */
    public SwapParams swapParams(final long pageSize) {
        if (swapBytes == 0) {
            return null;
        }
        // slot 0 is the swap header (swapon's si->max counts it), so the device has one page more
        final long pages = swapBytes / pageSize + 1;
        final long scale = Math.max(1, pageSize / 4096); // a 64K page is sixteen 4K transfers
        return new SwapParams(pages, SWAP_READ_NS * scale, SWAP_WRITE_NS * scale, SWAP_QUEUE_DEPTH, PAGE_CLUSTER);
    }

    /**
     * The fewest frames a machine of PAGE_SIZE {@code pageSize} needs to boot {@code threads}
     * tasks of one mm and let each fault one page: the reserved zero page; the pages below the min
     * watermark, which an ordinary allocation never takes (they depend on the memory size, so the
     * check is against the frames asked for); the mm's PGD; and per task a stack page, one data page
     * (the workload's minimum: with swap the rest can be reclaimed, without it the OOM killer acts)
     * and the page tables below the PGD that map them.
     */
    public static long bootFrames(final long frames, final int threads, final long pageSize) {
        final int pageShift = Long.numberOfTrailingZeros(pageSize);
        final long min = new Watermarks(Math.max(1, frames - 1), pageShift).min();
        return 1 + min + 1 + (long) threads * (2 + TABLES_PER_TASK);
    }
}
