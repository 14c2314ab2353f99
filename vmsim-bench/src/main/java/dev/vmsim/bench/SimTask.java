package dev.vmsim.bench;

/** One simulated task of a {@link SimKernel}'s mm running on its own CPU; confined to one thread at a time. */
public interface SimTask {
    /** A user-mode one-byte store: {@link dev.vmsim.core.arch.SigInfo#OK} or the signal it raised. */
    int store(long va, byte value);

    /** A user-mode one-byte load: the byte (0..255), or -1 after a signal. */
    int load(long va);
}
