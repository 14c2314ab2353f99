package dev.vmsim.arch.arm64;

import dev.vmsim.core.arch.ArchFault;

/**
 * An abort as the hardware reports it to EL1: ESR_EL1 and FAR_EL1. Mutable and reused by its MMU so
 * that a fault allocates nothing; read by the fault handler on the same CPU thread.
 *
 * <p>{@link #signalEsr()} is what set_thread_esr() leaves in thread.fault_code for the signal frame
 * (sanitized for non-user addresses).
 */
public final class Arm64Fault implements ArchFault {
    private long esr;
    private long far;
    private long signalEsr;

    public Arm64Fault() {}

    public Arm64Fault(final long esr, final long far) {
        set(esr, far);
    }

    /** Records an abort. */
    public Arm64Fault set(final long esr, final long far) {
        this.esr = esr;
        this.far = far;
        this.signalEsr = 0;
        return this;
    }

    public long esr() {
        return esr;
    }

    public long far() {
        return far;
    }

    /** set_thread_esr: the ESR the signal frame will report. */
    public long signalEsr() {
        return signalEsr;
    }

    void setSignalEsr(final long value) {
        this.signalEsr = value;
    }

    @Override
    public long address() {
        return far;
    }

    @Override
    public long syndrome() {
        return esr;
    }

    @Override
    public String describe() {
        return Esr.describe(esr) + " FAR=0x" + Long.toHexString(far);
    }

    @Override
    public String toString() {
        return describe();
    }
}
