package dev.vmsim.core.phys;

/**
 * The zone's free frames, a stand-in for the buddy free lists (zone->free_area): only order-0
 * frames exist in the simulator, so a stack suffices. Guarded by its monitor, the analogue of
 * {@code zone->lock}; callers move frames in batches ({@code rmqueue_bulk()},
 * {@code free_pcppages_bulk()}) so the lock is taken once per batch.
 */
final class ZoneFreeArea {
    private final long[] stack;
    private int top;

    ZoneFreeArea(final int capacity) {
        this.stack = new long[capacity];
    }

    /** Adds one frame (boot-time free_area_init). */
    synchronized void add(final long pfn) {
        stack[top++] = pfn;
    }

    /** free_pcppages_bulk(): adds {@code n} frames from {@code src[from..]}. */
    synchronized void addBatch(final long[] src, final int from, final int n) {
        System.arraycopy(src, from, stack, top, n);
        top += n;
    }

    /** rmqueue_bulk(): moves up to {@code n} frames into {@code dst[from..]}; returns how many. */
    synchronized int removeBatch(final long[] dst, final int from, final int n) {
        final int k = Math.min(n, top);
        top -= k;
        System.arraycopy(stack, top, dst, from, k);
        return k;
    }

    synchronized int count() {
        return top;
    }

    /**
     * zone_page_state(NR_FREE_PAGES) without the lock: an opaque read of a word written under it,
     * whole but possibly stale, as the watermark checks read the kernel's counter.
     */
    int countRacy() {
        return (int) TOP.getOpaque(this);
    }

    private static final java.lang.invoke.VarHandle TOP;

    static {
        try {
            TOP = java.lang.invoke.MethodHandles.lookup().findVarHandle(ZoneFreeArea.class, "top", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
