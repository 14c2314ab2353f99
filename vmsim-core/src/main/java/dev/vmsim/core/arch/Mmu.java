package dev.vmsim.core.arch;

import dev.vmsim.core.mm.MmStruct;

/**
 * The hardware side of one CPU: TLB lookup and, on a miss, the page-table walk over entries in
 * simulated physical memory (read without locks, as hardware does). Owned by one {@link
 * dev.vmsim.core.cpu.Cpu}; {@link #translate} is called only by that CPU's thread, the flush
 * methods by any thread (a TLB shootdown).
 */
public interface Mmu {
    /** Returned by {@link #translate} when the access faulted; the fault is in {@link #lastFault()}. */
    long FAULT = -1;

    /**
     * Translates {@code va} for an access of {@code kind} made in user mode if {@code user}: the
     * physical address, or {@link #FAULT}.
     */
    long translate(long va, Access kind, boolean user);

    /** The fault the last failed {@link #translate} raised (x86: error code and CR2; arm64: ESR and FAR). */
    ArchFault lastFault();

    /** Loads {@code mm}'s page-table root (CR3 / TTBR0 write) with its PCID / ASID. */
    void switchMm(MmStruct mm);

    /** Invalidates the translation of one page of {@code mm} (INVLPG / TLBI VAE1). */
    void flushPage(MmStruct mm, long va);

    /** Invalidates {@code mm}'s translations in [start, end). */
    void flushRange(MmStruct mm, long start, long end);

    /**
     * The arch half of mmu_gather's tlb_flush: invalidates {@code mm}'s translations in [start,
     * end), and with {@code lastLevel} false also every cached table entry (paging-structure /
     * walk-cache entry) on those addresses' walks, because page tables there were freed
     * ({@code last_level = !tlb->freed_tables}). The default keeps what the gather did before archs
     * told the two apart: a range flush when only leaves changed, the whole mm when tables went.
     */
    default void flushRange(MmStruct mm, long start, long end, boolean lastLevel) {
        if (lastLevel) {
            flushRange(mm, start, end);
        } else {
            flushMm(mm);
        }
    }

    /** Invalidates every translation of {@code mm} (INVPCID single-context / TLBI ASIDE1). */
    void flushMm(MmStruct mm);

    /** Invalidates everything, global entries included. */
    void flushAll();

    long tlbHits();

    long tlbMisses();

    /**
     * The valid entries of this CPU's TLB, for teaching views; racy against concurrent flushes (an
     * entry may be gone by the time the list is read). The default, for test MMUs without a TLB, is
     * none.
     */
    default java.util.List<TlbEntry> tlbEntries() {
        return java.util.List.of();
    }
}
