package dev.vmsim.core.phys;

/**
 * The zone watermarks of mm/page_alloc.c, for the machine's one zone: min_free_kbytes as
 * init_per_zone_wmark_min derives it from the memory size (int_sqrt(lowmem_kbytes * 16), clamped to
 * [128, 262144] KiB), and WMARK_MIN / WMARK_LOW / WMARK_HIGH / WMARK_PROMO as
 * __setup_per_zone_wmarks spaces them: min = min_free_kbytes in pages; each step above it is
 * max(min / 4, managed_pages * watermark_scale_factor / 10000), watermark_scale_factor 10.
 *
 * <p>With one zone, the zone's share of min_free_kbytes is all of it, and lowmem_reserve is zero.
 * The clamp's floor of 128 KiB is the kernel's: on a machine of a few hundred KiB it reserves a
 * large part of memory, as it would.
 */
public final class Watermarks {
    /** vm.watermark_scale_factor's default (0.1% of memory per step). */
    public static final int WATERMARK_SCALE_FACTOR = 10;

    private final long minFreeKbytes;
    private final long min;
    private final long low;
    private final long high;
    private final long promo;

    /**
     * @param managedPages the zone's managed pages (every frame but the reserved zero page)
     * @param pageShift PAGE_SHIFT
     */
    public Watermarks(final long managedPages, final int pageShift) {
        this.minFreeKbytes = minFreeKbytes(managedPages, pageShift);
        this.min = minFreeKbytes >> (pageShift - 10);
        final long step = Math.max(min >> 2, managedPages * WATERMARK_SCALE_FACTOR / 10000);
        this.low = min + step;
        this.high = low + step;
        this.promo = high + step;
    }

    /**
     * init_per_zone_wmark_min: min_free_kbytes = int_sqrt(lowmem_kbytes * 16), at least 128 and at
     * most 262144 (256 MiB). lowmem_kbytes is nr_free_buffer_pages at boot: the managed pages,
     * since no watermark is set yet.
     */
    static long minFreeKbytes(final long managedPages, final int pageShift) {
        final long lowmemKbytes = managedPages << (pageShift - 10);
        final long v = intSqrt(lowmemKbytes * 16);
        return Math.max(128, Math.min(262144, v));
    }

    /** int_sqrt: the integer square root, rounded down. */
    static long intSqrt(final long x) {
        long r = (long) Math.sqrt((double) x);
        while (r * r > x) {
            r--;
        }
        while ((r + 1) * (r + 1) <= x) {
            r++;
        }
        return r;
    }

    /** vm.min_free_kbytes. */
    public long minFreeKbytes() {
        return minFreeKbytes;
    }

    /** min_wmark_pages. */
    public long min() {
        return min;
    }

    /** low_wmark_pages. */
    public long low() {
        return low;
    }

    /** high_wmark_pages. */
    public long high() {
        return high;
    }

    /** promo_wmark_pages. */
    public long promo() {
        return promo;
    }

    /**
     * zone_watermark_ok for an order-0 request with no lowmem_reserve and no ALLOC_HARDER: true
     * when {@code freePages} is above {@code mark} (__zone_watermark_ok: {@code free_pages <= min}
     * fails).
     */
    public static boolean zoneWatermarkOk(final long freePages, final long mark) {
        return freePages > mark;
    }

    @Override
    public String toString() {
        return "min " + min + " low " + low + " high " + high + " (min_free_kbytes " + minFreeKbytes + ")";
    }

    /**
     * Page-table levels a task's first page needs below the PGD, at most (x86-64 4-level, arm64 4K
     * 4-level; arm64's 16K and 64K granules need fewer): the boot minimum takes the upper bound.
     */
    public static final int TABLES_PER_TASK = 3;

    /**
     * The fewest frames a machine of PAGE_SIZE {@code pageSize} needs to boot {@code threads} tasks
     * of one mm and let each fault one page: the reserved zero page; the pages below the min
     * watermark, which an ordinary allocation never takes (they depend on the memory size, so the
     * check is against the {@code frames} asked for); the mm's PGD; and per task a stack page, one
     * data page (the minimum a workload needs: with swap the rest can be reclaimed) and the page
     * tables below the PGD that map them. Not a kernel figure: the simulator's refusal of a
     * {@code --mem} (or a vmscript {@code mem}) too small to do anything.
     */
    public static long bootFrames(final long frames, final int threads, final long pageSize) {
        final int pageShift = Long.numberOfTrailingZeros(pageSize);
        final long min = new Watermarks(Math.max(1, frames - 1), pageShift).min();
        return 1 + min + 1 + (long) threads * (2 + TABLES_PER_TASK);
    }
}
