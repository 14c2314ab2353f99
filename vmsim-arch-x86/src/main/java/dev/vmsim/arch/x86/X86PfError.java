package dev.vmsim.arch.x86;

/** The #PF error-code bits, enum x86_pf_error_code in arch/x86/include/asm/trap_pf.h. */
public final class X86PfError {
    /** X86_PF_PROT: 0 = no page found, 1 = protection fault. */
    public static final int PROT = 1 << 0;
    /** X86_PF_WRITE: 0 = read access, 1 = write access. */
    public static final int WRITE = 1 << 1;
    /** X86_PF_USER: 0 = kernel-mode access, 1 = user-mode access. */
    public static final int USER = 1 << 2;
    /** X86_PF_RSVD: use of a reserved bit detected. */
    public static final int RSVD = 1 << 3;
    /** X86_PF_INSTR: fault was an instruction fetch. */
    public static final int INSTR = 1 << 4;
    /** X86_PF_PK: protection-key violation. */
    public static final int PK = 1 << 5;
    /** X86_PF_SHSTK: shadow-stack access. */
    public static final int SHSTK = 1 << 6;
    /** X86_PF_SGX: SGX EPCM violation. */
    public static final int SGX = 1 << 15;
    /** X86_PF_RMP: SEV-SNP RMP violation. */
    public static final int RMP = 1 << 31;

    private X86PfError() {}

    /** "[W U]"-style decode; "[]" for a kernel-mode read of a not-present page. */
    public static String decode(final long code) {
        final StringBuilder sb = new StringBuilder("[");
        bit(sb, code, PROT, "P");
        bit(sb, code, WRITE, "W");
        bit(sb, code, USER, "U");
        bit(sb, code, RSVD, "RSVD");
        bit(sb, code, INSTR, "I");
        bit(sb, code, PK, "PK");
        bit(sb, code, SHSTK, "SS");
        bit(sb, code, SGX, "SGX");
        bit(sb, code, RMP & 0xFFFFFFFFL, "RMP");
        return sb.append(']').toString();
    }

    private static void bit(final StringBuilder sb, final long code, final long bit, final String name) {
        if ((code & bit) != 0) {
            if (sb.length() > 1) {
                sb.append(' ');
            }
            sb.append(name);
        }
    }
}
