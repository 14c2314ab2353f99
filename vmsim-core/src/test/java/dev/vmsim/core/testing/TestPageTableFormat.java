package dev.vmsim.core.testing;

import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.pgtable.PageTableFormat;

/**
 * A minimal 4-level, 48-bit, 4 KiB page-table format with x86-64-like bits, so core can be tested
 * without an architecture module: P=bit0, RW=bit1, US=bit2, A=bit5, D=bit6, SPECIAL=bit9, NX=bit63,
 * PFN in bits 12..51. Huge leaves are not used.
 */
public final class TestPageTableFormat implements PageTableFormat {
    public static final long P = 1L;
    public static final long RW = 1L << 1;
    public static final long US = 1L << 2;
    public static final long A = 1L << 5;
    public static final long D = 1L << 6;
    public static final long SPECIAL = 1L << 9;
    /**
     * Software bit of a PROT_NONE leaf (x86's _PAGE_PROTNONE): the hardware sees no P bit and
     * faults, but the entry still maps its page for the kernel (pte_present), so mprotect,
     * zap and rmap keep handling it.
     */
    public static final long PROTNONE = 1L << 8;

    public static final long NX = 1L << 63;
    public static final long PFN_MASK = ((1L << 52) - 1) & ~0xfffL;

    @Override
    public int levels() {
        return 4;
    }

    @Override
    public int vaBits() {
        return 48;
    }

    @Override
    public int levelShift(final int level) {
        return 12 + 9 * level;
    }

    @Override
    public int indexBits(final int level) {
        return 9;
    }

    @Override
    public long taskSize() {
        return 1L << 47;
    }

    @Override
    public long mkTable(final long tablePfn, final int level) {
        return (tablePfn << 12) | P | RW | US | A | D;
    }

    @Override
    public boolean isTable(final long entry, final int level) {
        return level > 0 && (entry & P) != 0;
    }

    @Override
    public boolean isHugeLeaf(final long entry, final int level) {
        return false;
    }

    @Override
    public long pfn(final long entry) {
        return (entry & PFN_MASK) >>> 12;
    }

    @Override
    public long vmGetPageProt(final long vmFlags) {
        long prot = 0;
        if ((vmFlags & VmFlags.VM_ACCESS_FLAGS) != 0) {
            prot |= P | US | A;
        } else {
            prot |= PROTNONE;
        }
        if ((vmFlags & VmFlags.VM_WRITE) != 0 && (vmFlags & VmFlags.VM_SHARED) != 0) {
            prot |= RW;
        }
        if ((vmFlags & VmFlags.VM_EXEC) == 0) {
            prot |= NX;
        }
        return prot;
    }

    @Override
    public long pfnPte(final long pfn, final long prot) {
        return (pfn << 12) | prot;
    }

    @Override
    public long pteModify(final long pte, final long prot) {
        return (pte & (PFN_MASK | A | D | SPECIAL)) | (prot & ~PFN_MASK & ~A & ~D);
    }

    @Override
    public boolean ptePresent(final long pte) {
        return (pte & (P | PROTNONE)) != 0;
    }

    @Override
    public boolean pteWrite(final long pte) {
        return (pte & RW) != 0;
    }

    @Override
    public boolean pteDirty(final long pte) {
        return (pte & D) != 0;
    }

    @Override
    public boolean pteYoung(final long pte) {
        return (pte & A) != 0;
    }

    @Override
    public boolean pteSpecial(final long pte) {
        return (pte & SPECIAL) != 0;
    }

    @Override
    public long pteMkwrite(final long pte) {
        return pte | RW;
    }

    @Override
    public long pteWrprotect(final long pte) {
        return pte & ~RW;
    }

    @Override
    public long pteMkdirty(final long pte) {
        return pte | D;
    }

    @Override
    public long pteMkclean(final long pte) {
        return pte & ~D;
    }

    @Override
    public long pteMkyoung(final long pte) {
        return pte | A;
    }

    @Override
    public long pteMkold(final long pte) {
        return pte & ~A;
    }

    @Override
    public long pteMkspecial(final long pte) {
        return pte | SPECIAL;
    }

    @Override
    public String describe(final long entry, final int level) {
        return String.format(
                        "L%d 0x%016x%s%s%s%s%s pfn=0x%x",
                        level,
                        entry,
                        (entry & P) != 0 ? " P" : "",
                        (entry & RW) != 0 ? " RW" : "",
                        (entry & US) != 0 ? " US" : "",
                        (entry & A) != 0 ? " A" : "",
                        (entry & D) != 0 ? " D" : "",
                        pfn(entry))
                + ((entry & PROTNONE) != 0 ? " PROTNONE" : "");
    }

    // x86-64's swap-PTE layout without the L1TF inversion: type in bits 59-63, offset in 9-58,
    // the exclusive marker in bit 3 (PWT's).
    public static final long SWP_EXCLUSIVE = 1L << 3;

    @Override
    public long mkSwapPte(final int type, final long offset) {
        return ((long) type << 59) | ((offset & ((1L << 50) - 1)) << 9);
    }

    @Override
    public int swapPteType(final long pte) {
        return (int) (pte >>> 59);
    }

    @Override
    public long swapPteOffset(final long pte) {
        return (pte >>> 9) & ((1L << 50) - 1);
    }

    @Override
    public boolean pteSwpExclusive(final long pte) {
        return (pte & SWP_EXCLUSIVE) != 0;
    }

    @Override
    public long pteSwpMkexclusive(final long pte) {
        return pte | SWP_EXCLUSIVE;
    }

    @Override
    public long pteSwpClearExclusive(final long pte) {
        return pte & ~SWP_EXCLUSIVE;
    }
}
