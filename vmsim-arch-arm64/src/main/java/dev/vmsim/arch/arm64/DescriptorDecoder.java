package dev.vmsim.arch.arm64;

import static dev.vmsim.arch.arm64.Arm64Pte.*;

/** Decodes a descriptor into its named bits for walk dumps and teaching ("PAGE V USER RDONLY AF nG DBM UXN ..."). */
final class DescriptorDecoder {
    private DescriptorDecoder() {}

    static String describe(final Arm64PageTableFormat f, final long d, final int level) {
        final StringBuilder sb = new StringBuilder();
        if ((d & PTE_VALID) == 0) {
            if (d == 0) {
                return "INVALID (none)";
            }
            if (level == 0 && !f.ptePresent(d)) {
                // a swap PTE (or a PTE marker): pte_to_swp_entry, then the swap flag bits
                sb.append(dev.vmsim.core.swap.SwpEntry.describe(f.pteToSwpEntry(d)));
                if (f.pteSwpExclusive(d)) {
                    sb.append(" EXCLUSIVE");
                }
                if ((d & PTE_SWP_UFFD_WP) != 0) {
                    sb.append(" UFFD_WP");
                }
                return sb.toString();
            }
            sb.append("INVALID");
            if (level == 0 && (d & PTE_PRESENT_INVALID) != 0) {
                sb.append(" PRESENT_INVALID(PROT_NONE)");
            }
            leafBits(sb, d);
            return sb.append(" oa=0x")
                    .append(Long.toHexString(f.outputAddress(d)))
                    .toString();
        }
        final boolean tableOrPage = (d & PTE_TYPE_MASK) == 3;
        if (level > 0 && tableOrPage) {
            sb.append("TABLE");
            if ((d & PMD_TABLE_PXN) != 0) {
                sb.append(" PXNTable");
            }
            if ((d & PMD_TABLE_UXN) != 0) {
                sb.append(" UXNTable");
            }
            if ((d & PMD_TABLE_AP_NO_EL0) != 0) {
                sb.append(" APTable[0](no EL0)");
            }
            if ((d & PMD_TABLE_AP_RDONLY) != 0) {
                sb.append(" APTable[1](RO)");
            }
            return sb.append(" next=0x")
                    .append(Long.toHexString(f.outputAddress(d)))
                    .toString();
        }
        if (level > 0) {
            sb.append(f.blockAllowed(level) ? "BLOCK" : "RESERVED(block not allowed here)");
        } else {
            sb.append(tableOrPage ? "PAGE" : "RESERVED(0b01 at level 3)");
        }
        sb.append(" V AttrIndx=").append((d >>> 2) & 7);
        leafBits(sb, d);
        if (!f.lpa2()) {
            sb.append(" SH=").append((d >>> 8) & 3);
        }
        return sb.append(" oa=0x").append(Long.toHexString(f.outputAddress(d))).toString();
    }

    private static void leafBits(final StringBuilder sb, final long d) {
        flag(sb, d, PTE_USER, "USER");
        flag(sb, d, PTE_RDONLY, "RDONLY");
        flag(sb, d, PTE_AF, "AF");
        if ((d & PTE_VALID) != 0) {
            flag(sb, d, PTE_NG, "nG");
        }
        flag(sb, d, PTE_DBM, "DBM/WRITE");
        flag(sb, d, PTE_CONT, "CONT");
        flag(sb, d, PTE_PXN, "PXN");
        flag(sb, d, PTE_UXN, "UXN");
        flag(sb, d, PTE_DIRTY, "DIRTY(sw)");
        flag(sb, d, PTE_SPECIAL, "SPECIAL");
        if (hwDirty(d)) {
            sb.append(" [hw-dirty]");
        }
    }

    private static void flag(final StringBuilder sb, final long d, final long bit, final String name) {
        if ((d & bit) != 0) {
            sb.append(' ').append(name);
        }
    }
}
