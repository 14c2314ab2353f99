package dev.vmsim.core.cpu;

import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * mm_cpumask: the CPUs that may hold TLB entries of an mm (every CPU that has run it since its last
 * full flush, lazy ones included). A TLB shootdown must reach all of them (TLB-08).
 */
public final class MmCpumask {
    private final Set<Cpu> cpus = new CopyOnWriteArraySet<>();

    /** cpumask_set_cpu on switch_mm. */
    public void set(final Cpu cpu) {
        cpus.add(cpu);
    }

    public void clear(final Cpu cpu) {
        cpus.remove(cpu);
    }

    /** The CPUs to shoot down, a weakly consistent snapshot. */
    public Iterable<Cpu> cpus() {
        return cpus;
    }

    public boolean contains(final Cpu cpu) {
        return cpus.contains(cpu);
    }
}
