package dev.vmsim.arch.x86;

import dev.vmsim.core.arch.SigInfo;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What one trip through {@link X86FaultHandler} did, for transcripts and teaching: the fault as the
 * hardware reported it, the steps of fault.c it went through, the error code as the signal reports
 * it (USER forced on, PROT forced for a kernel address), and the outcome.
 */
public final class X86FaultRecord {
    private final long address;
    private final int errorCode;
    private final boolean userMode;
    private final boolean generalProtection;
    private final boolean recording;
    private final List<String> steps = new ArrayList<>();
    private int reportedErrorCode;
    private int result;

    X86FaultRecord(final long address, final int errorCode, final boolean userMode, final boolean gp) {
        this(address, errorCode, userMode, gp, true);
    }

    /** @param recording whether {@link #steps()} are kept (false when no trace listener will read them). */
    X86FaultRecord(
            final long address,
            final int errorCode,
            final boolean userMode,
            final boolean gp,
            final boolean recording) {
        this.recording = recording;
        this.address = address;
        this.errorCode = errorCode;
        this.userMode = userMode;
        this.generalProtection = gp;
        this.reportedErrorCode = errorCode;
    }

    void step(final String s) {
        if (recording) {
            steps.add(s);
        }
    }

    /** A step with a value in hex, formatted only when recording. */
    void stepHex(final String prefix, final int value) {
        if (recording) {
            steps.add(prefix + Integer.toHexString(value));
        }
    }

    void reportedErrorCode(final int code) {
        this.reportedErrorCode = code;
    }

    void result(final int r) {
        this.result = r;
    }

    public long address() {
        return address;
    }

    public int errorCode() {
        return errorCode;
    }

    /** The error code the signal's thread archinfo would carry (set on the bad-area paths). */
    public int reportedErrorCode() {
        return reportedErrorCode;
    }

    public boolean userMode() {
        return userMode;
    }

    /** The functions of fault.c this fault went through, in order. */
    public List<String> steps() {
        return Collections.unmodifiableList(steps);
    }

    /** The {@link SigInfo} the handler returned. */
    public int result() {
        return result;
    }

    /** "#PF err=0x6 [W U] cr2=0x7f0000001000 user: lock_vma_under_rcu -> ... => SEGV_ACCERR". */
    public String describe() {
        final String head = generalProtection
                ? "#GP (non-canonical) addr=0x" + Long.toHexString(address)
                : "#PF err=0x" + Integer.toHexString(errorCode) + " " + X86PfError.decode(errorCode) + " cr2=0x"
                        + Long.toHexString(address);
        return head + (userMode ? " user: " : " kernel: ") + String.join(" -> ", steps) + " => "
                + SigInfo.describe(result);
    }

    @Override
    public String toString() {
        return describe();
    }
}
