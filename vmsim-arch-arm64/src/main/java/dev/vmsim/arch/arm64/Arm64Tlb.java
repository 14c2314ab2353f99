package dev.vmsim.arch.arm64;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One CPU's unified TLB: a direct-mapped array of leaf translations tagged with a 16-bit ASID, where
 * global entries (nG clear) match every ASID. Blocks are cached splintered into granule pages. Beside
 * it, the CPU's {@link Arm64WalkCache} of table descriptors, which the TLBI operations here also
 * invalidate, except the last-level forms ({@link #tlbiVale1}, {@link #tlbiVaale1}).
 *
 * <h2>Assumptions and guarantees</h2>
 * <ol>
 *   <li>Only the owning CPU's thread looks up and fills. Any thread may invalidate (the TLBI
 *       operations, which the inner-shareable broadcast forms run on every CPU's TLB).
 *   <li>An entry is two longs: a tag (valid | global | ASID | VPN) and a data word (page number and
 *       permissions). Only the owner writes data, before publishing the tag with a volatile store;
 *       invalidators only CAS a matching tag to 0. A lookup therefore sees a whole entry or an
 *       invalid one, never a tag of one translation with the data of another.
 *   <li>A TLBI that completes ({@link #flushGeneration} incremented, then the slots scanned) leaves
 *       no entry filled from a descriptor read before the TLBI began: a fill re-reads the generation
 *       after publishing its tag and withdraws the entry if a TLBI ran during its walk. This is the
 *       simulator's stand-in for the DSB that waits for in-flight walks after a broadcast TLBI.
 * </ol>
 *
 * <p>Only entries with AF set are cached (ARM ARM: an entry that would raise an access flag fault is
 * never cached). Hit and miss counters are written by the owner only; other threads read them with
 * opaque loads (a monotonic, possibly slightly stale value).
 */
public final class Arm64Tlb {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle GEN;
    private static final VarHandle HITS;
    private static final VarHandle MISSES;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            GEN = l.findVarHandle(Arm64Tlb.class, "flushGen", long.class);
            HITS = l.findVarHandle(Arm64Tlb.class, "hits", long.class);
            MISSES = l.findVarHandle(Arm64Tlb.class, "misses", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final long TAG_VALID = 1L << 63;
    static final long TAG_GLOBAL = 1L << 56;
    static final int ASID_SHIFT = 40;
    static final long VPN_MASK = (1L << 40) - 1;
    private static final long MATCH_VA = TAG_VALID | VPN_MASK;
    /** Data word: page number in bits 39:0, permissions above (see {@link Arm64Walker}). */
    static final long DATA_PAGE_MASK = VPN_MASK;

    private final long[] tags;
    private final long[] data;
    private final int mask;
    private final Arm64WalkCache walkCache;
    /** Incremented (volatile) by every invalidation before it scans; read by fills. */
    private volatile long flushGen;

    private long hits;
    private long misses;

    /** A TLB of {@code entries} slots (rounded up to a power of two) and a walk cache for {@code format}'s tables. */
    public Arm64Tlb(final int entries, final Arm64PageTableFormat format) {
        final int n = Integer.highestOneBit(Math.max(1, entries - 1)) << 1;
        this.tags = new long[n];
        this.data = new long[n];
        this.mask = n - 1;
        this.walkCache = new Arm64WalkCache(format);
    }

    Arm64WalkCache walkCache() {
        return walkCache;
    }

    /** Live walk-cache entries (for tests; racy by nature). */
    public int liveWalkEntries() {
        return walkCache.liveEntries();
    }

    public int size() {
        return tags.length;
    }

    /** The data word of a live entry for {@code vpn} under {@code asid}, or 0 on a miss. Owner only. */
    public long lookup(final long vpn, final int asid) {
        final int i = (int) vpn & mask;
        final long t = (long) SLOT.getAcquire(tags, i); // acquire: pairs with the volatile publish in fill
        if (t == (TAG_VALID | (long) asid << ASID_SHIFT | vpn)
                || ((t & TAG_GLOBAL) != 0 && (t & MATCH_VA) == (TAG_VALID | vpn))) {
            return data[i];
        }
        return 0;
    }

    void countHit() {
        HITS.setOpaque(this, hits + 1);
    }

    void countMiss() {
        MISSES.setOpaque(this, misses + 1);
    }

    /** The flush generation to pass to {@link #fill}, read before starting the walk. */
    public long flushGeneration() {
        return flushGen;
    }

    /** Caches a completed walk, unless a TLBI ran since {@code genBeforeWalk}. Owner only. */
    public void fill(
            final long vpn, final int asid, final boolean global, final long dataWord, final long genBeforeWalk) {
        final int i = (int) vpn & mask;
        final long tag = TAG_VALID | (global ? TAG_GLOBAL : 0) | (long) asid << ASID_SHIFT | (vpn & VPN_MASK);
        // Only this thread reads data[], so it may be overwritten while the old tag is still live.
        data[i] = dataWord;
        // Volatile: the tag store must be ordered before the generation re-read (store-load).
        SLOT.setVolatile(tags, i, tag);
        if (flushGen != genBeforeWalk) {
            SLOT.compareAndSet(tags, i, tag, 0L); // the walk may have read a descriptor the TLBI retired
        }
    }

    private void beginInvalidate() {
        GEN.getAndAdd(this, 1L);
    }

    private void invalidateSlot(final int i, final long t) {
        SLOT.compareAndSet(tags, i, t, 0L);
    }

    /**
     * TLBI VAE1: the entry for {@code vpn} under {@code asid}, a global entry for {@code vpn}, and
     * every cached table descriptor on {@code vpn}'s walk.
     */
    public void tlbiVae1(final int asid, final long vpn) {
        beginInvalidate();
        walkCache.invalidateVa(asid, vpn);
        invalidateLeaf(asid, vpn);
    }

    /** TLBI VALE1: as {@link #tlbiVae1} for the last level only; cached table descriptors stay. */
    public void tlbiVale1(final int asid, final long vpn) {
        beginInvalidate();
        invalidateLeaf(asid, vpn);
    }

    private void invalidateLeaf(final int asid, final long vpn) {
        final int i = (int) vpn & mask;
        final long t = (long) SLOT.getVolatile(tags, i);
        if ((t & MATCH_VA) == (TAG_VALID | (vpn & VPN_MASK))
                && ((t & TAG_GLOBAL) != 0 || ((t >>> ASID_SHIFT) & 0xffff) == asid)) {
            invalidateSlot(i, t);
        }
    }

    /** TLBI VAALE1: the last-level entry for {@code vpn} under any ASID; cached table descriptors stay. */
    public void tlbiVaale1(final long vpn) {
        beginInvalidate();
        final int i = (int) vpn & mask;
        final long t = (long) SLOT.getVolatile(tags, i);
        if ((t & MATCH_VA) == (TAG_VALID | (vpn & VPN_MASK))) {
            invalidateSlot(i, t);
        }
    }

    /** TLBI VAAE1: the entry for {@code vpn} under any ASID and the table descriptors on its walk. */
    public void tlbiVaae1(final long vpn) {
        beginInvalidate();
        walkCache.invalidateVaAllAsids(vpn);
        final int i = (int) vpn & mask;
        final long t = (long) SLOT.getVolatile(tags, i);
        if ((t & MATCH_VA) == (TAG_VALID | (vpn & VPN_MASK))) {
            invalidateSlot(i, t);
        }
    }

    /** TLBI ASIDE1: every non-global entry of {@code asid}, and its cached table descriptors. */
    public void tlbiAside1(final int asid) {
        beginInvalidate();
        walkCache.invalidateAsid(asid);
        for (int i = 0; i < tags.length; i++) {
            final long t = (long) SLOT.getVolatile(tags, i);
            if ((t & TAG_VALID) != 0 && (t & TAG_GLOBAL) == 0 && ((t >>> ASID_SHIFT) & 0xffff) == asid) {
                invalidateSlot(i, t);
            }
        }
    }

    /** TLBI VMALLE1: everything, global entries and cached table descriptors included. */
    public void tlbiVmalle1() {
        beginInvalidate();
        walkCache.invalidateAsid(-1);
        for (int i = 0; i < tags.length; i++) {
            final long t = (long) SLOT.getVolatile(tags, i);
            if (t != 0) {
                invalidateSlot(i, t);
            }
        }
    }

    /**
     * The live entries as (tag, data) pairs, for teaching views; racy by nature (a data word read
     * after its tag may belong to a newer fill, so the owner thread should call this).
     */
    java.util.List<long[]> entries() {
        final java.util.List<long[]> out = new java.util.ArrayList<>();
        for (int i = 0; i < tags.length; i++) {
            final long t = (long) SLOT.getAcquire(tags, i);
            if (t != 0) {
                out.add(new long[] {t, data[i]});
            }
        }
        return out;
    }

    /** Live entries (for tests and statistics; racy by nature). */
    public int liveEntries() {
        int n = 0;
        for (int i = 0; i < tags.length; i++) {
            if ((long) SLOT.getVolatile(tags, i) != 0) {
                n++;
            }
        }
        return n;
    }

    public long hits() {
        return (long) HITS.getOpaque(this);
    }

    public long misses() {
        return (long) MISSES.getOpaque(this);
    }
}
