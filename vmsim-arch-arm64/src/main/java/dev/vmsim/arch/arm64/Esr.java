package dev.vmsim.arch.arm64;

/**
 * ESR_ELx, the exception syndrome register, as arch/arm64/include/asm/esr.h lays it out: EC 31:26,
 * IL 25, ISS 24:0 (data aborts: CM 8, S1PTW 7, WnR 6, DFSC 5:0; instruction aborts: IFSC 5:0).
 */
public final class Esr {
    public static final int EC_SHIFT = 26;
    public static final long IL = 1L << 25;
    public static final long ISS_MASK = (1L << 25) - 1;
    public static final long FNV = 1L << 10;
    public static final long CM = 1L << 8;
    public static final long S1PTW = 1L << 7;
    public static final long WNR = 1L << 6;
    public static final int FSC_MASK = 0x3f;

    public static final int EC_IABT_LOW = 0x20;
    public static final int EC_IABT_CUR = 0x21;
    public static final int EC_PC_ALIGN = 0x22;
    public static final int EC_DABT_LOW = 0x24;
    public static final int EC_DABT_CUR = 0x25;
    public static final int EC_SP_ALIGN = 0x26;

    /** Fault status codes (ESR_ELx_FSC_*): add the lookup level to the per-kind base. */
    public static final int FSC_ADDRSZ = 0x00;

    public static final int FSC_ADDRSZ_LM1 = 0x29;
    public static final int FSC_FAULT = 0x04;
    public static final int FSC_FAULT_LM1 = 0x2b;
    public static final int FSC_ACCESS = 0x08;
    public static final int FSC_PERM = 0x0c;
    public static final int FSC_SEA = 0x10;
    public static final int FSC_MTE = 0x11;
    public static final int FSC_SEA_TTW = 0x14;
    public static final int FSC_SEA_TTW_LM1 = 0x13;
    public static final int FSC_ALIGN = 0x21;

    private Esr() {}

    /** An ESR for an abort of class {@code ec} with {@code iss}; IL is set (A64 instructions are 32-bit). */
    public static long make(final int ec, final long iss) {
        return (long) ec << EC_SHIFT | IL | (iss & ISS_MASK);
    }

    /** The fault status code for a kind (one of the FSC_* level-0 bases) at architectural {@code level}. */
    public static int fsc(final int base, final int level) {
        if (level == -1) {
            switch (base) {
                case FSC_FAULT:
                    return FSC_FAULT_LM1;
                case FSC_ADDRSZ:
                    return FSC_ADDRSZ_LM1;
                case FSC_SEA_TTW:
                    return FSC_SEA_TTW_LM1;
                default:
                    throw new IllegalArgumentException("no level -1 form of FSC 0x" + Integer.toHexString(base));
            }
        }
        return base + level;
    }

    public static int ec(final long esr) {
        return (int) (esr >>> EC_SHIFT) & 0x3f;
    }

    public static int fsc(final long esr) {
        return (int) esr & FSC_MASK;
    }

    public static boolean isDataAbort(final long esr) {
        final int ec = ec(esr);
        return ec == EC_DABT_LOW || ec == EC_DABT_CUR;
    }

    /** is_el0_instruction_abort. */
    public static boolean isEl0InstructionAbort(final long esr) {
        return ec(esr) == EC_IABT_LOW;
    }

    /** is_el1_instruction_abort. */
    public static boolean isEl1InstructionAbort(final long esr) {
        return ec(esr) == EC_IABT_CUR;
    }

    /** is_el1_data_abort. */
    public static boolean isEl1DataAbort(final long esr) {
        return ec(esr) == EC_DABT_CUR;
    }

    /** is_write_abort: WnR set and not a cache-maintenance operation. */
    public static boolean isWriteAbort(final long esr) {
        return (esr & WNR) != 0 && (esr & CM) == 0;
    }

    /** esr_fsc_is_translation_fault: 0x04..0x07 and level -1 (0x2B). */
    public static boolean isTranslationFault(final long esr) {
        final int fsc = fsc(esr);
        return (fsc & ~3) == FSC_FAULT || fsc == FSC_FAULT_LM1;
    }

    /** esr_fsc_is_permission_fault. */
    public static boolean isPermissionFault(final long esr) {
        return (fsc(esr) & ~3) == FSC_PERM;
    }

    /** esr_fsc_is_access_flag_fault. */
    public static boolean isAccessFlagFault(final long esr) {
        return (fsc(esr) & ~3) == FSC_ACCESS;
    }

    /**
     * The ESR reported to user space for a fault on a non-user address (set_thread_esr in fault.c):
     * a level-0 translation fault keeping only EC and IL, plus CM and WnR for data aborts, so a
     * signal handler cannot probe the kernel's page-table layout.
     */
    public static long sanitize(final long esr, final boolean userAddress) {
        if (userAddress) {
            return esr;
        }
        long out = esr & (0x3fL << EC_SHIFT | IL);
        if (isDataAbort(esr)) {
            out |= esr & (CM | WNR);
        }
        return out | FSC_FAULT;
    }

    public static String ecName(final int ec) {
        switch (ec) {
            case EC_IABT_LOW:
                return "IABT_LOW";
            case EC_IABT_CUR:
                return "IABT_CUR";
            case EC_PC_ALIGN:
                return "PC_ALIGN";
            case EC_DABT_LOW:
                return "DABT_LOW";
            case EC_DABT_CUR:
                return "DABT_CUR";
            case EC_SP_ALIGN:
                return "SP_ALIGN";
            default:
                return "EC_0x" + Integer.toHexString(ec);
        }
    }

    /** "ESR=0x92000047 EC=0x24 DABT_LOW IL WnR DFSC=0x07 (level 3 translation fault)". */
    public static String describe(final long esr) {
        final int ec = ec(esr);
        final StringBuilder sb = new StringBuilder("ESR=0x").append(Long.toHexString(esr));
        sb.append(" EC=0x").append(Integer.toHexString(ec)).append(' ').append(ecName(ec));
        if ((esr & IL) != 0) {
            sb.append(" IL");
        }
        if ((esr & CM) != 0) {
            sb.append(" CM");
        }
        if ((esr & S1PTW) != 0) {
            sb.append(" S1PTW");
        }
        if (isDataAbort(esr) && (esr & WNR) != 0) {
            sb.append(" WnR");
        }
        sb.append(isDataAbort(esr) ? " DFSC=0x" : " IFSC=0x").append(String.format("%02x", fsc(esr)));
        return sb.append(" (").append(FaultInfo.of(esr).name()).append(')').toString();
    }
}
