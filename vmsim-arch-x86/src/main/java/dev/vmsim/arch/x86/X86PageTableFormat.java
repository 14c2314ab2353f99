package dev.vmsim.arch.x86;

import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.phys.PhysicalMemory;

/**
 * x86-64 IA-32e paging with 4 KiB pages: 4-level (48-bit, PML4) or 5-level (LA57, 57-bit, PML5),
 * with 2 MiB (PDE.PS) and 1 GiB (PDPTE.PS) leaves; the {@code pte_*} helpers of
 * arch/x86/include/asm/pgtable.h and the protection_map of arch/x86/mm/pgprot.c.
 *
 * <p>Levels are numbered from the leaf: 0 = PT (pte), 1 = PD (pmd), 2 = PDPT (pud), 3 = PML4 (p4d
 * folded into pgd with 4 levels), 4 = PML5 (pgd with LA57).
 *
 * <p><b>Reserved bits.</b> Architecturally, bits 52-58 of an entry are <em>ignored</em> (free for
 * software: the kernel keeps DEVMAP and SAVED_DIRTY there), not reserved; the reserved bits are the
 * physical-address bits at and above MAXPHYADDR (configurable, 46 by default as on many Intel
 * server parts), PS in a PML4E/PML5E, and the low address bits of a huge leaf that must be zero
 * for its alignment (bits 13-20 of a 2 MiB PDE, 13-29 of a 1 GiB PDPTE). A walker that meets
 * one raises #PF with RSVD.
 *
 * <p>Immutable and thread-safe.
 */
public final class X86PageTableFormat implements PageTableFormat {
    /** Level names from the leaf up, as the SDM names the tables. */
    private static final String[] LEVEL_NAMES = {"PT", "PD", "PDPT", "PML4", "PML5"};

    /** 4-level paging (48-bit virtual addresses), MAXPHYADDR 46. */
    public static final X86PageTableFormat FOUR_LEVEL = new X86PageTableFormat(false, 46);
    /** 5-level paging (LA57, 57-bit virtual addresses), MAXPHYADDR 46. */
    public static final X86PageTableFormat FIVE_LEVEL = new X86PageTableFormat(true, 46);

    /** vm_flags → protection; index VM_READ|VM_WRITE|VM_EXEC|VM_SHARED (protection_map[16]). */
    private static final long[] PROTECTION_MAP = {
        X86Pte.PAGE_NONE, // VM_NONE
        X86Pte.PAGE_READONLY, // VM_READ
        X86Pte.PAGE_COPY, // VM_WRITE
        X86Pte.PAGE_COPY, // VM_WRITE | VM_READ
        X86Pte.PAGE_READONLY_EXEC, // VM_EXEC
        X86Pte.PAGE_READONLY_EXEC, // VM_EXEC | VM_READ
        X86Pte.PAGE_COPY_EXEC, // VM_EXEC | VM_WRITE
        X86Pte.PAGE_COPY_EXEC, // VM_EXEC | VM_WRITE | VM_READ
        X86Pte.PAGE_NONE, // VM_SHARED
        X86Pte.PAGE_READONLY, // VM_SHARED | VM_READ
        X86Pte.PAGE_SHARED, // VM_SHARED | VM_WRITE
        X86Pte.PAGE_SHARED, // VM_SHARED | VM_WRITE | VM_READ
        X86Pte.PAGE_READONLY_EXEC, // VM_SHARED | VM_EXEC
        X86Pte.PAGE_READONLY_EXEC, // VM_SHARED | VM_EXEC | VM_READ
        X86Pte.PAGE_SHARED_EXEC, // VM_SHARED | VM_EXEC | VM_WRITE
        X86Pte.PAGE_SHARED_EXEC, // VM_SHARED | VM_EXEC | VM_WRITE | VM_READ
    };

    private final boolean la57;
    private final int levels;
    private final int vaBits;
    private final int maxPhyAddr;
    /** Physical-address bits [maxPhyAddr, 52): reserved in every present entry. */
    private final long rsvdPhysMask;

    /**
     * @param la57 5-level paging (CR4.LA57)
     * @param maxPhyAddr MAXPHYADDR (CPUID 0x80000008 EAX[7:0]), 36..52
     */
    public X86PageTableFormat(final boolean la57, final int maxPhyAddr) {
        if (maxPhyAddr < 36 || maxPhyAddr > 52) {
            throw new IllegalArgumentException("MAXPHYADDR out of range: " + maxPhyAddr);
        }
        this.la57 = la57;
        this.levels = la57 ? 5 : 4;
        this.vaBits = la57 ? 57 : 48;
        this.maxPhyAddr = maxPhyAddr;
        this.rsvdPhysMask = ((1L << 52) - 1) & ~((1L << maxPhyAddr) - 1);
    }

    public boolean la57() {
        return la57;
    }

    public int maxPhyAddr() {
        return maxPhyAddr;
    }

    @Override
    public int levels() {
        return levels;
    }

    @Override
    public int vaBits() {
        return vaBits;
    }

    @Override
    public int levelShift(final int level) {
        return 12 + 9 * level;
    }

    @Override
    public int indexBits(final int level) {
        return 9;
    }

    /**
     * TASK_SIZE_MAX = (1 &lt;&lt; __VIRTUAL_MASK_SHIFT) - PAGE_SIZE (arch/x86/include/asm/page_64.h):
     * 0x7ffffffff000 with 4 levels. The top user page is left unmapped as a guard against the
     * SYSRET non-canonical-RIP erratum, so this is one page below 2^47 (2^56 with LA57).
     */
    @Override
    public long taskSize() {
        return (1L << (vaBits - 1)) - 4096;
    }

    /**
     * DEFAULT_MAP_WINDOW = (1 &lt;&lt; 47) - PAGE_SIZE (arch/x86/include/asm/page_64_types.h): with
     * LA57 user space still gets the 4-level address space (TASK_SIZE_LOW, STACK_TOP, mmap_base)
     * and reaches above it only with a hint above it, so that programs that keep tags in the high
     * pointer bits keep working.
     */
    @Override
    public long defaultMapWindow() {
        return (1L << 47) - 4096;
    }

    /** The level name as the SDM names its table: PT, PD, PDPT, PML4, PML5. */
    public static String levelName(final int level) {
        return LEVEL_NAMES[level];
    }

    /** A canonical address: bits 63..vaBits-1 all equal (sign extension of the top translated bit). */
    public boolean isCanonical(final long va) {
        return (va << (64 - vaBits)) >> (64 - vaBits) == va;
    }

    /** The reserved bits of a present entry at {@code level} that a walker checks (see the class comment). */
    public long reservedBits(final long entry, final int level) {
        long rsvd = entry & rsvdPhysMask;
        if ((entry & X86Pte.PSE) != 0) {
            if (level >= 3) {
                rsvd |= X86Pte.PSE; // no 512 GiB pages: PS is reserved in a PML4E / PML5E
            } else if (level >= 1) {
                // a huge leaf's frame is aligned: the address bits between PAT_LARGE and the page size are zero
                rsvd |= entry & (((1L << levelShift(level)) - 1) & ~0x1FFFL);
            }
        }
        return rsvd;
    }

    // ---- non-leaf entries ----

    @Override
    public long mkTable(final long tablePfn, final int level) {
        return (tablePfn << 12) | X86Pte.PAGE_TABLE;
    }

    @Override
    public boolean isTable(final long entry, final int level) {
        return level > 0 && (entry & X86Pte.PRESENT) != 0 && (level >= 3 || (entry & X86Pte.PSE) == 0);
    }

    /** pmd_leaf / pud_leaf: PS set in a present (or PROT_NONE) PDE or PDPTE. */
    @Override
    public boolean isHugeLeaf(final long entry, final int level) {
        return (level == 1 || level == 2) && X86Pte.present(entry) && (entry & X86Pte.PSE) != 0;
    }

    /** pte_pfn: physical-address bits 12-51. For a huge leaf use {@link #pfn(long, int)}. */
    @Override
    public long pfn(final long entry) {
        return (entry & X86Pte.PTE_PFN_MASK) >>> 12;
    }

    /** pmd_pfn / pud_pfn: like {@link #pfn(long)} but without PAT_LARGE (bit 12) for a huge leaf. */
    public long pfn(final long entry, final int level) {
        if (level > 0 && (entry & X86Pte.PSE) != 0) {
            return (entry & X86Pte.PTE_PFN_MASK & ~((1L << levelShift(level)) - 1)) >>> 12;
        }
        return pfn(entry);
    }

    /** pfn_pmd / pfn_pud: a huge leaf for the naturally aligned frame {@code pfn} at level 1 or 2. */
    public long mkHugeLeaf(final long pfn, final long prot, final int level) {
        if (level != 1 && level != 2) {
            throw new IllegalArgumentException("huge leaves exist at PD (1) and PDPT (2) only: " + level);
        }
        return (pfn << 12) | prot | X86Pte.PSE;
    }

    // ---- leaf entries ----

    /** vm_get_page_prot: protection_map[vm_flags &amp; (VM_READ|VM_WRITE|VM_EXEC|VM_SHARED)]. */
    @Override
    public long vmGetPageProt(final long vmFlags) {
        return PROTECTION_MAP[(int) (vmFlags & (VmFlags.VM_ACCESS_FLAGS | VmFlags.VM_SHARED))];
    }

    @Override
    public long pfnPte(final long pfn, final long prot) {
        return (pfn << 12) | (prot & ~X86Pte.PTE_PFN_MASK);
    }

    /** pte_modify: (pte &amp; _PAGE_CHG_MASK) | (newprot &amp; ~_PAGE_CHG_MASK). */
    @Override
    public long pteModify(final long pte, final long prot) {
        return (pte & X86Pte.PAGE_CHG_MASK) | (prot & ~X86Pte.PAGE_CHG_MASK);
    }

    @Override
    public boolean ptePresent(final long pte) {
        return X86Pte.present(pte);
    }

    /** pte_protnone. */
    public boolean pteProtnone(final long pte) {
        return X86Pte.protnone(pte);
    }

    @Override
    public boolean pteWrite(final long pte) {
        return (pte & X86Pte.RW) != 0;
    }

    /** pte_dirty: _PAGE_DIRTY_BITS = DIRTY | SAVED_DIRTY. */
    @Override
    public boolean pteDirty(final long pte) {
        return (pte & (X86Pte.DIRTY | X86Pte.SAVED_DIRTY)) != 0;
    }

    @Override
    public boolean pteYoung(final long pte) {
        return (pte & X86Pte.ACCESSED) != 0;
    }

    @Override
    public boolean pteSpecial(final long pte) {
        return (pte & X86Pte.SPECIAL) != 0;
    }

    /**
     * pte_mkwrite_novma. Departure: the simulated CPU has no user shadow stacks
     * (X86_FEATURE_USER_SHSTK off), so DIRTY is never moved to SAVED_DIRTY and back.
     */
    @Override
    public long pteMkwrite(final long pte) {
        return pte | X86Pte.RW;
    }

    @Override
    public long pteWrprotect(final long pte) {
        return pte & ~X86Pte.RW;
    }

    /** pte_mkdirty: DIRTY | SOFT_DIRTY. */
    @Override
    public long pteMkdirty(final long pte) {
        return pte | X86Pte.DIRTY | X86Pte.SOFT_DIRTY;
    }

    @Override
    public long pteMkclean(final long pte) {
        return pte & ~(X86Pte.DIRTY | X86Pte.SAVED_DIRTY);
    }

    @Override
    public long pteMkyoung(final long pte) {
        return pte | X86Pte.ACCESSED;
    }

    @Override
    public long pteMkold(final long pte) {
        return pte & ~X86Pte.ACCESSED;
    }

    @Override
    public long pteMkspecial(final long pte) {
        return pte | X86Pte.SPECIAL;
    }

    // ---- swap PTEs (arch/x86/include/asm/pgtable_64.h) ----

    /**
     * __swp_entry: type in bits 59-63, the offset <em>inverted</em> in bits 9-58 (L1TF: a
     * non-present PTE whose address bits are set points above any real memory, so a speculative
     * walk through it reads nothing; arch/x86/include/asm/pgtable-invert.h). Bits 0-8 are left to
     * PRESENT, the swap flags and PROTNONE (bit 8 must stay clear or pte_present would say yes).
     */
    @Override
    public long mkSwapPte(final int type, final long offset) {
        return (~offset << X86Pte.SWP_OFFSET_SHIFT >>> X86Pte.SWP_TYPE_BITS)
                | ((long) type << (64 - X86Pte.SWP_TYPE_BITS));
    }

    /** __swp_type: the top SWP_TYPE_BITS. */
    @Override
    public int swapPteType(final long pte) {
        return (int) (pte >>> (64 - X86Pte.SWP_TYPE_BITS));
    }

    /** __swp_offset: shifted up past the type, inverted back, shifted down. */
    @Override
    public long swapPteOffset(final long pte) {
        return ~pte << X86Pte.SWP_TYPE_BITS >>> X86Pte.SWP_OFFSET_SHIFT;
    }

    /** pte_swp_exclusive: _PAGE_SWP_EXCLUSIVE, which is _PAGE_PWT (bit 3). */
    @Override
    public boolean pteSwpExclusive(final long pte) {
        return (pte & X86Pte.SWP_EXCLUSIVE) != 0;
    }

    @Override
    public long pteSwpMkexclusive(final long pte) {
        return pte | X86Pte.SWP_EXCLUSIVE;
    }

    @Override
    public long pteSwpClearExclusive(final long pte) {
        return pte & ~X86Pte.SWP_EXCLUSIVE;
    }

    @Override
    public String describe(final long entry, final int level) {
        return X86Pte.describe(entry, level);
    }

    /**
     * A readable dump of the walk for {@code va} from the root table in frame {@code rootPfn}, one
     * line per level: "PML4[255] = 0x0000000000003067  P RW US A D pfn=0x3". Reads entries without
     * side effects (no A/D updates) and stops at a not-present entry or a leaf.
     */
    public String dumpWalk(final PhysicalMemory mem, final long rootPfn, final long va) {
        final StringBuilder sb = new StringBuilder();
        sb.append("walk 0x").append(Long.toHexString(va)).append(levels == 5 ? " (5-level)" : " (4-level)");
        if (!isCanonical(va)) {
            return sb.append("\n  non-canonical address: #GP").toString();
        }
        long table = rootPfn;
        for (int level = levels - 1; level >= 0; level--) {
            final int idx = index(va, level);
            final long e = mem.getLongAcquire((table << 12) + 8L * idx);
            sb.append(String.format("%n  %s[%d] = 0x%016x  %s", levelName(level), idx, e, describe(e, level)));
            if ((e & X86Pte.PRESENT) == 0) {
                return sb.append(String.format("%n  not present at %s", levelName(level)))
                        .toString();
            }
            if (reservedBits(e, level) != 0) {
                return sb.append(String.format(
                                "%n  reserved bits 0x%x set at %s", reservedBits(e, level), levelName(level)))
                        .toString();
            }
            if (level == 0 || (e & X86Pte.PSE) != 0) {
                final long off = va & ((1L << levelShift(level)) - 1);
                return sb.append(String.format(
                                "%n  -> pa 0x%x (%s page)", (pfn(e, level) << 12) + off, pageSizeName(level)))
                        .toString();
            }
            table = pfn(e);
        }
        throw new AssertionError("unreachable");
    }

    private static String pageSizeName(final int level) {
        return level == 0 ? "4 KiB" : level == 1 ? "2 MiB" : "1 GiB";
    }

    @Override
    public String toString() {
        return (la57 ? "x86-64 5-level (LA57)" : "x86-64 4-level") + ", MAXPHYADDR " + maxPhyAddr;
    }
}
