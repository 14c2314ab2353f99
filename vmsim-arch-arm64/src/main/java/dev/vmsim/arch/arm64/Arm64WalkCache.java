package dev.vmsim.arch.arm64;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One CPU's intermediate-level (walk) cache: table descriptors the walker followed, so that a later
 * walk of a nearby address starts below the root (ARM ARM D8.16 "Translation Lookaside Buffers":
 * an implementation may cache any level of a walk). One direct-mapped array per table level (core
 * level 1 and up, architectural levels 2 down to the start level), each entry keyed by the ASID and
 * the VA bits above that level, holding the next table's physical address and the APTable /
 * UXNTable / PXNTable bits accumulated down to it.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ol>
 *   <li>Looked up and filled by the owning CPU only, and only on a TLB miss; invalidated by any
 *       thread, always inside one of {@link Arm64Tlb}'s TLBI operations, which first increments
 *       the TLB's flush generation. A fill re-reads that generation after publishing and withdraws
 *       itself if a TLBI ran during its walk, as {@link Arm64Tlb#fill} does.
 *   <li>TLBI VAE1 / VAAE1, ASIDE1 and VMALLE1 drop matching walk entries; the last-level forms
 *       (VALE1 / VAALE1) do not (ARM ARM: a "last level" TLBI need only remove entries from the
 *       final level of the walk). That difference is what makes break-before-make of a table entry
 *       need a non-last-level invalidation (TLB-06).
 *   <li>Entries are tagged with the ASID even though table descriptors have no nG bit (a
 *       permitted implementation choice for TTBR0 walks); VMALLE1 drops every entry.
 * </ol>
 */
final class Arm64WalkCache {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    /** Slots per table level. */
    static final int ENTRIES_PER_LEVEL = 16;

    private static final long TAG_VALID = 1L << 63;
    private static final int ASID_SHIFT = 40;
    private static final long KEY_MASK = (1L << 40) - 1;
    private static final long TAG_ASID_MASK = 0xffffL << ASID_SHIFT;
    /** Data word bit 0: set in every filled entry (table addresses are granule aligned). */
    static final long DATA_VALID = 1;

    /** Per core level: how far a VPN shifts right to give that level's key (0 for level 0: unused). */
    private final int[] vpnShift;
    /** Per core level: tags and data words ({@code null} at level 0, which holds no table descriptors). */
    private final long[][] tags;

    private final long[][] data;
    private final int mask = ENTRIES_PER_LEVEL - 1;

    /** A walk cache for {@code format}'s table levels (1 .. levels-1). */
    Arm64WalkCache(final Arm64PageTableFormat format) {
        final int levels = format.levels();
        this.vpnShift = new int[levels];
        this.tags = new long[levels][];
        this.data = new long[levels][];
        for (int l = 1; l < levels; l++) {
            vpnShift[l] = format.levelShift(l) - format.pageShift();
            tags[l] = new long[ENTRIES_PER_LEVEL];
            data[l] = new long[ENTRIES_PER_LEVEL];
        }
    }

    int levels() {
        return tags.length;
    }

    /**
     * The cached descriptor of the table entry at core {@code level} on the walk of {@code vpn}
     * under {@code asid}: next table address | hierarchical bits | {@link #DATA_VALID}, or 0.
     */
    long lookup(final int level, final long vpn, final int asid) {
        final long key = vpn >>> vpnShift[level];
        final int i = (int) key & mask;
        final long t = (long) SLOT.getAcquire(tags[level], i);
        return t == tag(key, asid) ? data[level][i] : 0;
    }

    /** Caches one table step of a walk; withdrawn if {@code tlb}'s generation moved since {@code gen}. */
    void fill(
            final int level, final long vpn, final int asid, final long dataWord, final Arm64Tlb tlb, final long gen) {
        final long key = vpn >>> vpnShift[level];
        final int i = (int) key & mask;
        final long tag = tag(key, asid);
        data[level][i] = dataWord | DATA_VALID;
        SLOT.setVolatile(tags[level], i, tag); // volatile: ordered before the generation re-read
        if (tlb.flushGeneration() != gen) {
            SLOT.compareAndSet(tags[level], i, tag, 0L); // the walk may have read a descriptor a TLBI retired
        }
    }

    private static long tag(final long key, final int asid) {
        return TAG_VALID | (long) asid << ASID_SHIFT | (key & KEY_MASK);
    }

    /** The walk part of TLBI VAE1: every level's entry on the walk of {@code vpn} for {@code asid}. */
    void invalidateVa(final int asid, final long vpn) {
        for (int l = 1; l < tags.length; l++) {
            final long key = vpn >>> vpnShift[l];
            final int i = (int) key & mask;
            final long t = (long) SLOT.getVolatile(tags[l], i);
            if (t == tag(key, asid)) {
                SLOT.compareAndSet(tags[l], i, t, 0L);
            }
        }
    }

    /** The walk part of TLBI VAAE1: every level's entry on the walk of {@code vpn}, any ASID. */
    void invalidateVaAllAsids(final long vpn) {
        for (int l = 1; l < tags.length; l++) {
            final long key = vpn >>> vpnShift[l];
            final int i = (int) key & mask;
            final long t = (long) SLOT.getVolatile(tags[l], i);
            if ((t & (TAG_VALID | KEY_MASK)) == (TAG_VALID | (key & KEY_MASK))) {
                SLOT.compareAndSet(tags[l], i, t, 0L);
            }
        }
    }

    /** The walk part of TLBI ASIDE1 ({@code asid} >= 0) or VMALLE1 ({@code asid} < 0). */
    void invalidateAsid(final int asid) {
        for (int l = 1; l < tags.length; l++) {
            for (int i = 0; i < ENTRIES_PER_LEVEL; i++) {
                final long t = (long) SLOT.getVolatile(tags[l], i);
                if (t != 0 && (asid < 0 || (t & TAG_ASID_MASK) == (long) asid << ASID_SHIFT)) {
                    SLOT.compareAndSet(tags[l], i, t, 0L);
                }
            }
        }
    }

    /** Live entries over all levels (for tests; racy by nature). */
    int liveEntries() {
        int n = 0;
        for (int l = 1; l < tags.length; l++) {
            for (int i = 0; i < ENTRIES_PER_LEVEL; i++) {
                if ((long) SLOT.getVolatile(tags[l], i) != 0) {
                    n++;
                }
            }
        }
        return n;
    }
}
