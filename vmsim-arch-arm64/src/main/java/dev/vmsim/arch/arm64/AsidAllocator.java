package dev.vmsim.arch.arm64;

import java.util.BitSet;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * ASID allocation with generation rollover, as arch/arm64/mm/context.c does it: a context id is
 * {@code generation | asid}; an mm whose id is of an older generation gets a new ASID on its next
 * switch. When the ASID space is exhausted the generation is bumped and flush_context() frees every
 * ASID except those live on a CPU (kept as reserved_asids so running mms keep theirs), and every CPU
 * must flush its TLB before running with the new generation (tlb_flush_pending).
 *
 * <p>Departures: no KPTI ASID pairs and no pinned ASIDs (SVA); an mm's context is kept in a weak
 * map here rather than in mm_context_t, since core's MmStruct has no arch field.
 *
 * <p>Locking: the slow path runs under {@code cpu_asid_lock} (this object's monitor); the fast path
 * is the lock-free cmpxchg on active_asids[cpu] that check_and_switch_context uses, which races with
 * flush_context's xchg to 0.
 */
public final class AsidAllocator {
    /** NR_CPUS for the per-CPU arrays. */
    public static final int NR_CPUS = 256;

    private final int asidBits;
    private final long asidMask;
    private final int numUserAsids;
    private final long firstVersion;
    private final AtomicLong asidGeneration;
    private final BitSet asidMap;
    private final AtomicLongArray activeAsids = new AtomicLongArray(NR_CPUS);
    private final long[] reservedAsids = new long[NR_CPUS];
    private final BitSet tlbFlushPending = new BitSet(NR_CPUS);
    private final Map<Object, AtomicLong> contexts = new WeakHashMap<>();
    private int curIdx = 1;
    private long rollovers;

    /** An allocator of {@code asidBits}-bit ASIDs (16 for FEAT_ASID16; small values exercise rollover). */
    public AsidAllocator(final int asidBits) {
        if (asidBits < 2 || asidBits > 16) {
            throw new IllegalArgumentException("asidBits " + asidBits);
        }
        this.asidBits = asidBits;
        this.numUserAsids = 1 << asidBits;
        this.asidMask = numUserAsids - 1;
        this.firstVersion = 1L << asidBits;
        this.asidGeneration = new AtomicLong(firstVersion);
        this.asidMap = new BitSet(numUserAsids);
        asidMap.set(0); // ASID 0 is reserved (used with the reserved TTBR0 / init_mm)
    }

    public int asidBits() {
        return asidBits;
    }

    /** The context (mm->context.id) of an mm, created at 0 (no ASID yet). */
    private AtomicLong context(final Object mm) {
        synchronized (contexts) {
            return contexts.computeIfAbsent(mm, k -> new AtomicLong());
        }
    }

    /** ASID(mm): the hardware ASID of {@code mm}'s current context id (0 if it never ran). */
    public int asid(final Object mm) {
        return (int) (context(mm).get() & asidMask);
    }

    /** How many times the generation rolled over. */
    public synchronized long rollovers() {
        return rollovers;
    }

    private boolean genMatch(final long id) {
        return ((id ^ asidGeneration.get()) >>> asidBits) == 0;
    }

    /**
     * check_and_switch_context: the ASID {@code mm} runs with on {@code cpu}; {@code flushAll} runs
     * local_flush_tlb_all when this CPU must flush for a new generation.
     */
    public int checkAndSwitchContext(final Object mm, final int cpu, final Runnable flushAll) {
        final AtomicLong ctx = context(mm);
        long asid = ctx.get();
        final long oldActive = activeAsids.get(cpu);
        if (oldActive != 0 && genMatch(asid) && activeAsids.compareAndSet(cpu, oldActive, asid)) {
            return (int) (asid & asidMask); // switch_mm_fastpath
        }
        synchronized (this) {
            asid = ctx.get();
            if (!genMatch(asid)) {
                asid = newContext(asid);
                ctx.set(asid);
            }
            if (tlbFlushPending.get(cpu)) {
                tlbFlushPending.clear(cpu);
                flushAll.run();
            }
            activeAsids.set(cpu, asid);
            return (int) (asid & asidMask);
        }
    }

    /** new_context: reuse the old ASID in the new generation if possible, else find a free one. */
    private long newContext(final long oldId) {
        long generation = asidGeneration.get();
        if (oldId != 0) {
            final long newId = generation | (oldId & asidMask);
            if (checkUpdateReservedAsid(oldId, newId)) {
                return newId;
            }
            final int a = (int) (oldId & asidMask);
            if (!asidMap.get(a)) {
                asidMap.set(a);
                return newId;
            }
        }
        int a = asidMap.nextClearBit(curIdx);
        if (a >= numUserAsids) {
            generation = asidGeneration.addAndGet(firstVersion);
            flushContext();
            a = asidMap.nextClearBit(1); // more ASIDs than CPUs: always succeeds
        }
        asidMap.set(a);
        curIdx = a;
        return generation | a;
    }

    /** flush_context: new generation; keep the ASIDs live on CPUs, make every CPU flush. */
    private void flushContext() {
        rollovers++;
        asidMap.clear();
        asidMap.set(0);
        for (int i = 0; i < NR_CPUS; i++) {
            long a = activeAsids.getAndSet(i, 0);
            // A CPU that saw a rollover already (active = 0) keeps its reserved ASID.
            if (a == 0) {
                a = reservedAsids[i];
            }
            asidMap.set((int) (a & asidMask));
            reservedAsids[i] = a;
        }
        tlbFlushPending.set(0, NR_CPUS);
    }

    private boolean checkUpdateReservedAsid(final long oldId, final long newId) {
        boolean hit = false;
        for (int i = 0; i < NR_CPUS; i++) {
            if (reservedAsids[i] == oldId) {
                hit = true;
                reservedAsids[i] = newId;
            }
        }
        return hit;
    }
}
