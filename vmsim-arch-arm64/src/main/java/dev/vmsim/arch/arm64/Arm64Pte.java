package dev.vmsim.arch.arm64;

/**
 * The bits of a 64-bit VMSAv8-64 stage-1 descriptor as arch/arm64/include/asm/pgtable-hwdef.h and
 * pgtable-prot.h name them, and the user protections Linux builds from them.
 *
 * <p>Hardware bits: VALID 0, type 1 (table/page = 0b11, block = 0b01), AttrIndx 4:2, AP[1] = USER 6,
 * AP[2] = RDONLY 7, SH 9:8, AF 10, nG 11, DBM 51, CONT 52, PXN 53, UXN 54. Table descriptors carry
 * the hierarchical PXNTable 59, UXNTable 60, APTable 62:61. Linux's software bits: PTE_WRITE shares
 * bit 51 with DBM (a writable entry is exactly one the hardware may make dirty), PTE_DIRTY 55,
 * PTE_SPECIAL 56, PTE_PRESENT_INVALID reuses nG (11) when VALID is clear (PROT_NONE).
 */
public final class Arm64Pte {
    public static final long PTE_VALID = 1L << 0;
    /** Bit 1: 1 for a table or page descriptor, 0 for a block descriptor (historically PTE_TABLE_BIT). */
    public static final long PTE_TABLE_BIT = 1L << 1;

    public static final long PTE_TYPE_MASK = 3L;
    public static final long PTE_TYPE_PAGE = 3L;
    public static final long PMD_TYPE_TABLE = 3L;
    public static final long PMD_TYPE_SECT = 1L;
    public static final long PTE_ATTRINDX_MASK = 7L << 2;
    public static final long PTE_USER = 1L << 6; // AP[1]
    public static final long PTE_RDONLY = 1L << 7; // AP[2]
    public static final long PTE_SHARED = 3L << 8; // SH[1:0], inner shareable
    public static final long PTE_AF = 1L << 10;
    public static final long PTE_NG = 1L << 11;
    /** When VALID is clear: a PROT_NONE entry that is present to software (pte_present_invalid). */
    public static final long PTE_PRESENT_INVALID = PTE_NG;

    public static final long PTE_GP = 1L << 50;
    public static final long PTE_DBM = 1L << 51;
    /** Linux's software "writable" bit is the hardware DBM bit. */
    public static final long PTE_WRITE = PTE_DBM;

    public static final long PTE_CONT = 1L << 52;
    public static final long PTE_PXN = 1L << 53;
    public static final long PTE_UXN = 1L << 54;
    public static final long PTE_DIRTY = 1L << 55; // software
    public static final long PTE_SPECIAL = 1L << 56; // software
    public static final long PTE_UFFD_WP = 1L << 58; // software
    /** PTE_SWP_EXCLUSIVE: bit 2 of a swap PTE (remembers PG_anon_exclusive). */
    public static final long PTE_SWP_EXCLUSIVE = 1L << 2;
    /** PTE_SWP_UFFD_WP: bit 3 of a swap PTE. */
    public static final long PTE_SWP_UFFD_WP = 1L << 3;
    /** __SWP_TYPE_SHIFT: swap type in bits 6-10. */
    public static final int SWP_TYPE_SHIFT = 6;
    /** __SWP_TYPE_BITS. */
    public static final int SWP_TYPE_BITS = 5;
    /** __SWP_OFFSET_SHIFT: swap offset in bits 12-61. */
    public static final int SWP_OFFSET_SHIFT = 12;
    /** __SWP_OFFSET_BITS. */
    public static final int SWP_OFFSET_BITS = 50;

    /** Table descriptor: PXNTable, UXNTable, APTable[0] (no EL0 access below), APTable[1] (read-only below). */
    public static final long PMD_TABLE_PXN = 1L << 59;

    public static final long PMD_TABLE_UXN = 1L << 60;
    public static final long PMD_TABLE_AP_NO_EL0 = 1L << 61;
    public static final long PMD_TABLE_AP_RDONLY = 1L << 62;

    /** AttrIndx values (MAIR_EL1 slots): MT_NORMAL is 0 in Linux. */
    public static final int MT_NORMAL = 0;

    public static final int MT_NORMAL_NC = 2;
    public static final int MT_DEVICE_nGnRnE = 3;

    /** _PROT_DEFAULT | PTE_ATTRINDX(MT_NORMAL) (with the SH field; LPA2 formats drop it, see {@link #protDefault}). */
    public static final long PAGE_DEFAULT = PTE_TYPE_PAGE | PTE_AF | PTE_SHARED;

    private Arm64Pte() {}

    /** _PAGE_DEFAULT for a format: with LPA2 (52-bit on 4K/16K) bits 9:8 hold OA[51:50], so no SH. */
    public static long protDefault(final boolean lpa2) {
        return lpa2 ? PTE_TYPE_PAGE | PTE_AF : PAGE_DEFAULT;
    }

    /** PAGE_NONE: invalid to the hardware, present to software. */
    public static long pageNone(final long def) {
        return (def & ~PTE_VALID) | PTE_PRESENT_INVALID | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_UXN;
    }

    /** PAGE_SHARED: "clean writable", RDONLY and WRITE (DBM) both set, so the first write dirties it. */
    public static long pageShared(final long def) {
        return def | PTE_USER | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_UXN | PTE_WRITE;
    }

    public static long pageSharedExec(final long def) {
        return def | PTE_USER | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_WRITE;
    }

    public static long pageReadonly(final long def) {
        return def | PTE_USER | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_UXN;
    }

    public static long pageReadonlyExec(final long def) {
        return def | PTE_USER | PTE_RDONLY | PTE_NG | PTE_PXN;
    }

    /** PAGE_EXECONLY (only with FEAT_EPAN): no USER, so EL0 can fetch but not load. */
    public static long pageExeconly(final long def) {
        return def | PTE_RDONLY | PTE_NG | PTE_PXN;
    }

    /** pte_valid. */
    public static boolean valid(final long d) {
        return (d & PTE_VALID) != 0;
    }

    /** pte_hw_dirty: writable and the hardware cleared RDONLY. */
    public static boolean hwDirty(final long d) {
        return (d & PTE_WRITE) != 0 && (d & PTE_RDONLY) == 0;
    }

    /** pte_sw_dirty. */
    public static boolean swDirty(final long d) {
        return (d & PTE_DIRTY) != 0;
    }
}
