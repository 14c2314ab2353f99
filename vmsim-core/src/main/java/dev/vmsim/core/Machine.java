package dev.vmsim.core;

import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.inject.FailInject;
import dev.vmsim.core.lock.VmaCache;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PhysicalMemory;
import dev.vmsim.core.stat.VmStat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One simulated machine: an architecture, physical memory with its frame allocator, the vmstat
 * counters, the VMA cache every mm of the machine allocates from and frees into, and the CPUs.
 * Address spaces ({@link dev.vmsim.core.mm.MmStruct}) are created on it.
 *
 * <p>PAGE_SIZE is a property of the machine, as it is of a kernel build: the architecture's
 * page-table format fixes it ({@link dev.vmsim.core.pgtable.PageTableFormat#pageShift()}), and
 * physical memory is carved into frames of that size (one struct page per frame).
 */
public final class Machine {
    private final Arch arch;
    private final PhysicalMemory memory;
    private final FrameAllocator frames;
    private final VmStat vmstat = new VmStat();
    private final VmaCache vmaCache = new VmaCache();
    private final List<Cpu> cpus = new CopyOnWriteArrayList<>();

    /** A machine of {@code frames} frames of the architecture's page size. */
    public Machine(final Arch arch, final long frames, final int maxCpus) {
        this.arch = arch;
        this.memory = new PhysicalMemory(frames, arch.pageTableFormat().pageShift());
        this.frames = new FrameAllocator(memory, maxCpus, vmstat, new FailInject());
    }

    /**
     * The machine's fault injection (fail_page_alloc, failslab, fail_prealloc): off until a test
     * sets a site's attribute.
     */
    public FailInject failInject() {
        return frames.failInject();
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

    /** vm_area_cachep: the machine's typesafe-by-RCU VMA cache. */
    public VmaCache vmaCache() {
        return vmaCache;
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
