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

    /** {@link SwapParams#DEVICE_READ_NS}. */
    public static final long SWAP_READ_NS = SwapParams.DEVICE_READ_NS;
    /** {@link SwapParams#DEVICE_WRITE_NS}. */
    public static final long SWAP_WRITE_NS = SwapParams.DEVICE_WRITE_NS;
    /** {@link SwapParams#DEVICE_QUEUE_DEPTH}. */
    public static final int SWAP_QUEUE_DEPTH = SwapParams.DEVICE_QUEUE_DEPTH;
    /** {@link SwapParams#PAGE_CLUSTER}. */
    public static final int PAGE_CLUSTER = SwapParams.PAGE_CLUSTER;

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
        return SwapParams.device(swapBytes, pageSize);
    }

    /** {@link Watermarks#bootFrames}: the fewest frames that boot {@code threads} tasks. */
    public static long bootFrames(final long frames, final int threads, final long pageSize) {
        return Watermarks.bootFrames(frames, threads, pageSize);
    }
}
