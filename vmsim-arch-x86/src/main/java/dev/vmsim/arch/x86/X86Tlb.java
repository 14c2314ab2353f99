package dev.vmsim.arch.x86;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A set-associative, PCID-tagged x86 TLB of 4 KiB translations: one CPU's (tag, vpn) → (pfn,
 * permissions) cache, held in two {@code long[]} so a hit allocates nothing.
 *
 * <p><b>Entry encoding.</b> {@code tags[i]}: bit 63 VALID, bit 62 GLOBAL, bits 48-59 PCID (0 for a
 * global entry, which matches every PCID), bits 0-44 the virtual page number. {@code data[i]}: the
 * page's physical address (bits 12-51) and the effective permissions of the walk in PTE bit
 * positions: PRESENT (always), RW, USER and NX combined over every level, DIRTY if the leaf was
 * dirty when cached (a write through a clean entry must walk again to set D, as the SDM requires),
 * and the leaf's protection key (bits 59-62); plus two derived bits in the PTE's software slots,
 * {@link #EXEC_USER} (USER and not NX) and {@link #EXEC_SUPERVISOR} (not USER, not NX: SMEP), so
 * that every permission check on a hit is one positive mask test, {@code (data & need) == need};
 * and {@link #PKEY_APPLIES} (a user page, whose data accesses PKRU governs).
 *
 * <p><b>Thread safety.</b> {@link #lookup} and {@link #insert} are called only by the owning CPU's
 * thread. The {@code flush*} / {@code inv*} methods may be called by any thread (a TLB shootdown):
 * they only ever change a tag to INVALID, with compare-and-set, so a concurrent insert of a new
 * translation into the same way is never lost and a concurrent lookup sees either the old tag or
 * INVALID — never a torn entry. {@code data} is written only by the owner, before it publishes the
 * tag (release), so the owner always reads the data that belongs to a tag it just matched. A lookup
 * that matched a tag just before a remote invalidation is an access "in flight" during the
 * shootdown, which the core's Cpu handshake accounts for (as an IPI is taken between instructions).
 *
 * <p>Departures: huge (2 MiB / 1 GiB) translations are cached as the 4 KiB piece that was used
 * (the hardware keeps separate large-page entries, so INVLPG of any address in a huge page drops
 * all of it; the kernel flushes huge mappings by range, which this TLB honours page by page).
 * Replacement is round-robin per set (real parts use a pseudo-LRU).
 */
public final class X86Tlb {
    static final long VALID = 1L << 63;
    static final long GLOBAL = 1L << 62;
    static final int PCID_SHIFT = 48;
    /** PCIDs are 12 bits (CR3 bits 0-11). */
    public static final int PCID_MASK = 0xFFF;

    static final long TAG_PCID_MASK = (long) PCID_MASK << PCID_SHIFT;
    /** Virtual page numbers of up to 57-bit addresses. */
    static final long VPN_MASK = (1L << 45) - 1;

    static final long INVALID = 0;
    /** Data bit: a user instruction fetch is allowed (USER and not NX over the walk). Bit 9 (PTE software bit). */
    public static final long EXEC_USER = 1L << 9;
    /** Data bit: a supervisor fetch is allowed (not NX, and not a user page: SMEP). Bit 10 (PTE software bit). */
    public static final long EXEC_SUPERVISOR = 1L << 10;
    /** Data bit: a user page, so PKRU applies to data accesses (whatever its key, key 0 included). Bit 11. */
    public static final long PKEY_APPLIES = 1L << 11;

    private static final VarHandle TAGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final int sets;
    private final int ways;
    private final int setMask;
    private final long[] tags;
    /** Written only by the owner thread, before the release store of the matching tag. */
    private final long[] data;
    /** Round-robin victim way per set; owner thread only. */
    private final int[] victim;

    /**
     * @param sets number of sets, a power of two
     * @param ways associativity
     */
    public X86Tlb(final int sets, final int ways) {
        if (sets <= 0 || Integer.bitCount(sets) != 1 || ways <= 0) {
            throw new IllegalArgumentException("sets must be a power of two and ways positive: " + sets + "x" + ways);
        }
        this.sets = sets;
        this.ways = ways;
        this.setMask = sets - 1;
        this.tags = new long[sets * ways];
        this.data = new long[sets * ways];
        this.victim = new int[sets];
    }

    public int sets() {
        return sets;
    }

    public int ways() {
        return ways;
    }

    /** Number of entries (sets × ways). */
    public int capacity() {
        return sets * ways;
    }

    static long key(final long vpn, final int pcid) {
        return VALID | ((long) pcid << PCID_SHIFT) | vpn;
    }

    static long globalKey(final long vpn) {
        return VALID | GLOBAL | vpn;
    }

    /**
     * The cached data for {@code vpn} in context {@code pcid} (or a global entry), or 0 on a miss.
     * Owner thread only; allocation-free.
     */
    public long lookup(final long vpn, final int pcid) {
        return lookup(vpn, key(vpn, pcid));
    }

    /**
     * The hit path: the data of the way whose tag is {@code key} (a {@link #key} of {@code vpn}) or
     * the global tag of {@code vpn}, or 0. One opaque load of the tag per way probed (a remote flush
     * that CASed the tag to INVALID is seen promptly, and a tag is never torn); the data that follows
     * a matched tag is a plain load, because only this thread writes it (program order, see
     * {@link #insert}). The fill puts a new translation in the first free way, so the hot entries of
     * a set sit in its first ways and a hit usually costs one probe. Owner thread only.
     */
    long lookup(final long vpn, final long key) {
        final long[] t = tags;
        final int base = ((int) vpn & setMask) * ways;
        final long gkey = key & ~TAG_PCID_MASK | GLOBAL;
        final long first = (long) TAGS.getOpaque(t, base);
        if (first == key || first == gkey) { // the usual hit: no loop
            return data[base];
        }
        for (int i = base + 1, end = base + ways; i < end; i++) {
            final long tag = (long) TAGS.getOpaque(t, i);
            if (tag == key || tag == gkey) {
                return data[i];
            }
        }
        return 0;
    }

    /** Caches a translation, replacing an entry with the same tag, else an invalid way, else the round-robin victim. */
    public void insert(final long vpn, final int pcid, final boolean global, final long entryData) {
        final long key = global ? globalKey(vpn) : key(vpn, pcid);
        final int set = (int) vpn & setMask;
        final int base = set * ways;
        int slot = -1;
        for (int i = base, end = base + ways; i < end; i++) {
            final long t = (long) TAGS.getOpaque(tags, i);
            if (t == key) {
                slot = i;
                break;
            }
            if (t == INVALID && slot < 0) {
                slot = i;
            }
        }
        if (slot < 0) {
            final int v = victim[set];
            victim[set] = v + 1 == ways ? 0 : v + 1;
            slot = base + v;
        }
        data[slot] = entryData;
        TAGS.setRelease(tags, slot, key); // publishes data[slot] to this CPU's later lookups
    }

    /** Invalidates way {@code i} if it still holds {@code expected} (a remote insert wins over a stale flush). */
    private void invalidate(final int i, final long expected) {
        TAGS.compareAndSet(tags, i, expected, INVALID);
    }

    /** INVLPG: the translation of {@code vpn} in {@code pcid}, and a global one for {@code vpn}. */
    public void invlpg(final long vpn, final int pcid) {
        final long key = key(vpn, pcid);
        final long gkey = globalKey(vpn);
        final int base = ((int) vpn & setMask) * ways;
        for (int i = base, end = base + ways; i < end; i++) {
            final long t = (long) TAGS.getVolatile(tags, i);
            if (t == key || t == gkey) {
                invalidate(i, t);
            }
        }
    }

    /** INVPCID type 0 (individual address): {@code vpn} in {@code pcid}, global translations excepted. */
    public void invpcidIndividual(final long vpn, final int pcid) {
        final long key = key(vpn, pcid);
        final int base = ((int) vpn & setMask) * ways;
        for (int i = base, end = base + ways; i < end; i++) {
            if ((long) TAGS.getVolatile(tags, i) == key) {
                invalidate(i, key);
            }
        }
    }

    /** INVPCID type 1 (single context): every non-global translation tagged {@code pcid}. */
    public void invpcidSingleContext(final int pcid) {
        final long want = VALID | ((long) pcid << PCID_SHIFT);
        for (int i = 0; i < tags.length; i++) {
            final long t = (long) TAGS.getVolatile(tags, i);
            if ((t & (VALID | GLOBAL | TAG_PCID_MASK)) == want) {
                invalidate(i, t);
            }
        }
    }

    /** INVPCID type 2 (all contexts, globals included); also what a CR4.PGE toggle does. */
    public void invpcidAllIncludingGlobals() {
        for (int i = 0; i < tags.length; i++) {
            TAGS.setVolatile(tags, i, INVALID);
        }
    }

    /** INVPCID type 3 (all contexts, globals retained); also a CR3 write without PCID. */
    public void invpcidAllNonGlobal() {
        for (int i = 0; i < tags.length; i++) {
            final long t = (long) TAGS.getVolatile(tags, i);
            if ((t & (VALID | GLOBAL)) == VALID) {
                invalidate(i, t);
            }
        }
    }

    /**
     * The valid entries as (tag, data) pairs, for teaching views; racy against concurrent flushes
     * (the owner thread should call this: only it writes data).
     */
    java.util.List<long[]> entries() {
        final java.util.List<long[]> out = new java.util.ArrayList<>();
        for (int i = 0; i < tags.length; i++) {
            final long t = (long) TAGS.getAcquire(tags, i);
            if ((t & VALID) != 0) {
                out.add(new long[] {t, data[i]});
            }
        }
        return out;
    }

    /** Number of valid entries (for tests and dumps; racy against concurrent flushes). */
    public int validEntries() {
        int n = 0;
        for (int i = 0; i < tags.length; i++) {
            if (((long) TAGS.getVolatile(tags, i) & VALID) != 0) {
                n++;
            }
        }
        return n;
    }
}
