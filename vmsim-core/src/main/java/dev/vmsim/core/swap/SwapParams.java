package dev.vmsim.core.swap;

/**
 * A swap device's model parameters.
 *
 * @param pages slots, the header slot included (swapon's si->max)
 * @param readNs latency of one 4 KiB read
 * @param writeNs latency of one 4 KiB write
 * @param queueDepth requests the device services at once; more wait for a tag
 * @param pageCluster log2 of the readahead window (/proc/sys/vm/page-cluster, 3 by default: 8 pages);
 *     0 turns readahead off
 */
public record SwapParams(long pages, long readNs, long writeNs, int queueDepth, int pageCluster) {
    /**
     * 4 KiB random read latency: Intel SSD DC P4510 product specification (ark.intel.com,
     * "Latency - Read 77 µs"), a datacenter NVMe drive of the kind a swap device is.
     */
    public static final long DEVICE_READ_NS = 77_000;
    /** 4 KiB random write latency: the same specification's "Latency - Write 18 µs". */
    public static final long DEVICE_WRITE_NS = 18_000;
    /**
     * Requests the device serves at once: 32, the queue depth at which the same specification (as
     * NVMe datasheets generally) quotes its 4K random IOPS.
     */
    public static final int DEVICE_QUEUE_DEPTH = 32;
    /** /proc/sys/vm/page-cluster's default: a readahead window of 8 pages. */
    public static final int PAGE_CLUSTER = 3;

    public SwapParams {
        if (pages < 2) {
            throw new IllegalArgumentException(
                    "a swap device needs at least 2 pages (the header and a slot): " + pages);
        }
        if (readNs < 0 || writeNs < 0) {
            throw new IllegalArgumentException("negative swap latency");
        }
        if (queueDepth < 1) {
            throw new IllegalArgumentException("swap queue depth " + queueDepth);
        }
        if (pageCluster < 0 || pageCluster > 5) {
            throw new IllegalArgumentException("page-cluster " + pageCluster + " (0..5)");
        }
    }

    /**
     * An SSD-like device of {@code pages} slots: 4K reads 80 us, writes 30 us, queue depth 32,
     * page-cluster 3. The latencies are the order of a datacenter NVMe SSD's random 4K QD1 figures;
     * they are defaults to be replaced by a machine profile, not measurements.
     */
    public static SwapParams ssd(final long pages) {
        return new SwapParams(pages, 80_000, 30_000, 32, 3);
    }

    /**
     * The swap device {@code --swap SIZE} (or a vmscript's {@code swap SIZE}) gives a machine of
     * PAGE_SIZE {@code pageSize}: {@code swapBytes} of slots plus the header slot (swapon's si->max
     * counts it), with the {@code DEVICE_*} latencies; a larger page is that many 4K transfers.
     */
    public static SwapParams device(final long swapBytes, final long pageSize) {
        final long pages = swapBytes / pageSize + 1;
        final long scale = Math.max(1, pageSize / 4096);
        return new SwapParams(pages, DEVICE_READ_NS * scale, DEVICE_WRITE_NS * scale, DEVICE_QUEUE_DEPTH, PAGE_CLUSTER);
    }

    /**
     * Can a JVM whose heap limit is {@code maxHeap} (Runtime.maxMemory) back a swap device of
     * {@code swapBytes}? Its slots are stored on the Java heap (a page's words per slot written, and
     * a reference per slot), so a swap it could not hold when full is refused before the run rather
     * than ending it with an OutOfMemoryError. The machine's memory is off-heap and does not count.
     */
    public static boolean hostCanBack(final long swapBytes, final long pageSize, final long maxHeap) {
        final long slots = swapBytes / pageSize + 1;
        return slots <= Integer.MAX_VALUE - 8 && swapBytes + slots * Long.BYTES <= maxHeap;
    }
}
