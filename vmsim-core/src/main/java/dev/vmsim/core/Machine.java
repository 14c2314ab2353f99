package dev.vmsim.core;

import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PhysicalMemory;
import dev.vmsim.core.stat.VmStat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One simulated machine: an architecture, physical memory with its frame allocator, the vmstat
 * counters, and the CPUs. Address spaces ({@link dev.vmsim.core.mm.MmStruct}) are created on it.
 */
public final class Machine {
    private final Arch arch;
    private final PhysicalMemory memory;
    private final FrameAllocator frames;
    private final VmStat vmstat = new VmStat();
    private final List<Cpu> cpus = new CopyOnWriteArrayList<>();

    public Machine(final Arch arch, final long frames, final int maxCpus) {
        this.arch = arch;
        this.memory = new PhysicalMemory(frames);
        this.frames = new FrameAllocator(memory, maxCpus, vmstat);
    }

    public Arch arch() {
        return arch;
    }

    public PhysicalMemory memory() {
        return memory;
    }

    public FrameAllocator frames() {
        return frames;
    }

    public VmStat vmstat() {
        return vmstat;
    }

    /**
     * Brings up a new CPU (a simulated hart) with its own MMU. Its id is the number of CPUs before
     * it; the machine's monitor makes reading that count and adding the CPU one step, since tasks
     * bring up their CPUs concurrently and an id indexes per-CPU state (page lists, trace rings).
     */
    public synchronized Cpu newCpu() {
        final Cpu cpu = new Cpu(this, cpus.size());
        cpus.add(cpu);
        return cpu;
    }

    public List<Cpu> cpus() {
        return cpus;
    }

    /**
     * Ends this machine: its host memory goes to the next machine of the process
     * ({@link PhysicalMemory#close}). Only once nothing runs on it any more.
     */
    public void close() {
        memory.close();
    }
}
