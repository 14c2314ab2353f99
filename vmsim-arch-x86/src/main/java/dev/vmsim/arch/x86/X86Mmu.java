package dev.vmsim.arch.x86;

import dev.vmsim.core.arch.Access;
import dev.vmsim.core.arch.ArchFault;
import dev.vmsim.core.arch.Mmu;
import dev.vmsim.core.arch.TlbEntry;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.phys.PhysicalMemory;

/**
 * One x86-64 CPU's MMU: the PCID-tagged {@link X86Tlb} and, on a miss, the hardware page walk over
 * the paging structures in simulated physical memory (SDM Vol. 3A ch. 4, "Paging").
 *
 * <p><b>The walk.</b> From the root in CR3, every level's entry is read with acquire semantics and
 * without locks (the kernel changes entries with atomic operations while walks run). A clear
 * PRESENT bit stops the walk with a not-present #PF (PROT=0); a reserved bit with an RSVD #PF.
 * The effective permission is RW and U/S ANDed over every level and NX ORed. The walker sets
 * ACCESSED on each non-leaf entry it uses as it goes down, and on the leaf ACCESSED (and DIRTY for
 * a write) only if the access is permitted; every update is a compare-and-set of the value read, so
 * a concurrent software update of the entry (the kernel clearing A, write-protecting, zapping) is
 * never overwritten: on CAS failure the whole walk restarts and re-checks. Supervisor accesses obey
 * CR0.WP (a kernel write to a read-only page faults) and SMEP (no kernel fetch from a user page);
 * supervisor data accesses to user pages are allowed (uaccess runs with EFLAGS.AC set; the SMAP
 * check of a kernel access without AC is the fault handler's). Protection keys (CR4.PKE) apply to
 * data accesses to user pages through {@link #setPkru PKRU}.
 *
 * <p><b>Thread safety.</b> {@link #translate}, {@link #switchMm}, {@link #loadCr3} and
 * {@link #setPkru} run on the owning CPU's thread; the flush methods may be called from any thread
 * (TLB shootdown) and only invalidate TLB entries (see {@link X86Tlb}).
 */
public final class X86Mmu implements Mmu {
    /** tlb_single_page_flush_ceiling: above this many pages a range flush flushes the whole context. */
    public static final int TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

    private static final long PFN_MASK = X86Pte.PTE_PFN_MASK;
    private static final long VALID_DATA = X86Pte.PRESENT;

    /*
     * The bits a cached entry must have for an access, in the X86Tlb data encoding: a hit is
     * (data & need) == need, one mask test. A write needs DIRTY too (a clean entry walks again to set
     * D, as the SDM requires); a fetch needs the derived EXEC bit, which already folds NX and, for a
     * supervisor fetch, SMEP. Chosen by reference comparisons (see needBits), which the JIT folds to
     * one constant when the access kind is a constant at the call site; no table, no enum switch.
     */
    private static final long NEED_READ = VALID_DATA;
    private static final long NEED_WRITE = VALID_DATA | X86Pte.RW | X86Pte.DIRTY;
    private static final long NEED_EXEC_USER = VALID_DATA | X86Tlb.EXEC_USER;
    private static final long NEED_EXEC_SUPERVISOR = VALID_DATA | X86Tlb.EXEC_SUPERVISOR;

    private final PhysicalMemory mem;
    private final X86PageTableFormat format;
    private final X86Tlb tlb;
    private final boolean pcidEnabled;
    private final PcidAllocator pcids;
    private final X86PageFault fault = new X86PageFault();
    private final long vpnMask;
    private final int topLevel;
    /** 64 - vaBits: a canonical address survives a shift left and arithmetic shift right by this. */
    private final int canonShift;

    /** CR3's page-table root frame; owner thread only. */
    private long rootPfn = -1;
    /** CR3's PCID (0 without PCID); owner thread only. */
    private int pcid;
    /** {@code X86Tlb.key(0, pcid)}: the tag of the current context less the page number; owner thread only. */
    private long tagBase = X86Tlb.key(0, 0);
    /** PKRU: 2 bits per key (AD = bit 2k, WD = bit 2k+1); owner thread only. */
    private int pkru;
    /**
     * {@link X86Tlb#PKEY_APPLIES} while PKRU is non-zero, else 0: folded into the hit path's mask
     * test, it sends every access to a user page to {@link #slowHit} while some key is restricted
     * (PKRU is checked on every access, TLB hit or not, and WRPKRU flushes nothing). Owner thread only.
     */
    private long pkeyCheck;
    /** The mm whose root is in CR3; volatile so a remote flush sees the current one. */
    private volatile MmStruct loadedMm;

    private long hits;
    private long misses;
    private long walks;

    /**
     * @param mem simulated physical memory holding the paging structures
     * @param format 4- or 5-level paging
     * @param tlbSets TLB sets (a power of two)
     * @param tlbWays TLB associativity
     * @param pcidEnabled CR4.PCIDE: tag entries with a per-mm PCID instead of flushing on every switch
     * @param dynAsids ASID slots per CPU (TLB_NR_DYN_ASIDS)
     */
    public X86Mmu(
            final PhysicalMemory mem,
            final X86PageTableFormat format,
            final int tlbSets,
            final int tlbWays,
            final boolean pcidEnabled,
            final int dynAsids) {
        this.mem = mem;
        this.format = format;
        this.tlb = new X86Tlb(tlbSets, tlbWays);
        this.pcidEnabled = pcidEnabled;
        this.pcids = new PcidAllocator(dynAsids);
        this.vpnMask = (1L << (format.vaBits() - 12)) - 1;
        this.topLevel = format.levels() - 1;
        this.canonShift = 64 - format.vaBits();
    }

    public X86Tlb tlb() {
        return tlb;
    }

    public X86PageTableFormat format() {
        return format;
    }

    public boolean pcidEnabled() {
        return pcidEnabled;
    }

    /** CR3's PCID field. */
    public int currentPcid() {
        return pcid;
    }

    /** CR3's root frame. */
    public long rootPfn() {
        return rootPfn;
    }

    /** The PCID {@code mm} holds on this CPU, or -1 (0 for the loaded mm without PCID). */
    public int pcidOf(final MmStruct mm) {
        if (!pcidEnabled) {
            return mm == loadedMm ? 0 : -1;
        }
        return pcids.pcidOf(mm);
    }

    /** WRPKRU. */
    public void setPkru(final int value) {
        this.pkru = value;
        this.pkeyCheck = value == 0 ? 0 : X86Tlb.PKEY_APPLIES;
    }

    public int pkru() {
        return pkru;
    }

    /** The {@link X86Tlb} data bits an access of {@code kind} in {@code user} mode needs. */
    private static long needBits(final Access kind, final boolean user) {
        final long u = user ? X86Pte.USER : 0;
        if (kind == Access.READ) {
            return NEED_READ | u;
        }
        if (kind == Access.WRITE) {
            return NEED_WRITE | u;
        }
        return user ? NEED_EXEC_USER : NEED_EXEC_SUPERVISOR;
    }

    /**
     * The hardware translation: TLB lookup, and on a miss (or a cached entry that does not allow the
     * access) a page walk. Owner thread only; allocation-free.
     *
     * <p>The hit path is the canonical-address check, one tag probe in the set of {@code va}'s page
     * ({@link X86Tlb#lookup(long, long)}) and one mask test of the cached permissions against the
     * access's {@link #needBits} bits (and the protection key while PKRU restricts some key); anything
     * else takes the walk, which is authoritative.
     */
    @Override
    public long translate(final long va, final Access kind, final boolean user) {
        if ((va << canonShift >> canonShift) != va) {
            fault.setGeneralProtection(va); // non-canonical: #GP, not #PF
            return FAULT;
        }
        final long vpn = (va >>> 12) & vpnMask;
        final long d = tlb.lookup(vpn, tagBase | vpn);
        final long need = needBits(kind, user);
        if ((d & (need | pkeyCheck)) == need || slowHit(d, need, kind)) {
            hits++;
            return (d & PFN_MASK) | (va & 0xFFF);
        }
        misses++;
        return walk(va, vpn, kind, user);
    }

    /**
     * The hit check with protection keys, taken only when the one-mask test failed: the cached
     * entry allows the access, and PKRU allows it if it is a data access to a user page.
     */
    private boolean slowHit(final long d, final long need, final Access kind) {
        return (d & need) == need
                && (kind == Access.EXEC
                        || (d & X86Tlb.PKEY_APPLIES) == 0
                        || !pkeyDenies(X86Pte.pkey(d), kind == Access.WRITE));
    }

    private static int accessCode(final Access kind, final boolean user) {
        return (kind == Access.WRITE ? X86PfError.WRITE : 0)
                | (user ? X86PfError.USER : 0)
                | (kind == Access.EXEC ? X86PfError.INSTR : 0);
    }

    private long pageFault(final long va, final int code, final int level) {
        fault.setPageFault(va, code, level);
        return FAULT;
    }

    /** The page walk (the SDM's "linear-address translation" with 4-level or 5-level paging). */
    private long walk(final long va, final long vpn, final Access kind, final boolean user) {
        final int code = accessCode(kind, user);
        final boolean write = kind == Access.WRITE;
        final boolean exec = kind == Access.EXEC;
        if (rootPfn < 0) {
            return pageFault(va, code, topLevel);
        }
        restart:
        for (; ; ) {
            walks++;
            long table = rootPfn;
            boolean rw = true;
            boolean us = true;
            boolean nx = false;
            for (int level = topLevel; level >= 0; level--) {
                final long slot = (table << 12) + 8L * format.index(va, level);
                final long e = mem.getLongAcquire(slot); // pairs with the kernel's CAS / release stores
                if ((e & X86Pte.PRESENT) == 0) {
                    return pageFault(va, code, level);
                }
                if (format.reservedBits(e, level) != 0) {
                    return pageFault(va, code | X86PfError.PROT | X86PfError.RSVD, level);
                }
                rw &= (e & X86Pte.RW) != 0;
                us &= (e & X86Pte.USER) != 0;
                nx |= (e & X86Pte.NX) != 0;
                if (level > 0 && (e & X86Pte.PSE) == 0) {
                    if ((e & X86Pte.ACCESSED) == 0 && !mem.compareAndSetLong(slot, e, e | X86Pte.ACCESSED)) {
                        continue restart; // the entry changed under us: re-walk and re-check
                    }
                    table = format.pfn(e);
                    continue;
                }
                // the leaf: a 4 KiB PTE, or a 2 MiB / 1 GiB PS entry
                if ((user && !us) || (write && !rw) || (exec && nx) || (exec && !user && us)) {
                    return pageFault(va, code | X86PfError.PROT, level);
                }
                if (!exec && us && pkeyDenies(X86Pte.pkey(e), write)) {
                    return pageFault(va, code | X86PfError.PROT | X86PfError.PK, level);
                }
                final long want = e | X86Pte.ACCESSED | (write ? X86Pte.DIRTY : 0);
                if (want != e && !mem.compareAndSetLong(slot, e, want)) {
                    continue restart;
                }
                final long pfn = format.pfn(e, level) + (vpn & ((1L << (9 * level)) - 1));
                final long data = (pfn << 12)
                        | VALID_DATA
                        | (rw ? X86Pte.RW : 0)
                        | (us ? X86Pte.USER : 0)
                        | (nx ? X86Pte.NX : 0)
                        | (!nx && us ? X86Tlb.EXEC_USER : 0)
                        | (!nx && !us ? X86Tlb.EXEC_SUPERVISOR : 0)
                        | (us ? X86Tlb.PKEY_APPLIES : 0)
                        | (want & X86Pte.DIRTY)
                        | (e & X86Pte.PKEY_MASK);
                tlb.insert(vpn, pcid, (e & X86Pte.GLOBAL) != 0, data);
                return (pfn << 12) | (va & 0xFFF);
            }
            throw new AssertionError("walk fell off the leaf level");
        }
    }

    private boolean pkeyDenies(final int key, final boolean write) {
        final int bits = pkru >>> (2 * key);
        return (bits & 1) != 0 || (write && (bits & 2) != 0);
    }

    @Override
    public ArchFault lastFault() {
        return fault;
    }

    /** The fault record of the last failed translation, typed. */
    public X86PageFault lastPageFault() {
        return fault;
    }

    /**
     * switch_mm_irqs_off: loads {@code mm}'s root. With PCID the mm gets a PCID from this CPU's
     * {@link PcidAllocator} and its older entries stay valid unless the slot was taken from another
     * mm; without PCID the CR3 write flushes every non-global entry.
     */
    @Override
    public void switchMm(final MmStruct mm) {
        final long root = mm.pageTables().rootPfn();
        loadedMm = mm;
        if (!pcidEnabled) {
            loadCr3(root, 0, false);
            return;
        }
        final int chosen = pcids.choose(mm);
        loadCr3(root, chosen & X86Tlb.PCID_MASK, (chosen & PcidAllocator.NEED_FLUSH) == 0);
    }

    /**
     * MOV to CR3 (build_cr3 / build_cr3_noflush): sets the root and PCID. Without PCID the write
     * flushes all non-global entries; with PCID it flushes the new PCID's non-global entries
     * unless {@code noflush} (CR3 bit 63) is set. Owner thread only.
     */
    public void loadCr3(final long root, final int newPcid, final boolean noflush) {
        this.rootPfn = root;
        this.pcid = pcidEnabled ? newPcid & X86Tlb.PCID_MASK : 0;
        this.tagBase = X86Tlb.key(0, this.pcid);
        if (!pcidEnabled) {
            tlb.invpcidAllNonGlobal();
        } else if (!noflush) {
            tlb.invpcidSingleContext(this.pcid);
        }
    }

    /** INVLPG {@code va}: the current PCID's translation and any global one. Owner thread. */
    public void invlpg(final long va) {
        tlb.invlpg((va >>> 12) & vpnMask, pcid);
    }

    /** INVPCID individual-address (type 0). Any thread. */
    public void invpcidIndividual(final int targetPcid, final long va) {
        tlb.invpcidIndividual((va >>> 12) & vpnMask, targetPcid);
    }

    /** INVPCID single-context (type 1). Any thread. */
    public void invpcidSingleContext(final int targetPcid) {
        tlb.invpcidSingleContext(targetPcid);
    }

    /** INVPCID all-context including globals (type 2). Any thread. */
    public void invpcidAllIncludingGlobals() {
        tlb.invpcidAllIncludingGlobals();
    }

    /** INVPCID all-context except globals (type 3). Any thread. */
    public void invpcidAllNonGlobal() {
        tlb.invpcidAllNonGlobal();
    }

    /**
     * flush_tlb_one_user for {@code mm}: INVLPG semantics (the PCID's entry and a global one) for the
     * mm's context on this CPU; nothing if the mm holds no context here. Any thread.
     */
    @Override
    public void flushPage(final MmStruct mm, final long va) {
        final int p = pcidOf(mm);
        if (p >= 0) {
            tlb.invlpg((va >>> 12) & vpnMask, p);
        }
    }

    /** flush_tlb_func: page by page up to {@link #TLB_SINGLE_PAGE_FLUSH_CEILING} pages, else the whole context. */
    @Override
    public void flushRange(final MmStruct mm, final long start, final long end) {
        final long pages = (end - start + 0xFFF) >>> 12;
        if (pages > TLB_SINGLE_PAGE_FLUSH_CEILING) {
            flushMm(mm);
            return;
        }
        for (long va = start & ~0xFFFL; va < end; va += 4096) {
            flushPage(mm, va);
        }
    }

    /** The mm's whole context on this CPU (INVPCID single-context; all non-global without PCID). Any thread. */
    @Override
    public void flushMm(final MmStruct mm) {
        final int p = pcidOf(mm);
        if (p < 0) {
            return;
        }
        if (pcidEnabled) {
            tlb.invpcidSingleContext(p);
        } else {
            tlb.invpcidAllNonGlobal();
        }
    }

    /** Everything, global entries included (INVPCID type 2 / CR4.PGE toggle). Any thread. */
    @Override
    public void flushAll() {
        tlb.invpcidAllIncludingGlobals();
    }

    /** TLB hits; written by the owner thread only, racy (but untorn) when read elsewhere. */
    @Override
    public long tlbHits() {
        return hits;
    }

    /** The TLB's valid entries, decoded from X86Tlb's tag and data words (call on the owner thread). */
    @Override
    public java.util.List<TlbEntry> tlbEntries() {
        final java.util.List<TlbEntry> out = new java.util.ArrayList<>();
        for (final long[] e : tlb.entries()) {
            final long tag = e[0];
            final long d = e[1];
            final StringBuilder perms = new StringBuilder("P");
            perms.append((d & X86Pte.RW) != 0 ? " RW" : "").append((d & X86Pte.USER) != 0 ? " US" : "");
            perms.append((d & X86Pte.NX) != 0 ? " NX" : "").append((d & X86Pte.DIRTY) != 0 ? " D" : "");
            out.add(new TlbEntry(
                    (tag & X86Tlb.VPN_MASK) << 12,
                    (int) ((tag >>> X86Tlb.PCID_SHIFT) & X86Tlb.PCID_MASK),
                    (tag & X86Tlb.GLOBAL) != 0,
                    d & X86Pte.PTE_PFN_MASK,
                    perms.toString()));
        }
        return out;
    }

    @Override
    public long tlbMisses() {
        return misses;
    }

    /** Page walks started (a walk restarted after a CAS failure counts again). */
    public long walks() {
        return walks;
    }

    /** {@link X86PageTableFormat#dumpWalk} of {@code va} from the current CR3. */
    public String dumpWalk(final long va) {
        return format.dumpWalk(mem, rootPfn, va);
    }
}
