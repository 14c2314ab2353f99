package dev.vmsim.arch.arm64;

import static dev.vmsim.arch.arm64.Arm64Pte.*;

import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.pgtable.PageTableFormat;

/**
 * The AArch64 stage-1 translation-table format of the user half (TTBR0_EL1) for a granule and a VA
 * size, with the pte_* helpers of arch/arm64/include/asm/pgtable.h and the protection_map of
 * arch/arm64/mm/mmap.c.
 *
 * <p>Geometry (ARM ARM D8.2): each level resolves {@code granule shift - 3} bits; the root resolves
 * what is left. 4K/48 has 4 levels (L0..L3), 4K/52 (FEAT_LPA2) 5 (L-1..L3), 16K/48 4 with a 1-bit
 * L0, 16K/52 (LPA2) 4, 64K/48 and 64K/52 (FEAT_LVA/LPA) 3 (L1..L3). Blocks are allowed at L1 and L2
 * for 4K (and L0 with LPA2), at L2 for 16K (and L1 with LPA2), at L2 for 64K (and L1 with 52-bit PA).
 *
 * <p>Output address (OA): bits 47:granule-shift hold OA[47:shift]. With LPA2 (4K/16K, 52-bit) bits
 * 49:48 hold OA[49:48] and bits 9:8 (SH on other formats) hold OA[51:50]; with 64K and 52-bit PA bits
 * 15:12 hold OA[51:48]. Where the format has a 48-bit OA those bits are RES0, and a descriptor with
 * them set raises an address size fault.
 *
 * <p>Frame numbers ({@link #pfn}, {@link #pfnPte}, {@link #mkTable}) are in units of the granule,
 * as the kernel's pfn is in units of PAGE_SIZE: the machine's {@link dev.vmsim.core.phys.PhysicalMemory}
 * is carved into granule-sized frames, and a table is one such frame of granule / 8 descriptors.
 * Immutable and thread-safe.
 *
 * <p>Which VA size: arch/arm64/Kconfig defaults to ARM64_VA_BITS_52, but user space gets 48 bits
 * (DEFAULT_MAP_WINDOW) unless an mmap hint asks for more, and PGTABLE_LEVELS is the same for 48 and
 * 52 on 16K (4 levels) and 64K (3 levels). The simulator therefore runs every granule with
 * VA_BITS_48 ({@link #forGranule}): 4K 4 levels (9+9+9+9 index bits), 16K 4 levels (1+11+11+11),
 * 64K 3 levels (6+13+13).
 */
public final class Arm64PageTableFormat implements PageTableFormat {
    /** The format core's fault path uses: 4 KiB granule, 48-bit VA. */
    public static final Arm64PageTableFormat DEFAULT = new Arm64PageTableFormat(Granule.SZ_4K, 48, false);

    /** The 48-bit VA format of each granule, indexed by {@link Granule#ordinal()}. */
    private static final Arm64PageTableFormat[] VA48 = {
        DEFAULT,
        new Arm64PageTableFormat(Granule.SZ_16K, 48, false),
        new Arm64PageTableFormat(Granule.SZ_64K, 48, false)
    };

    private static final long PTE_PO_IDX_MASK = 7L << 60;
    /** PTE_SWBITS_MASK: bit 63 and bits 58:55, ignored by the hardware. */
    private static final long PTE_SWBITS_MASK = (1L << 63) | (0xfL << 55);
    /** pte_modify's mask in pgtable.h: the bits that come from the new protection. */
    private static final long PTE_MODIFY_MASK = PTE_USER
            | PTE_PXN
            | PTE_UXN
            | PTE_RDONLY
            | PTE_PRESENT_INVALID
            | PTE_VALID
            | PTE_WRITE
            | PTE_GP
            | PTE_ATTRINDX_MASK
            | PTE_PO_IDX_MASK;

    /** Leaf bits a live entry may change without break-before-make (see {@link #pgattrChangeIsSafe}). */
    private static final long LEAF_LIVE_BITS =
            PTE_USER | PTE_RDONLY | PTE_PXN | PTE_UXN | PTE_AF | PTE_DBM | PTE_NG | PTE_SWBITS_MASK | PTE_PO_IDX_MASK;
    /** Table-entry bits a live entry may change: APTable, UXNTable, PXNTable. */
    private static final long TABLE_LIVE_BITS =
            PMD_TABLE_PXN | PMD_TABLE_UXN | PMD_TABLE_AP_NO_EL0 | PMD_TABLE_AP_RDONLY;

    private final Granule granule;
    private final int vaBits;
    private final int levels;
    /** FEAT_LPA2: 52-bit VA/PA on 4K/16K; OA[51:50] lives in bits 9:8. */
    private final boolean lpa2;
    /** 64K granule with 52-bit PA (FEAT_LPA): OA[51:48] lives in bits 15:12. */
    private final boolean lpa64k;
    /** FEAT_EPAN: protection_map maps VM_EXEC alone to PAGE_EXECONLY. */
    private final boolean epan;
    /** Descriptor bits 47:granule-shift. */
    private final long oaLowMask;
    /** Bits that must be zero in an output address for this format's OA size (address size fault). */
    private final long oaRes0Mask;

    private final long[] protectionMap = new long[16];

    /**
     * A format for {@code granule} translating {@code vaBits} of VA (25..52); 52 means FEAT_LPA2 on
     * 4K/16K and FEAT_LVA+LPA on 64K. {@code epan}: the CPUs have FEAT_EPAN.
     */
    public Arm64PageTableFormat(final Granule granule, final int vaBits, final boolean epan) {
        if (vaBits < 25 || vaBits > 52) {
            throw new IllegalArgumentException("vaBits " + vaBits);
        }
        this.granule = granule;
        this.vaBits = vaBits;
        final int per = granule.bitsPerLevel();
        this.levels = (vaBits - granule.shift() + per - 1) / per;
        this.lpa2 = vaBits == 52 && granule != Granule.SZ_64K;
        this.lpa64k = vaBits == 52 && granule == Granule.SZ_64K;
        this.epan = epan;
        this.oaLowMask = ((1L << 48) - 1) & ~((1L << granule.shift()) - 1);
        this.oaRes0Mask = lpa2 ? 0 : lpa64k ? 3L << 48 : (3L << 48) | (granule == Granule.SZ_64K ? 0xfL << 12 : 0);
        final long def = protDefault(lpa2);
        final long none = pageNone(def);
        final long ro = pageReadonly(def);
        final long rox = pageReadonlyExec(def);
        final long xo = epan ? pageExeconly(def) : rox;
        // arch/arm64/mm/mmap.c protection_map[]: private writable mappings are read-only (COW).
        final long[] m = protectionMap;
        m[0] = none;
        m[1] = ro;
        m[2] = ro;
        m[3] = ro;
        m[4] = xo;
        m[5] = rox;
        m[6] = rox;
        m[7] = rox;
        m[8] = none;
        m[9] = ro;
        m[10] = pageShared(def);
        m[11] = pageShared(def);
        m[12] = xo;
        m[13] = rox;
        m[14] = pageSharedExec(def);
        m[15] = pageSharedExec(def);
    }

    /** The format a machine with {@code granule} runs: VA_BITS_48, no FEAT_EPAN (see the class comment). */
    public static Arm64PageTableFormat forGranule(final Granule granule) {
        return VA48[granule.ordinal()];
    }

    public Granule granule() {
        return granule;
    }

    public boolean lpa2() {
        return lpa2;
    }

    public boolean epan() {
        return epan;
    }

    @Override
    public int levels() {
        return levels;
    }

    @Override
    public int pageShift() {
        return granule.shift();
    }

    @Override
    public int vaBits() {
        return vaBits;
    }

    @Override
    public int levelShift(final int level) {
        return granule.shift() + level * granule.bitsPerLevel();
    }

    @Override
    public int indexBits(final int level) {
        return level == levels - 1 ? vaBits - levelShift(level) : granule.bitsPerLevel();
    }

    @Override
    public long taskSize() {
        return 1L << vaBits;
    }

    /** The architectural lookup level (3 = leaf, 0 or -1 = root of a 4-/5-level walk) of a core level. */
    public int armLevel(final int level) {
        return 3 - level;
    }

    /** Bytes in the table at {@code level} (a whole granule, except a short root). */
    public long tableBytes(final int level) {
        return 8L << indexBits(level);
    }

    /** Whether a block descriptor is permitted at core {@code level} (ARM ARM D8.3 "block descriptor"). */
    public boolean blockAllowed(final int level) {
        final int al = armLevel(level);
        switch (granule) {
            case SZ_4K:
                return al == 1 || al == 2 || (lpa2 && al == 0);
            case SZ_16K:
                return al == 2 || (lpa2 && al == 1);
            default:
                return al == 2 || (lpa64k && al == 1);
        }
    }

    // ---- output address ----

    /** The output address (a physical byte address) a table/page/block descriptor holds. */
    public long outputAddress(final long d) {
        long oa = d & oaLowMask;
        if (lpa2) {
            oa |= d & (3L << 48);
            oa |= ((d >>> 8) & 3L) << 50;
        } else if (lpa64k) {
            oa |= ((d >>> 12) & 0xfL) << 48;
        }
        return oa;
    }

    /** True if the descriptor sets output-address bits beyond this format's OA size (address size fault). */
    public boolean addressSizeFault(final long d) {
        return (d & oaRes0Mask) != 0;
    }

    /** Output-address bits that must be zero for this format (see {@link #addressSizeFault}). */
    long oaRes0Mask() {
        return oaRes0Mask;
    }

    /** Encodes a granule-aligned physical address into the OA field. */
    public long encodeOutputAddress(final long pa) {
        long d = pa & oaLowMask;
        if (lpa2) {
            d |= pa & (3L << 48);
            d |= ((pa >>> 50) & 3L) << 8;
        } else if (lpa64k) {
            d |= ((pa >>> 48) & 0xfL) << 12;
        }
        return d;
    }

    // ---- non-leaf entries ----

    @Override
    public long mkTable(final long tablePfn, final int level) {
        return encodeOutputAddress(tablePfn << granule.shift()) | PMD_TYPE_TABLE;
    }

    /**
     * pgattr_change_is_safe (arch/arm64/mm/mmu.c) with the Arm ARM's rule for live changes (D8.14.1):
     * creating or taking down an entry is always allowed; between two valid entries only the
     * permissions (AP, PXN, UXN, the permission overlay index; APTable/XNTable of a table entry), the
     * access flag, DBM, nG (from global to non-global only) and the software bits may change. A new
     * output address, a change of type (table, block, page), of memory type or shareability, or of
     * the contiguous hint needs break-before-make. Departure: the kernel's mask for its own live
     * mappings also leaves out AF and UXN (it never changes them live); user PTEs here may, as
     * ptep_set_access_flags and the in-place mprotect do.
     */
    @Override
    public boolean pgattrChangeIsSafe(final long old, final long update, final int level) {
        if ((old & PTE_VALID) == 0 || (update & PTE_VALID) == 0) {
            return true;
        }
        if ((old & ~update & PTE_NG) != 0) {
            return false; // non-global to global
        }
        final long live = isTable(old, level) ? TABLE_LIVE_BITS : LEAF_LIVE_BITS;
        return ((old ^ update) & ~live) == 0;
    }

    @Override
    public boolean isTable(final long entry, final int level) {
        return level > 0 && (entry & PTE_TYPE_MASK) == PMD_TYPE_TABLE;
    }

    @Override
    public boolean isHugeLeaf(final long entry, final int level) {
        return level > 0 && (entry & PTE_TYPE_MASK) == PMD_TYPE_SECT && blockAllowed(level);
    }

    /** A block descriptor at {@code level} mapping {@code pa} with leaf protection {@code prot} (pmd_mkhuge). */
    public long mkBlock(final long pa, final long prot, final int level) {
        if (!blockAllowed(level)) {
            throw new IllegalArgumentException("no block at level " + armLevel(level) + " for " + this);
        }
        return (encodeOutputAddress(pa) | prot) & ~PTE_TABLE_BIT;
    }

    @Override
    public long pfn(final long entry) {
        return outputAddress(entry) >>> granule.shift();
    }

    // ---- leaf entries ----

    @Override
    public long vmGetPageProt(final long vmFlags) {
        return protectionMap[
                (int) (vmFlags & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC | VmFlags.VM_SHARED))];
    }

    @Override
    public long pfnPte(final long pfn, final long prot) {
        return encodeOutputAddress(pfn << granule.shift()) | prot;
    }

    /** pte_modify: also keeps hardware dirtiness by moving it into PTE_DIRTY first. */
    @Override
    public long pteModify(long pte, final long prot) {
        if (hwDirty(pte)) {
            pte |= PTE_DIRTY;
        }
        pte = (pte & ~PTE_MODIFY_MASK) | (prot & PTE_MODIFY_MASK);
        // If we end up clearing hw dirtiness for a sw-dirty PTE, set hardware dirtiness again.
        if (swDirty(pte)) {
            pte = pteMkdirty(pte);
        }
        return pte;
    }

    /** pte_present: valid, or PROT_NONE (pte_present_invalid). */
    @Override
    public boolean ptePresent(final long pte) {
        return (pte & PTE_VALID) != 0 || (pte & (PTE_VALID | PTE_PRESENT_INVALID)) == PTE_PRESENT_INVALID;
    }

    /** pte_write: the software PTE_WRITE bit, which is DBM. */
    @Override
    public boolean pteWrite(final long pte) {
        return (pte & PTE_WRITE) != 0;
    }

    /** pte_dirty: pte_sw_dirty || pte_hw_dirty. */
    @Override
    public boolean pteDirty(final long pte) {
        return swDirty(pte) || hwDirty(pte);
    }

    @Override
    public boolean pteYoung(final long pte) {
        return (pte & PTE_AF) != 0;
    }

    @Override
    public boolean pteSpecial(final long pte) {
        return (pte & PTE_SPECIAL) != 0;
    }

    /** pte_mkwrite_novma: set PTE_WRITE; a software-dirty entry also becomes hardware-writable. */
    @Override
    public long pteMkwrite(long pte) {
        pte |= PTE_WRITE;
        if (swDirty(pte)) {
            pte &= ~PTE_RDONLY;
        }
        return pte;
    }

    /** pte_wrprotect: hardware dirtiness moves to PTE_DIRTY before WRITE is cleared and RDONLY set. */
    @Override
    public long pteWrprotect(long pte) {
        if (hwDirty(pte)) {
            pte |= PTE_DIRTY;
        }
        pte &= ~PTE_WRITE;
        return pte | PTE_RDONLY;
    }

    /** pte_mkdirty: PTE_DIRTY, and a writable entry loses RDONLY so the hardware lets writes through. */
    @Override
    public long pteMkdirty(long pte) {
        pte |= PTE_DIRTY;
        if (pteWrite(pte)) {
            pte &= ~PTE_RDONLY;
        }
        return pte;
    }

    /** pte_mkclean: clear PTE_DIRTY and set RDONLY (a writable entry becomes "clean writable"). */
    @Override
    public long pteMkclean(final long pte) {
        return (pte & ~PTE_DIRTY) | PTE_RDONLY;
    }

    @Override
    public long pteMkyoung(final long pte) {
        return pte | PTE_AF;
    }

    @Override
    public long pteMkold(final long pte) {
        return pte & ~PTE_AF;
    }

    @Override
    public long pteMkspecial(final long pte) {
        return pte | PTE_SPECIAL;
    }

    // ---- swap PTEs (arch/arm64/include/asm/pgtable.h) ----

    /**
     * __swp_entry_to_pte(__swp_entry(type, offset)): bits 0-1 zero (not valid), bit 2 the exclusive
     * marker, bit 3 uffd-wp, type in bits 6-10, bit 11 (PTE_PRESENT_INVALID) zero so the entry is not
     * a PROT_NONE one, offset in bits 12-61. The same layout for every granule.
     */
    @Override
    public long mkSwapPte(final int type, final long offset) {
        return (((long) type & ((1L << SWP_TYPE_BITS) - 1)) << SWP_TYPE_SHIFT)
                | ((offset & ((1L << SWP_OFFSET_BITS) - 1)) << SWP_OFFSET_SHIFT);
    }

    @Override
    public int swapPteType(final long pte) {
        return (int) ((pte >>> SWP_TYPE_SHIFT) & ((1L << SWP_TYPE_BITS) - 1));
    }

    @Override
    public long swapPteOffset(final long pte) {
        return (pte >>> SWP_OFFSET_SHIFT) & ((1L << SWP_OFFSET_BITS) - 1);
    }

    /** pte_swp_exclusive: PTE_SWP_EXCLUSIVE (bit 2). */
    @Override
    public boolean pteSwpExclusive(final long pte) {
        return (pte & PTE_SWP_EXCLUSIVE) != 0;
    }

    @Override
    public long pteSwpMkexclusive(final long pte) {
        return pte | PTE_SWP_EXCLUSIVE;
    }

    @Override
    public long pteSwpClearExclusive(final long pte) {
        return pte & ~PTE_SWP_EXCLUSIVE;
    }

    @Override
    public String describe(final long entry, final int level) {
        return DescriptorDecoder.describe(this, entry, level);
    }

    @Override
    public String toString() {
        return "arm64 " + (1 << (granule.shift() - 10)) + "K/" + vaBits + "-bit (" + levels + " levels)";
    }
}
