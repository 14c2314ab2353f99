package dev.vmsim.core.arch;

/**
 * The outcome of an access or a fault, as an int so the access path allocates nothing:
 * 0 means the access completed; otherwise {@code signo << 16 | si_code}.
 */
public final class SigInfo {
    public static final int OK = 0;
    public static final int SIGBUS = 7;
    public static final int SIGKILL = 9;
    public static final int SIGSEGV = 11;

    public static final int SEGV_MAPERR = 1;
    public static final int SEGV_ACCERR = 2;
    public static final int SEGV_PKUERR = 4;
    public static final int SEGV_MTESERR = 9;
    public static final int BUS_ADRALN = 1;
    public static final int BUS_ADRERR = 2;
    public static final int BUS_OBJERR = 3;
    public static final int BUS_MCEERR_AR = 4;
    public static final int SI_KERNEL = 0x80;

    /** SIGSEGV with SEGV_MAPERR. */
    public static final int SEGV_MAPERR_SIG = make(SIGSEGV, SEGV_MAPERR);
    /** SIGSEGV with SEGV_ACCERR. */
    public static final int SEGV_ACCERR_SIG = make(SIGSEGV, SEGV_ACCERR);
    /** SIGSEGV with SEGV_PKUERR. */
    public static final int SEGV_PKUERR_SIG = make(SIGSEGV, SEGV_PKUERR);
    /** SIGBUS with BUS_ADRERR. */
    public static final int BUS_ADRERR_SIG = make(SIGBUS, BUS_ADRERR);
    /** A kernel-mode fault with no fixup: the simulated kernel oopses (the access is abandoned). */
    public static final int OOPS = make(SIGKILL, SI_KERNEL);
    /**
     * Not a signal: a user fault ran out of memory and pagefault_out_of_memory returned without a
     * kill (mm/oom_kill.c, since 5.16), so the kernel retries the access. The simulator has no OOM
     * killer to free memory, so {@link dev.vmsim.core.cpu.Cpu} retries a bounded number of times
     * and then hands this to its caller, which decides (retry later, count, give up).
     */
    public static final int PAGEFAULT_OOM = make(0, SI_KERNEL);

    private SigInfo() {}

    public static int make(final int signo, final int code) {
        return signo << 16 | code;
    }

    public static int signo(final int info) {
        return info >>> 16;
    }

    public static int code(final int info) {
        return info & 0xffff;
    }

    /** "SEGV_MAPERR", "SEGV_ACCERR", "SIGBUS BUS_ADRERR" (signal and si_code, as the vmscript transcript names a SIGBUS), ... */
    public static String describe(final int info) {
        if (info == OK) {
            return "ok";
        }
        final int s = signo(info);
        final int c = code(info);
        if (s == SIGSEGV) {
            switch (c) {
                case SEGV_MAPERR:
                    return "SEGV_MAPERR";
                case SEGV_ACCERR:
                    return "SEGV_ACCERR";
                case SEGV_PKUERR:
                    return "SEGV_PKUERR";
                case SEGV_MTESERR:
                    return "SEGV_MTESERR";
                default:
                    return "SIGSEGV/" + c;
            }
        }
        if (s == SIGBUS) {
            switch (c) {
                case BUS_ADRALN:
                    return "SIGBUS BUS_ADRALN";
                case BUS_ADRERR:
                    return "SIGBUS BUS_ADRERR";
                case BUS_OBJERR:
                    return "SIGBUS BUS_OBJERR";
                case BUS_MCEERR_AR:
                    return "SIGBUS BUS_MCEERR_AR";
                default:
                    return "SIGBUS " + c;
            }
        }
        if (info == OOPS) {
            return "OOPS";
        }
        if (info == make(SIGKILL, 0)) {
            return "SIGKILL";
        }
        if (info == PAGEFAULT_OOM) {
            return "pagefault_out_of_memory";
        }
        return "signal " + s + "/" + c;
    }
}
