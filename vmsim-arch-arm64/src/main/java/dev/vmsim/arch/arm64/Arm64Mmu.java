package dev.vmsim.arch.arm64;

import dev.vmsim.core.arch.Access;
import dev.vmsim.core.arch.ArchFault;
import dev.vmsim.core.arch.Mmu;
import dev.vmsim.core.arch.TlbEntry;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.phys.PhysicalMemory;

/**
 * One CPU's MMU: TTBR0_EL1 (root table and ASID), the {@link Arm64Tlb} with its walk cache, and the
 * {@link Arm64Walker}, which on a TLB miss starts below the deepest cached table descriptor.
 *
 * <p>{@link #translate} runs on the owning CPU's thread. The flush methods may run on any thread: they
 * are the per-CPU effect of a broadcast (inner-shareable) TLBI, and touch only the TLB, whose entries
 * are safe to invalidate concurrently (see {@link Arm64Tlb}). A TLB hit whose cached permissions do
 * not allow the access is treated as a miss and re-walked, which is how a write reaches the walker's
 * hardware dirty-bit update and how a fault always reports the current descriptors.
 */
public final class Arm64Mmu implements Mmu {
    private final int cpuId;
    private final AsidAllocator asids;
    private final Arm64Walker walker;
    private final Arm64Tlb tlb;
    private final Arm64Fault fault = new Arm64Fault();
    private final int pageShift;
    private final long pageMask;
    /** __flush_tlb_range: beyond this many pages, flush the whole ASID (MAX_DVM_OPS = PTRS_PER_PTE = PAGE_SIZE / 8). */
    private final int maxTlbiOps;

    private final int vaBits;
    /** TTBR0_EL1.BADDR and .ASID; written by switchMm on the owning thread only. */
    private long ttbr0Root;

    private int asid;

    public Arm64Mmu(final PhysicalMemory memory, final int cpuId, final Arm64Config config, final AsidAllocator asids) {
        this.cpuId = cpuId;
        this.asids = asids;
        this.walker = new Arm64Walker(memory, config.format(), config.hafdbs());
        this.tlb = new Arm64Tlb(config.tlbEntries(), config.format());
        this.pageShift = config.format().pageShift();
        this.pageMask = (1L << pageShift) - 1;
        this.maxTlbiOps = 1 << config.format().indexBits(0);
        this.vaBits = config.format().vaBits();
    }

    public Arm64Tlb tlb() {
        return tlb;
    }

    public Arm64Walker walker() {
        return walker;
    }

    /** The ASID in TTBR0_EL1. */
    public int currentAsid() {
        return asid;
    }

    /** Loads TTBR0 directly (for walker-level tests and benchmarks that have no MmStruct). */
    public void setTtbr0(final long rootPa, final int asid) {
        this.ttbr0Root = rootPa;
        this.asid = asid;
    }

    @Override
    public long translate(final long va, final Access kind, final boolean user) {
        final long vpn = va >>> pageShift;
        if ((va >>> vaBits) == 0) {
            final long d = tlb.lookup(vpn, asid);
            if (d != 0 && permits(d, kind, user)) {
                tlb.countHit();
                return (d & Arm64Tlb.DATA_PAGE_MASK) << pageShift | (va & pageMask);
            }
        }
        tlb.countMiss();
        final long gen = tlb.flushGeneration();
        final long pa = walker.walk(ttbr0Root, va, kind, user, tlb, asid, gen);
        if (pa == Arm64Walker.FAULT) {
            final int ec = kind == Access.EXEC
                    ? (user ? Esr.EC_IABT_LOW : Esr.EC_IABT_CUR)
                    : (user ? Esr.EC_DABT_LOW : Esr.EC_DABT_CUR);
            fault.set(Esr.make(ec, walker.faultStatus() | (kind == Access.WRITE ? Esr.WNR : 0)), va);
            return FAULT;
        }
        final long data = walker.tlbData();
        tlb.fill(vpn, asid, (data & Arm64Walker.P_GLOBAL) != 0, data, gen);
        return pa;
    }

    private static boolean permits(final long d, final Access kind, final boolean user) {
        // if-chain rather than an enum switch: no $SwitchMap load on the TLB-hit path.
        if (kind == Access.READ) {
            return !user || (d & Arm64Walker.P_EL0_R) != 0;
        }
        if (kind == Access.WRITE) {
            return (d & (user ? Arm64Walker.P_EL0_W : Arm64Walker.P_EL1_W)) != 0;
        }
        return (d & (user ? Arm64Walker.P_EL0_X : Arm64Walker.P_EL1_X)) != 0;
    }

    @Override
    public ArchFault lastFault() {
        return fault;
    }

    /** cpu_switch_mm after check_and_switch_context: the mm's ASID (new generation if needed) and root. */
    @Override
    public void switchMm(final MmStruct mm) {
        final int a = asids.checkAndSwitchContext(mm, cpuId, tlb::tlbiVmalle1);
        this.ttbr0Root = mm.pageTables().rootPfn() << pageShift;
        this.asid = a;
    }

    /** This CPU's part of TLBI VAE1IS for {@code mm}'s ASID. */
    @Override
    public void flushPage(final MmStruct mm, final long va) {
        tlb.tlbiVae1(asids.asid(mm), va >>> pageShift);
    }

    /**
     * flush_tlb_range: __flush_tlb_range with last_level false: per-page TLBI VAE1IS, or TLBI
     * ASIDE1IS for a range over PTRS_PER_PTE pages.
     */
    @Override
    public void flushRange(final MmStruct mm, final long start, final long end) {
        flushTlbRange(mm, start, end, false);
    }

    /**
     * tlb_flush (arch/arm64/include/asm/tlb.h): __flush_tlb_range with {@code last_level =
     * !tlb->freed_tables}: TLBI VALE1IS per page when only leaf entries changed, VAE1IS when page
     * tables were freed, so this CPU's walk cache drops the cleared table entries too. Departure:
     * no TTL hint (tlb_level), which only narrows the walk hardware has to do.
     */
    @Override
    public void flushRange(final MmStruct mm, final long start, final long end, final boolean lastLevel) {
        // Bug.TLB_06 off is the fix: freed tables need the non-last-level TLBI.
        flushTlbRange(mm, start, end, lastLevel || BugSwitches.on(Bug.TLB_06));
    }

    private void flushTlbRange(final MmStruct mm, final long start, final long end, final boolean lastLevel) {
        final int a = asids.asid(mm);
        final long first = start >>> pageShift;
        final long last = (end + pageMask) >>> pageShift;
        if (last - first > maxTlbiOps) {
            tlb.tlbiAside1(a);
            return;
        }
        for (long vpn = first; vpn < last; vpn++) {
            if (lastLevel) {
                tlb.tlbiVale1(a, vpn);
            } else {
                tlb.tlbiVae1(a, vpn);
            }
        }
    }

    /** flush_tlb_mm: TLBI ASIDE1IS. */
    @Override
    public void flushMm(final MmStruct mm) {
        tlb.tlbiAside1(asids.asid(mm));
    }

    /** flush_tlb_all: TLBI VMALLE1IS. */
    @Override
    public void flushAll() {
        tlb.tlbiVmalle1();
    }

    @Override
    public long tlbHits() {
        return tlb.hits();
    }

    /** The TLB's live entries, decoded from Arm64Tlb's tag and data words (call on the owner thread). */
    @Override
    public java.util.List<TlbEntry> tlbEntries() {
        final java.util.List<TlbEntry> out = new java.util.ArrayList<>();
        for (final long[] e : tlb.entries()) {
            final long tag = e[0];
            final long d = e[1];
            final StringBuilder perms = new StringBuilder("EL0:");
            perms.append((d & Arm64Walker.P_EL0_R) != 0 ? "R" : "-").append((d & Arm64Walker.P_EL0_W) != 0 ? "W" : "-");
            perms.append((d & Arm64Walker.P_EL0_X) != 0 ? "X" : "-");
            perms.append(" EL1:").append((d & Arm64Walker.P_EL1_W) != 0 ? "W" : "-");
            perms.append((d & Arm64Walker.P_EL1_X) != 0 ? "X" : "-");
            out.add(new TlbEntry(
                    (tag & Arm64Tlb.VPN_MASK) << pageShift,
                    (int) ((tag >>> Arm64Tlb.ASID_SHIFT) & 0xffff),
                    (tag & Arm64Tlb.TAG_GLOBAL) != 0,
                    (d & Arm64Tlb.DATA_PAGE_MASK) << pageShift,
                    perms.toString()));
        }
        return out;
    }

    @Override
    public long tlbMisses() {
        return tlb.misses();
    }
}
