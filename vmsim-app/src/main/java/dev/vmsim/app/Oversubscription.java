package dev.vmsim.app;

import java.io.PrintWriter;

/**
 * The warning for a run with more simulated tasks than host CPUs. Each simulated task is a platform
 * thread on the host clock, so with more of them than CPUs the host's scheduler preempts threads
 * that hold a simulated lock, and the others wait for a descheduled holder: the figures then
 * measure the host's scheduler more than the locking design (one such run here: syscall p50 95 ms,
 * mmap_lock wait 61 s).
 */
final class Oversubscription {
    private Oversubscription() {}

    /** Prints one line to {@code err} when {@code threads} exceeds {@code hostCpus}; nothing otherwise. */
    static void warn(final PrintWriter err, final int threads, final int hostCpus) {
        if (threads > hostCpus) {
            err.println("vmsim: warning: " + threads + " simulated tasks on " + hostCpus + " host CPUs: the figures"
                    + " measure the host's scheduler, which deschedules lock holders (use --threads " + hostCpus
                    + " or fewer)");
            err.flush();
        }
    }
}
