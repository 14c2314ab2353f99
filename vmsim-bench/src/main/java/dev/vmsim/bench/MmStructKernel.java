package dev.vmsim.bench;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.clock.HostPlatform;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.proc.ProcMeminfo;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.swap.Swap;
import dev.vmsim.core.swap.SwapParams;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@link SimKernel} over the simulator's own {@link MmStruct} on a {@link Machine}. */
public final class MmStructKernel implements SimKernel {
    /** How long {@link #validate} waits for kswapd's pass to end. */
    private static final long QUIESCE_MILLIS = 30_000;

    private final Machine machine;
    private final MmStruct mm;

    public MmStructKernel(final Machine machine, final MmStruct mm) {
        this.machine = machine;
        this.mm = mm;
    }

    /**
     * A machine of {@code frames} frames of {@code pageSize} bytes and {@code cpus} CPUs with one mm
     * locked in {@code mode}.
     */
    public static MmStructKernel create(
            final String arch, final long pageSize, final LockingMode mode, final long frames, final int cpus) {
        return create(arch, pageSize, mode, frames, cpus, KernelVariant.VANILLA, HostPlatform.INSTANCE);
    }

    /** As above, running kernel {@code variant}, on the host clock. */
    public static MmStructKernel create(
            final String arch,
            final long pageSize,
            final LockingMode mode,
            final long frames,
            final int cpus,
            final KernelVariant variant) {
        return create(arch, pageSize, mode, frames, cpus, variant, HostPlatform.INSTANCE);
    }

    /** As above, running the vanilla kernel on the clock {@code platform}. */
    public static MmStructKernel create(
            final String arch,
            final long pageSize,
            final LockingMode mode,
            final long frames,
            final int cpus,
            final Platform platform) {
        return create(arch, pageSize, mode, frames, cpus, KernelVariant.VANILLA, platform);
    }

    /** As above, on a machine running kernel {@code variant} on the clock {@code platform}. */
    public static MmStructKernel create(
            final String arch,
            final long pageSize,
            final LockingMode mode,
            final long frames,
            final int cpus,
            final KernelVariant variant,
            final Platform platform) {
        final Arch found = ArchRegistry.find(arch);
        if (found == null) {
            throw new IllegalArgumentException(
                    "architecture " + arch + " is not on the class path (found: " + ArchRegistry.names() + ")");
        }
        final Arch a = found.withPageSize(pageSize);
        if (a == null) {
            throw new IllegalArgumentException(arch + " has no " + (pageSize >> 10) + "K pages");
        }
        final Machine machine = new Machine(a, frames, cpus, variant, platform);
        return new MmStructKernel(machine, new MmStruct(machine, mode));
    }

    public Machine machine() {
        return machine;
    }

    public MmStruct mm() {
        return mm;
    }

    @Override
    public String arch() {
        return machine.arch().name();
    }

    @Override
    public long pageSize() {
        return mm.pageSize();
    }

    @Override
    public String locking() {
        return mm.mmapLock().mode().cliName();
    }

    @Override
    public long mmap(final long addr, final long len, final int prot, final int flags) {
        return mm.mmap(addr, len, prot, flags);
    }

    @Override
    public int munmap(final long addr, final long len) {
        return mm.munmap(addr, len);
    }

    @Override
    public int mprotect(final long addr, final long len, final int prot) {
        return mm.mprotect(addr, len, prot);
    }

    @Override
    public int madvise(final long addr, final long len, final int advice) {
        return mm.madvise(addr, len, advice);
    }

    @Override
    public void swapon(final SwapParams params) {
        machine.swapon(params);
    }

    @Override
    public void enableOomKiller() {
        machine.enableOomKiller();
    }

    @Override
    public void enableMmapUpgrade() {
        mm.mmapLock().setUpgradeEnabled(true);
    }

    /**
     * The mm's invariants, then the machine's (every frame accounted for, every mapped folio's
     * mapcount equal to the PTEs rmap finds, every swap slot's count equal to its swap PTEs and
     * swap-cache entries: {@link Machine#validate}), after kswapd has gone idle and the swap I/O in
     * flight has completed (the checks need a quiescent machine).
     */
    @Override
    public void validate() {
        mm.validate();
        try {
            if (!machine.vmscan().kswapd().quiesce(QUIESCE_MILLIS)) {
                throw new IllegalStateException("kswapd still running " + QUIESCE_MILLIS + " ms after the run");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for kswapd", e);
        }
        final Swap swap = machine.swap();
        if (swap != null) {
            swap.drain();
        }
        machine.vmscan().lruAddDrainAll();
        machine.validate();
    }

    /**
     * The task's CPU, and the calling thread registered as a task of the mm's process ({@link
     * dev.vmsim.core.oom.OomState#addTask}): what for_each_process and the SIGKILL of
     * __oom_kill_process reach.
     */
    @Override
    public SimTask newTask() {
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        mm.oom().addTask(Thread.currentThread());
        return new CpuTask(cpu);
    }

    /** exit_mmap's unmap of every VMA, each by munmap (the mm stays, for validate). */
    @Override
    public void unmapAll() {
        for (final dev.vmsim.core.mm.Vma vma : mm.vmas()) {
            mm.munmap(vma.vmStart, vma.vmEnd - vma.vmStart);
        }
    }

    @Override
    public void setComm(final String comm) {
        mm.oom().setIdentity(mm.oom().pid(), comm);
    }

    @Override
    public void close() {
        machine.close();
    }

    /**
     * Frames allocated, less those only the swap cache holds: after munmap, a folio whose swap
     * slot was freed while it was locked or under writeback stays in the swap cache
     * (free_swap_and_cache only trylocks it) until reclaim drops it, as in the kernel: the
     * kernel's cache, not the workload's memory. Machine.validate accounts for each of them.
     */
    @Override
    public long allocatedFrames() {
        // Quiescent: every CPU's lru_add batch drained (lru_add_drain_all), so a folio unmapped during
        // the run is not counted as held only because a batch still references it.
        machine.vmscan().lruAddDrainAll();
        final Swap swap = machine.swap();
        return machine.frames().allocatedFrames()
                - (swap == null ? 0 : swap.cache().nrFolios());
    }

    @Override
    public KernelCounters counters() {
        final Map<String, Long> vmstat = new LinkedHashMap<>();
        for (final Map.Entry<VmEvent, Long> e : machine.vmstat().snapshot().entrySet()) {
            vmstat.put(e.getKey().kernelName(), e.getValue());
        }
        long hits = 0;
        long misses = 0;
        for (final Cpu cpu : machine.cpus()) {
            hits += cpu.mmu().tlbHits();
            misses += cpu.mmu().tlbMisses();
        }
        return new KernelCounters(
                vmstat,
                mm.mmapLock().acquisitions(),
                mm.mmapLock().contendedAcquisitions(),
                mm.mmapLock().waitNanos(),
                hits,
                misses,
                mm.pageTables().tableFrames(),
                machine.frames().allocatedFrames());
    }

    /** {@link ProcMeminfo}: the machine's /proc/meminfo, read on the quiescent machine after a run. */
    @Override
    public Map<String, Long> meminfo() {
        return ProcMeminfo.fields(ProcMeminfo.lines(machine));
    }

    private static UnsupportedOperationException pending(final String call) {
        return new UnsupportedOperationException("MmStruct." + call + " is not in this build of the simulator yet");
    }

    /** A task on one simulated CPU. */
    private static final class CpuTask implements SimTask {
        private final Cpu cpu;

        CpuTask(final Cpu cpu) {
            this.cpu = cpu;
        }

        @Override
        public int store(final long va, final byte value) {
            return cpu.store(va, value);
        }

        @Override
        public int load(final long va) {
            return cpu.load(va);
        }
    }
}
