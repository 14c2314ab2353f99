package dev.vmsim.core.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** The int encoding of an access's outcome and the names the transcripts and messages print. */
class SigInfoTest {
    @Test
    void signoAndCodeRoundTripThroughOneInt() {
        for (final int signo : new int[] {SigInfo.SIGSEGV, SigInfo.SIGBUS, SigInfo.SIGKILL, 0}) {
            for (final int code : new int[] {1, 2, 4, 9, SigInfo.SI_KERNEL, 0xffff}) {
                final int info = SigInfo.make(signo, code);
                assertEquals(signo, SigInfo.signo(info));
                assertEquals(code, SigInfo.code(info));
            }
        }
        assertEquals(SigInfo.SIGSEGV, SigInfo.signo(SigInfo.SEGV_ACCERR_SIG));
        assertEquals(SigInfo.BUS_ADRERR, SigInfo.code(SigInfo.BUS_ADRERR_SIG));
        assertNotEquals(SigInfo.OK, SigInfo.PAGEFAULT_OOM, "an OOM retry is not a completed access");
    }

    @Test
    void describeNamesEverySiCodeTheFaultPathsRaise() {
        assertEquals("ok", SigInfo.describe(SigInfo.OK));
        assertEquals("SEGV_MAPERR", SigInfo.describe(SigInfo.SEGV_MAPERR_SIG));
        assertEquals("SEGV_ACCERR", SigInfo.describe(SigInfo.SEGV_ACCERR_SIG));
        assertEquals("SEGV_PKUERR", SigInfo.describe(SigInfo.SEGV_PKUERR_SIG));
        assertEquals("SEGV_MTESERR", SigInfo.describe(SigInfo.make(SigInfo.SIGSEGV, SigInfo.SEGV_MTESERR)));
        assertEquals("SIGSEGV/3", SigInfo.describe(SigInfo.make(SigInfo.SIGSEGV, 3)));
        assertEquals("SIGBUS BUS_ADRALN", SigInfo.describe(SigInfo.make(SigInfo.SIGBUS, SigInfo.BUS_ADRALN)));
        assertEquals("SIGBUS BUS_ADRERR", SigInfo.describe(SigInfo.BUS_ADRERR_SIG));
        assertEquals("SIGBUS BUS_OBJERR", SigInfo.describe(SigInfo.make(SigInfo.SIGBUS, SigInfo.BUS_OBJERR)));
        assertEquals("SIGBUS BUS_MCEERR_AR", SigInfo.describe(SigInfo.make(SigInfo.SIGBUS, SigInfo.BUS_MCEERR_AR)));
        assertEquals("SIGBUS 7", SigInfo.describe(SigInfo.make(SigInfo.SIGBUS, 7)));
        assertEquals("OOPS", SigInfo.describe(SigInfo.OOPS));
        assertEquals("pagefault_out_of_memory", SigInfo.describe(SigInfo.PAGEFAULT_OOM));
        assertEquals("signal 9/1", SigInfo.describe(SigInfo.make(SigInfo.SIGKILL, 1)));
    }
}
