package dev.vmsim.arch.arm64;

import dev.vmsim.core.arch.SigInfo;

/**
 * One row of fault_info[] in arch/arm64/mm/fault.c: the handler for a fault status code, and the
 * signal and si_code do_mem_abort delivers when that handler reports the fault unhandled.
 *
 * @param fsc the fault status code (ESR &amp; 0x3F) this row is indexed by
 * @param handler which fault.c function handles it
 * @param sig the signal
 * @param code the si_code
 * @param name the kernel's name for the fault, as printed in oopses and signal logs
 */
public record FaultInfo(int fsc, Handler handler, int sig, int code, String name) {
    /** The handler functions the table dispatches to. */
    public enum Handler {
        /** do_bad: returns 1 ("fault"), so do_mem_abort delivers the row's signal (or dies in kernel mode). */
        DO_BAD,
        /** do_translation_fault: user-half address → do_page_fault, otherwise do_bad_area. */
        DO_TRANSLATION_FAULT,
        /** do_page_fault. */
        DO_PAGE_FAULT,
        /** do_sea: synchronous external abort; arm64_notify_die with the row's signal. */
        DO_SEA,
        /** do_tag_check_fault: MTE; do_bad_area. */
        DO_TAG_CHECK_FAULT,
        /** do_alignment_fault: do_bad_area (no compat fixups in the simulator). */
        DO_ALIGNMENT_FAULT
    }

    private static final FaultInfo[] FAULT_INFO = {
        new FaultInfo(0, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "ttbr address size fault"),
        new FaultInfo(1, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "level 1 address size fault"),
        new FaultInfo(2, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "level 2 address size fault"),
        new FaultInfo(3, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "level 3 address size fault"),
        new FaultInfo(
                4, Handler.DO_TRANSLATION_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_MAPERR, "level 0 translation fault"),
        new FaultInfo(
                5, Handler.DO_TRANSLATION_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_MAPERR, "level 1 translation fault"),
        new FaultInfo(
                6, Handler.DO_TRANSLATION_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_MAPERR, "level 2 translation fault"),
        new FaultInfo(
                7, Handler.DO_TRANSLATION_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_MAPERR, "level 3 translation fault"),
        new FaultInfo(8, Handler.DO_PAGE_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_ACCERR, "level 0 access flag fault"),
        new FaultInfo(9, Handler.DO_PAGE_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_ACCERR, "level 1 access flag fault"),
        new FaultInfo(10, Handler.DO_PAGE_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_ACCERR, "level 2 access flag fault"),
        new FaultInfo(11, Handler.DO_PAGE_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_ACCERR, "level 3 access flag fault"),
        new FaultInfo(12, Handler.DO_PAGE_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_ACCERR, "level 0 permission fault"),
        new FaultInfo(13, Handler.DO_PAGE_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_ACCERR, "level 1 permission fault"),
        new FaultInfo(14, Handler.DO_PAGE_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_ACCERR, "level 2 permission fault"),
        new FaultInfo(15, Handler.DO_PAGE_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_ACCERR, "level 3 permission fault"),
        new FaultInfo(16, Handler.DO_SEA, SigInfo.SIGBUS, SigInfo.BUS_OBJERR, "synchronous external abort"),
        new FaultInfo(
                17, Handler.DO_TAG_CHECK_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_MTESERR, "synchronous tag check fault"),
        new FaultInfo(18, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 18"),
        new FaultInfo(19, Handler.DO_SEA, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "level -1 (translation table walk)"),
        new FaultInfo(20, Handler.DO_SEA, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "level 0 (translation table walk)"),
        new FaultInfo(21, Handler.DO_SEA, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "level 1 (translation table walk)"),
        new FaultInfo(22, Handler.DO_SEA, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "level 2 (translation table walk)"),
        new FaultInfo(23, Handler.DO_SEA, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "level 3 (translation table walk)"),
        new FaultInfo(24, Handler.DO_SEA, SigInfo.SIGBUS, SigInfo.BUS_OBJERR, "synchronous parity or ECC error"),
        new FaultInfo(25, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 25"),
        new FaultInfo(26, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 26"),
        new FaultInfo(
                27,
                Handler.DO_SEA,
                SigInfo.SIGKILL,
                SigInfo.SI_KERNEL,
                "level -1 synchronous parity error (translation table walk)"),
        new FaultInfo(
                28,
                Handler.DO_SEA,
                SigInfo.SIGKILL,
                SigInfo.SI_KERNEL,
                "level 0 synchronous parity error (translation table walk)"),
        new FaultInfo(
                29,
                Handler.DO_SEA,
                SigInfo.SIGKILL,
                SigInfo.SI_KERNEL,
                "level 1 synchronous parity error (translation table walk)"),
        new FaultInfo(
                30,
                Handler.DO_SEA,
                SigInfo.SIGKILL,
                SigInfo.SI_KERNEL,
                "level 2 synchronous parity error (translation table walk)"),
        new FaultInfo(
                31,
                Handler.DO_SEA,
                SigInfo.SIGKILL,
                SigInfo.SI_KERNEL,
                "level 3 synchronous parity error (translation table walk)"),
        new FaultInfo(32, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 32"),
        new FaultInfo(33, Handler.DO_ALIGNMENT_FAULT, SigInfo.SIGBUS, SigInfo.BUS_ADRALN, "alignment fault"),
        new FaultInfo(34, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 34"),
        new FaultInfo(35, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 35"),
        new FaultInfo(36, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 36"),
        new FaultInfo(37, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 37"),
        new FaultInfo(38, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 38"),
        new FaultInfo(39, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 39"),
        new FaultInfo(40, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 40"),
        new FaultInfo(41, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "level -1 address size fault"),
        new FaultInfo(42, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 42"),
        new FaultInfo(
                43, Handler.DO_TRANSLATION_FAULT, SigInfo.SIGSEGV, SigInfo.SEGV_MAPERR, "level -1 translation fault"),
        new FaultInfo(44, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 44"),
        new FaultInfo(45, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 45"),
        new FaultInfo(46, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 46"),
        new FaultInfo(47, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 47"),
        new FaultInfo(48, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "TLB conflict abort"),
        new FaultInfo(
                49, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "Unsupported atomic hardware update fault"),
        new FaultInfo(50, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 50"),
        new FaultInfo(51, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 51"),
        new FaultInfo(52, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "implementation fault (lockdown abort)"),
        new FaultInfo(
                53, Handler.DO_BAD, SigInfo.SIGBUS, SigInfo.BUS_OBJERR, "implementation fault (unsupported exclusive)"),
        new FaultInfo(54, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 54"),
        new FaultInfo(55, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 55"),
        new FaultInfo(56, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 56"),
        new FaultInfo(57, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 57"),
        new FaultInfo(58, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 58"),
        new FaultInfo(59, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 59"),
        new FaultInfo(60, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 60"),
        new FaultInfo(61, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "section domain fault"),
        new FaultInfo(62, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "page domain fault"),
        new FaultInfo(63, Handler.DO_BAD, SigInfo.SIGKILL, SigInfo.SI_KERNEL, "unknown 63"),
    };

    /** esr_to_fault_info: the row for ESR's fault status code. */
    public static FaultInfo of(final long esr) {
        return FAULT_INFO[(int) esr & Esr.FSC_MASK];
    }

    /** The row for a fault status code (0..63). */
    public static FaultInfo forFsc(final int fsc) {
        return FAULT_INFO[fsc];
    }

    /** The signal as a {@link SigInfo} int. */
    public int sigInfo() {
        return SigInfo.make(sig, code);
    }
}
