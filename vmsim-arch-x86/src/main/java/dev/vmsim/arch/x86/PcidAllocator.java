package dev.vmsim.arch.x86;

import dev.vmsim.core.mm.MmStruct;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One CPU's dynamic ASID slots, as {@code cpu_tlbstate.ctxs[TLB_NR_DYN_ASIDS]} and
 * {@code choose_new_asid()} in arch/x86/mm/tlb.c: a handful of slots, each remembering which mm
 * (the kernel keys on {@code mm->context.ctx_id}; here the mm itself) last used it; a switch to an
 * mm that still owns a slot reuses its PCID without a flush, otherwise the next slot round-robin is
 * taken from its previous owner and must be flushed before use. PCID = ASID + 1
 * ({@code kern_pcid()}), so PCID 0 stays for a CPU running without PCID.
 *
 * <p>Departure: the kernel's per-slot {@code tlb_gen} lets a remote flush of a non-loaded mm be
 * deferred until the mm is switched back in; the simulator's shootdown invalidates such a
 * context's entries directly ({@link X86Mmu#flushMm}), so a slot that is still owned never needs a
 * flush on reuse. User PCIDs for page-table isolation (PTI) are not modelled.
 *
 * <p>Thread safety: {@link #choose} runs on the owning CPU's thread only; {@link #pcidOf} may be
 * called by any thread (a remote flush) and reads the slots with volatile semantics, so it sees
 * either the old or the new owner of a slot; flushing the PCID of the old owner is harmless
 * over-invalidation, and a new owner's PCID is flushed by {@link #choose} before use.
 */
public final class PcidAllocator {
    /** TLB_NR_DYN_ASIDS. */
    public static final int TLB_NR_DYN_ASIDS = 6;
    /** Returned by {@link #choose} with the PCID when the context must be flushed before use. */
    public static final int NEED_FLUSH = 1 << 16;

    private final AtomicReferenceArray<MmStruct> ctxs;
    /** cpu_tlbstate.next_asid; owner thread only. */
    private int nextAsid;

    public PcidAllocator(final int slots) {
        if (slots <= 0 || slots > X86Tlb.PCID_MASK) {
            throw new IllegalArgumentException("slots out of range: " + slots);
        }
        this.ctxs = new AtomicReferenceArray<>(slots);
    }

    /**
     * choose_new_asid: the PCID for {@code mm}, or-ed with {@link #NEED_FLUSH} if the slot was taken
     * from another mm (its stale entries must be flushed, CR3 written without NOFLUSH).
     */
    public int choose(final MmStruct mm) {
        final int n = ctxs.length();
        for (int asid = 0; asid < n; asid++) {
            if (ctxs.get(asid) == mm) {
                return asid + 1;
            }
        }
        final int asid = nextAsid;
        nextAsid = asid + 1 == n ? 0 : asid + 1;
        ctxs.set(asid, mm);
        return (asid + 1) | NEED_FLUSH;
    }

    /** The PCID {@code mm} holds on this CPU, or -1. Any thread. */
    public int pcidOf(final MmStruct mm) {
        for (int asid = 0, n = ctxs.length(); asid < n; asid++) {
            if (ctxs.get(asid) == mm) {
                return asid + 1;
            }
        }
        return -1;
    }
}
