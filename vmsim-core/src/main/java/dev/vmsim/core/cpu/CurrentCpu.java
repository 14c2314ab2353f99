package dev.vmsim.core.cpu;

/**
 * smp_processor_id() / this_cpu: the simulated CPU the calling thread is running on, set when the
 * thread switches a CPU to an mm. Used by kernel code that acts on "this CPU" (a local TLB flush
 * after a spurious fault, the per-CPU page lists).
 */
public final class CurrentCpu {
    private static final ThreadLocal<Cpu> CURRENT = new ThreadLocal<>();

    private CurrentCpu() {}

    /** The calling thread's CPU, or null if it runs none (a system call made outside a task). */
    public static Cpu get() {
        return CURRENT.get();
    }

    /** Binds the calling thread to {@code cpu}. */
    public static void set(final Cpu cpu) {
        CURRENT.set(cpu);
    }

    /** The current CPU's id, or 0 for a thread bound to none. */
    public static int id() {
        final Cpu c = CURRENT.get();
        return c == null ? 0 : c.id();
    }
}
