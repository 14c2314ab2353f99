package dev.vmsim.core.script;

import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.lock.LockingMode;

/**
 * The vmscript interpreter (see the scenario language in the project docs): runs a scenario on a
 * fresh process and produces the canonical transcript, which must match the real kernel's byte for
 * byte.
 *
 * <p>API SKELETON: implemented in [3/6].
 */
public final class VmScript {
    private VmScript() {}

    /** Runs {@code script} on a fresh single-threaded process of {@code arch} and returns the transcript. */
    public static String run(final String script, final Arch arch, final LockingMode mode) {
        throw new UnsupportedOperationException("vmscript: [3/6]");
    }
}
