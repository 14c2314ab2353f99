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
    public SwapParams {
        if (pages < 2) {
            throw new IllegalArgumentException("a swap device needs at least 2 pages (the header and a slot): " + pages);
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
}
