package dev.vmsim.arch.x86;

/**
 * The x86-64 paging-entry bit layout and user protections, as arch/x86/include/asm/pgtable_types.h
 * defines them ({@code _PAGE_BIT_*}, {@code _PAGE_*}, {@code PAGE_*}). One 64-bit layout serves
 * every level (PML5E, PML4E, PDPTE, PDE, PTE); bit 7 is PS in a PDPTE/PDE and PAT in a 4 KiB PTE.
 *
 * <p>Encryption bits (AMD SME C-bit, TDX shared bit) are not modelled: the simulated machine has
 * no memory encryption, so {@code _PAGE_ENC} is 0 as on a kernel built without it.
 */
public final class X86Pte {
    /** _PAGE_BIT_PRESENT. */
    public static final long PRESENT = 1L << 0;
    /** _PAGE_BIT_RW: writeable. */
    public static final long RW = 1L << 1;
    /** _PAGE_BIT_USER: user-accessible (the U/S bit). */
    public static final long USER = 1L << 2;
    /** _PAGE_BIT_PWT: page write-through. */
    public static final long PWT = 1L << 3;
    /** _PAGE_BIT_PCD: page cache disabled. */
    public static final long PCD = 1L << 4;
    /** _PAGE_BIT_ACCESSED: set by the hardware walker on every entry it uses. */
    public static final long ACCESSED = 1L << 5;
    /** _PAGE_BIT_DIRTY: set by the hardware on the leaf for a write. */
    public static final long DIRTY = 1L << 6;
    /** _PAGE_BIT_PSE: a 2 MiB (PDE) or 1 GiB (PDPTE) leaf. Reserved in a PML4E/PML5E. */
    public static final long PSE = 1L << 7;
    /** _PAGE_BIT_PAT: the same bit in a 4 KiB PTE. */
    public static final long PAT = 1L << 7;
    /** _PAGE_BIT_GLOBAL: the translation survives a CR3 write (CR4.PGE). */
    public static final long GLOBAL = 1L << 8;
    /** _PAGE_BIT_PROTNONE: the GLOBAL bit reused when PRESENT is clear (a PROT_NONE page). */
    public static final long PROTNONE = GLOBAL;
    /** _PAGE_BIT_SOFTW1 = _PAGE_BIT_SPECIAL: no struct-page refcounting (the zero page). */
    public static final long SPECIAL = 1L << 9;
    /** _PAGE_BIT_SOFTW2 = _PAGE_BIT_UFFD_WP. */
    public static final long UFFD_WP = 1L << 10;
    /** _PAGE_BIT_SOFTW3 = _PAGE_BIT_SOFT_DIRTY. */
    public static final long SOFT_DIRTY = 1L << 11;
    /** _PAGE_BIT_PAT_LARGE: PAT in a 2 MiB / 1 GiB leaf (so the pfn of a huge leaf starts above it). */
    public static final long PAT_LARGE = 1L << 12;
    /** _PAGE_BIT_SOFTW4 = _PAGE_BIT_DEVMAP. */
    public static final long DEVMAP = 1L << 57;
    /** _PAGE_BIT_SOFTW5 = _PAGE_BIT_SAVED_DIRTY (leaf); NOPTISHADOW in a root entry. */
    public static final long SAVED_DIRTY = 1L << 58;
    /** _PAGE_BIT_PKEY_BIT0: the 4-bit protection key occupies bits 59-62. */
    public static final int PKEY_SHIFT = 59;
    /** _PAGE_PKEY_MASK. */
    public static final long PKEY_MASK = 0xFL << PKEY_SHIFT;
    /** _PAGE_BIT_NX: no-execute (EFER.NXE is always on in the simulated CPU). */
    public static final long NX = 1L << 63;

    /** _PAGE_SWP_SOFT_DIRTY: RW's bit, in a swap PTE. */
    public static final long SWP_SOFT_DIRTY = RW;
    /** _PAGE_SWP_UFFD_WP: USER's bit, in a swap PTE. */
    public static final long SWP_UFFD_WP = USER;
    /** _PAGE_SWP_EXCLUSIVE: PWT's bit, in a swap PTE (remembers PG_anon_exclusive). */
    public static final long SWP_EXCLUSIVE = PWT;
    /** SWP_TYPE_BITS: the swap type sits in the top 5 bits. */
    public static final int SWP_TYPE_BITS = 5;
    /** SWP_OFFSET_FIRST_BIT = _PAGE_BIT_PROTNONE + 1. */
    public static final int SWP_OFFSET_FIRST_BIT = 9;
    /** SWP_OFFSET_SHIFT = SWP_OFFSET_FIRST_BIT + SWP_TYPE_BITS. */
    public static final int SWP_OFFSET_SHIFT = SWP_OFFSET_FIRST_BIT + SWP_TYPE_BITS;

    /** PTE_PFN_MASK (physical-address bits 12-51 with __PHYSICAL_MASK_SHIFT = 52). */
    public static final long PTE_PFN_MASK = ((1L << 52) - 1) & ~0xFFFL;

    /** _PAGE_CHG_MASK: what pte_modify keeps from the old entry (no _PAGE_CC: no encryption). */
    public static final long PAGE_CHG_MASK =
            PTE_PFN_MASK | PCD | PWT | SPECIAL | ACCESSED | DIRTY | SAVED_DIRTY | SOFT_DIRTY | DEVMAP | UFFD_WP;

    /** _PAGE_TABLE: a user page-table (non-leaf) entry, P|RW|USER|A|D = 0x67. */
    public static final long PAGE_TABLE = PRESENT | RW | USER | ACCESSED | DIRTY;

    /** PAGE_NONE = A|PROTNONE = 0x120: not present to the hardware, present to software. */
    public static final long PAGE_NONE = ACCESSED | PROTNONE;
    /** PAGE_SHARED = P|RW|USER|A|NX. */
    public static final long PAGE_SHARED = PRESENT | RW | USER | ACCESSED | NX;
    /** PAGE_SHARED_EXEC = P|RW|USER|A = 0x27. */
    public static final long PAGE_SHARED_EXEC = PRESENT | RW | USER | ACCESSED;
    /** PAGE_COPY_NOEXEC = P|USER|A|NX. */
    public static final long PAGE_COPY_NOEXEC = PRESENT | USER | ACCESSED | NX;
    /** PAGE_COPY_EXEC = P|USER|A = 0x25. */
    public static final long PAGE_COPY_EXEC = PRESENT | USER | ACCESSED;
    /** PAGE_COPY = PAGE_COPY_NOEXEC. */
    public static final long PAGE_COPY = PAGE_COPY_NOEXEC;
    /** PAGE_READONLY = P|USER|A|NX. */
    public static final long PAGE_READONLY = PRESENT | USER | ACCESSED | NX;
    /** PAGE_READONLY_EXEC = P|USER|A = 0x25. */
    public static final long PAGE_READONLY_EXEC = PRESENT | USER | ACCESSED;

    private X86Pte() {}

    /** pte_present: PRESENT or PROTNONE (a PROT_NONE page is present to software). */
    public static boolean present(final long pte) {
        return (pte & (PRESENT | PROTNONE)) != 0;
    }

    /** pte_protnone: PROTNONE without PRESENT (NUMA hinting / PROT_NONE). */
    public static boolean protnone(final long pte) {
        return (pte & (PRESENT | PROTNONE)) == PROTNONE;
    }

    /** The protection key of a leaf entry (bits 59-62). */
    public static int pkey(final long pte) {
        return (int) ((pte & PKEY_MASK) >>> PKEY_SHIFT);
    }

    /** Sets the protection key of an entry (the kernel's arch_vma_pkey → pgprot bits). */
    public static long withPkey(final long pte, final int pkey) {
        return (pte & ~PKEY_MASK) | (((long) pkey & 0xF) << PKEY_SHIFT);
    }

    /**
     * A decode of an entry's flag bits, e.g. "P RW US A D NX pfn=0x1234" (PS/PAT by level: bit 7 is
     * PS above the leaf and PAT in a 4 KiB PTE).
     */
    public static String describe(final long e, final int level) {
        if (e == 0) {
            return "none";
        }
        if (level == 0 && !present(e)) {
            return describeSwap(e);
        }
        final StringBuilder sb = new StringBuilder();
        flag(sb, e, PRESENT, "P");
        flag(sb, e, RW, "RW");
        flag(sb, e, USER, "US");
        flag(sb, e, PWT, "PWT");
        flag(sb, e, PCD, "PCD");
        flag(sb, e, ACCESSED, "A");
        flag(sb, e, DIRTY, "D");
        flag(sb, e, PSE, level == 0 ? "PAT" : "PS");
        flag(sb, e, GLOBAL, (e & PRESENT) == 0 ? "PROTNONE" : "G");
        flag(sb, e, SPECIAL, "SPECIAL");
        flag(sb, e, UFFD_WP, "UFFD_WP");
        flag(sb, e, SOFT_DIRTY, "SOFT_DIRTY");
        flag(sb, e, DEVMAP, "DEVMAP");
        flag(sb, e, SAVED_DIRTY, "SAVED_DIRTY");
        if ((e & PKEY_MASK) != 0) {
            sb.append("PKEY=").append(pkey(e)).append(' ');
        }
        flag(sb, e, NX, "NX");
        sb.append("pfn=0x").append(Long.toHexString((e & PTE_PFN_MASK) >>> 12));
        return sb.toString();
    }

    /**
     * A swap PTE: "swap type=0 offset=0x2a EXCLUSIVE" (pte_to_swp_entry, then the swap flag bits);
     * a PTE marker reads "pte marker guard".
     */
    static String describeSwap(final long e) {
        final long type = e >>> (64 - SWP_TYPE_BITS);
        final long offset = ~e << SWP_TYPE_BITS >>> SWP_OFFSET_SHIFT;
        final StringBuilder sb = new StringBuilder(
                dev.vmsim.core.swap.SwpEntry.describe(dev.vmsim.core.swap.SwpEntry.swpEntry((int) type, offset)));
        if ((e & SWP_EXCLUSIVE) != 0) {
            sb.append(" EXCLUSIVE");
        }
        if ((e & SWP_SOFT_DIRTY) != 0) {
            sb.append(" SOFT_DIRTY");
        }
        if ((e & SWP_UFFD_WP) != 0) {
            sb.append(" UFFD_WP");
        }
        return sb.toString();
    }

    private static void flag(final StringBuilder sb, final long e, final long bit, final String name) {
        if ((e & bit) != 0) {
            sb.append(name).append(' ');
        }
    }
}
