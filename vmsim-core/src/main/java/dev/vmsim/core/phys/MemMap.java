package dev.vmsim.core.phys;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * mem_map: the struct page of every frame, as the fields reclaim and swap need them. Kept as
 * parallel arrays indexed by pfn (not one object per frame) so a machine of millions of frames costs
 * a few arrays. The reference and map counts stay in {@link FrameAllocator}.
 *
 * <ul>
 *   <li>{@code flags}: {@link PageFlags} bits, changed with atomic bit operations (set_bit,
 *       clear_bit, test_and_set_bit, test_and_clear_bit: full-barrier RMWs, as the kernel's
 *       value-returning atomics are) or, for a folio no one else can see yet, plain {@link
 *       #setFlagsInit}.
 *   <li>{@code mapping}: for an anonymous folio, its anon_vma (the kernel tags the pointer with
 *       PAGE_MAPPING_ANON; here the type says it); null when free. Written with release, read with
 *       acquire (folio_get_anon_vma reads it locklessly under RCU).
 *   <li>{@code index}: the folio's linear page index in its anon_vma (vma->vm_pgoff units).
 *   <li>{@code privateValue}: folio->swap (a swp_entry_t value) while {@link PageFlags#PG_SWAPCACHE}.
 * </ul>
 *
 * <p>{@link FrameAllocator#allocZeroed} clears a frame's entry before handing it out; a frame is
 * freed only with no flag a reclaim or swap list depends on (asserted there).
 */
public final class MemMap {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle OBJECTS = MethodHandles.arrayElementVarHandle(Object[].class);

    private final long[] flags;
    private final Object[] mapping;
    private final long[] index;
    private final long[] privateValue;

    public MemMap(final int frames) {
        this.flags = new long[frames];
        this.mapping = new Object[frames];
        this.index = new long[frames];
        this.privateValue = new long[frames];
    }

    /** Number of struct pages (the frames of the machine). */
    public int size() {
        return flags.length;
    }

    /** The flags word (volatile read). */
    public long flags(final long pfn) {
        return (long) LONGS.getVolatile(flags, (int) pfn);
    }

    /** folio_test_*: {@code bit} of the flags word. */
    public boolean test(final long pfn, final int bit) {
        return (flags(pfn) & (1L << bit)) != 0;
    }

    /** set_bit: atomic. */
    public void set(final long pfn, final int bit) {
        LONGS.getAndBitwiseOr(flags, (int) pfn, 1L << bit);
    }

    /** clear_bit: atomic. */
    public void clear(final long pfn, final int bit) {
        LONGS.getAndBitwiseAnd(flags, (int) pfn, ~(1L << bit));
    }

    /** test_and_set_bit: atomic, full barrier; returns the old bit. */
    public boolean testAndSet(final long pfn, final int bit) {
        return ((long) LONGS.getAndBitwiseOr(flags, (int) pfn, 1L << bit) & (1L << bit)) != 0;
    }

    /** test_and_clear_bit: atomic, full barrier; returns the old bit. */
    public boolean testAndClear(final long pfn, final int bit) {
        return ((long) LONGS.getAndBitwiseAnd(flags, (int) pfn, ~(1L << bit)) & (1L << bit)) != 0;
    }

    /**
     * __folio_set_* on a folio no other CPU can reach yet (just allocated, not yet mapped or on a
     * list): a plain write, published by whatever makes the folio reachable (a release store of
     * the PTE, a list insertion under its lock).
     */
    public void setFlagsInit(final long pfn, final long word) {
        LONGS.set(flags, (int) pfn, word);
    }

    /** folio->mapping (acquire). */
    public Object mapping(final long pfn) {
        return OBJECTS.getAcquire(mapping, (int) pfn);
    }

    /** Sets folio->mapping (release: the anon_vma is fully built before a reader sees it). */
    public void setMapping(final long pfn, final Object value) {
        OBJECTS.setRelease(mapping, (int) pfn, value);
    }

    /** folio->index. */
    public long index(final long pfn) {
        return (long) LONGS.getAcquire(index, (int) pfn);
    }

    public void setIndex(final long pfn, final long value) {
        LONGS.setRelease(index, (int) pfn, value);
    }

    /** folio->swap / page_private: the swp_entry_t value of a swap-cache folio. */
    public long privateValue(final long pfn) {
        return (long) LONGS.getAcquire(privateValue, (int) pfn);
    }

    public void setPrivateValue(final long pfn, final long value) {
        LONGS.setRelease(privateValue, (int) pfn, value);
    }

    /** Clears the frame's struct page as the allocator hands it out (prep_new_page). */
    void reset(final long pfn) {
        final int i = (int) pfn;
        LONGS.setOpaque(flags, i, 0L);
        OBJECTS.setOpaque(mapping, i, null);
        LONGS.setOpaque(index, i, 0L);
        LONGS.setOpaque(privateValue, i, 0L);
    }
}
