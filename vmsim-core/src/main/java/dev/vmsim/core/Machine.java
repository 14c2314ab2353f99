package dev.vmsim.core;

import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.clock.HostPlatform;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.debug.LeakAccounting;
import dev.vmsim.core.debug.LeakCounts;
import dev.vmsim.core.debug.LeakTracker;
import dev.vmsim.core.inject.FailInject;
import dev.vmsim.core.lock.VmaCache;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.oom.OomKiller;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PhysicalMemory;
import dev.vmsim.core.stat.VmStat;
import dev.vmsim.core.swap.Swap;
import dev.vmsim.core.swap.SwapParams;
import dev.vmsim.core.vmscan.SwapBackend;
import dev.vmsim.core.vmscan.Vmscan;
import dev.vmsim.core.vmscan.VmscanValidator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One simulated machine: an architecture, physical memory with its frame allocator, the vmstat
 * counters, the VMA cache every mm of the machine allocates from and frees into, and the CPUs.
 * Address spaces ({@link dev.vmsim.core.mm.MmStruct}) are created on it.
 *
 * <p>PAGE_SIZE is a property of the machine, as it is of a kernel build: the architecture's
 * page-table format fixes it ({@link dev.vmsim.core.pgtable.PageTableFormat#pageShift()}), and
 * physical memory is carved into frames of that size (one struct page per frame).
 *
 * <p>The clock is chosen here, once per machine ({@link #platform()}): the host's, or a {@link
 * dev.vmsim.core.clock.VirtualScheduler} whose tasks run one at a time in virtual time.
 */
public final class Machine {
    private final Arch arch;
    private final PhysicalMemory memory;
    private final FrameAllocator frames;
    private final VmStat vmstat = new VmStat();
    private final VmaCache vmaCache = new VmaCache();
    private final List<Cpu> cpus = new CopyOnWriteArrayList<>();
    /**
     * The live address spaces, from creation to exit_mmap: what a walk of the task list
     * (for_each_process) reaches. Machine-wide /proc figures are summed over them when read
     * ({@link dev.vmsim.core.proc.ProcMeminfo}) instead of kept in node counters that every fault
     * would update, so that the fault path shares no counter (DESIGN: counters are striped).
     */
    private final Set<MmStruct> mms = ConcurrentHashMap.newKeySet();
    /** The kernel settings every mm of this machine starts with; fixed, as a boot parameter is. */
    private final KernelVariant variant;

    private final Platform platform;
    private final Vmscan vmscan;
    /** pid of the last process (mm) created: the OOM killer's log names processes by it. */
    private final java.util.concurrent.atomic.AtomicInteger lastPid = new java.util.concurrent.atomic.AtomicInteger();
    /** The OOM killer after {@link #enableOomKiller}; null before. */
    private volatile OomKiller oomKiller;
    /** The swap device after {@link #swapon}; null before and after swapoff. Volatile: read by zap and faults. */
    private volatile Swap swap;
    /** The swap mmlist (init_mm.mmlist): the mms swapoff walks. */
    private final dev.vmsim.core.mm.Mmlist mmlist = new dev.vmsim.core.mm.Mmlist();
    /** See {@link #runsInline()}; fixed at construction. */
    private final boolean inline;
    /** The counters behind {@link #leakCounts} that no allocator kept already. */
    private final LeakAccounting leakAccounting = new LeakAccounting();
    /** {@link #leakCounts} once built: what a leak-free test ends with. */
    private final LeakCounts leakBaseline;
    /** Set by {@link #close}: the host memory is gone, nothing may walk the machine any more. */
    private volatile boolean closed;
    /**
     * Under the leak check, the counts {@link #close} found after its teardown, or why it could not
     * tear down; null before close or without the leak check.
     */
    private volatile Object countsAtClose;

    /** A machine of {@code frames} frames of the architecture's page size, running the vanilla kernel, on the host clock. */
    public Machine(final Arch arch, final long frames, final int maxCpus) {
        this(arch, frames, maxCpus, KernelVariant.VANILLA, HostPlatform.INSTANCE);
    }

    /** The same running kernel {@code variant}. */
    public Machine(final Arch arch, final long frames, final int maxCpus, final KernelVariant variant) {
        this(arch, frames, maxCpus, variant, HostPlatform.INSTANCE);
    }

    /** The same on {@code platform}'s clock. */
    public Machine(final Arch arch, final long frames, final int maxCpus, final Platform platform) {
        this(arch, frames, maxCpus, KernelVariant.VANILLA, platform);
    }

    /** A machine running kernel {@code variant} on {@code platform}'s clock. */
    public Machine(
            final Arch arch,
            final long frames,
            final int maxCpus,
            final KernelVariant variant,
            final Platform platform) {
        this(arch, frames, maxCpus, variant, platform, false);
    }

    /**
     * The same; with {@code inline} the machine {@link #runsInline() runs its kernel threads' and
     * devices' work inline}, in the task that causes it.
     */
    public Machine(
            final Arch arch,
            final long frames,
            final int maxCpus,
            final KernelVariant variant,
            final Platform platform,
            final boolean inline) {
        this.arch = arch;
        this.inline = inline;
        this.variant = java.util.Objects.requireNonNull(variant);
        this.platform = java.util.Objects.requireNonNull(platform);
        this.memory = new PhysicalMemory(frames, arch.pageTableFormat().pageShift());
        this.frames = new FrameAllocator(memory, maxCpus, vmstat, new FailInject());
        this.vmscan = new Vmscan(this, maxCpus);
        this.frames.setReclaim(vmscan);
        this.leakBaseline = leakCounts();
        LeakTracker.machineCreated(this);
    }

    /** The allocation counters of the leak check that the allocators did not keep already. */
    public LeakAccounting leakAccounting() {
        return leakAccounting;
    }

    /**
     * The machine's allocation counts now (OOM-10: nr_allocated, kmemleak): maple nodes, VMAs,
     * anon_vmas, data and page-table frames, swap slots. Exact when quiescent. Reads striped
     * counters the allocation paths keep anyway; costs nothing until called.
     */
    public LeakCounts leakCounts() {
        final long tables = leakAccounting.pageTableFrames().sum();
        final Swap s = swap;
        return new LeakCounts(
                leakAccounting.mapleNodes().sum(),
                vmaCache.live(),
                leakAccounting.anonVmas().sum(),
                frames.allocatedFrames() - tables,
                tables,
                s == null ? 0 : s.info().inusePages());
    }

    /** {@link #leakCounts} as they were when the machine was built: where a leak-free test ends. */
    public LeakCounts leakBaseline() {
        return leakBaseline;
    }

    /** Has {@link #close} run? */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Under the leak check, what {@link #close} found: the {@link LeakCounts} after its teardown, or
     * the {@link Throwable} that stopped the teardown; null if it did not tear down.
     */
    public Object countsAtClose() {
        return countsAtClose;
    }

    /**
     * Does this machine do on the running task what would otherwise run on host threads of its own:
     * kswapd's pass at its wakeup point ({@link dev.vmsim.core.vmscan.Kswapd}) and each swap request
     * synchronously in its submitter, as a SWP_SYNCHRONOUS_IO device does ({@link
     * dev.vmsim.core.swap.SwapIo})? Then nothing the machine does depends on host timing, and one
     * task stepping it (a vmscript) gets the same result every time. The virtual clock is
     * deterministic on its own (kswapd inline, device latency in virtual time) and ignores this for
     * the swap device.
     */
    public boolean runsInline() {
        return inline;
    }

    /** The machine's reclaim state: the LRU, its lru_add batches, kswapd (pgdat's reclaim half). */
    public Vmscan vmscan() {
        return vmscan;
    }

    /** The swap reclaim writes anonymous folios to; {@link SwapBackend#NONE} unless set. */
    public SwapBackend swapBackend() {
        return vmscan.swap();
    }

    /**
     * swapon: {@code backend} becomes the machine's swap. <b>Context:</b> before the workload runs
     * (a reclaimer reads it once per pass).
     */
    public void setSwapBackend(final SwapBackend backend) {
        vmscan.setSwap(backend);
    }

    /**
     * The machine's consistency checks (CONFIG_DEBUG_VM): every live mm's {@link MmStruct#validate},
     * then the frame accounting and the rmap ({@link VmscanValidator}), then the swap slots against
     * the swap PTEs and the swap cache ({@link Swap#validate}). <b>Context:</b> quiescent: no task
     * runs, kswapd is idle and no swap I/O is in flight.
     */
    public void validate() {
        for (final MmStruct mm : mms) {
            mm.validate();
        }
        VmscanValidator.validate(this);
        final Swap s = swap;
        if (s != null) {
            s.validate();
        }
    }

    /**
     * The machine's fault injection (fail_page_alloc, failslab, fail_prealloc): off until a test
     * sets a site's attribute.
     */
    public FailInject failInject() {
        return frames.failInject();
    }

    /** The machine's clock: {@link HostPlatform#INSTANCE} or a virtual scheduler. */
    public Platform platform() {
        return platform;
    }

    public Arch arch() {
        return arch;
    }

    /** The kernel variant this machine runs (zero page, stack guard gap). */
    public KernelVariant kernelVariant() {
        return variant;
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

    /** An mm was created on this machine (mm_init). */
    public void mmCreated(final MmStruct mm) {
        mm.oom().setIdentity(lastPid.incrementAndGet(), "vmsim");
        mms.add(mm);
    }

    /** An mm's exit_mmap tore it down: it no longer counts in the machine's figures. */
    public void mmExited(final MmStruct mm) {
        mm.oom().setOomSkip(); // exit_mmap sets MMF_OOM_SKIP: nothing left to reap
        mms.remove(mm);
    }

    /**
     * Installs the OOM killer in the allocation slow path (once, before any task runs). A machine
     * without it keeps the older end of a failed reclaim (the allocation takes what is left, then
     * fails with VM_FAULT_OOM): a departure kept so that the fault-path tests of VM_FAULT_OOM keep
     * their meaning; run and compare install it with --mem.
     */
    public synchronized OomKiller enableOomKiller() {
        if (oomKiller == null) {
            oomKiller = new OomKiller(this);
            frames.setOutOfMemory(oomKiller);
        }
        return oomKiller;
    }

    /** The OOM killer, or null before {@link #enableOomKiller}. */
    public OomKiller oomKiller() {
        return oomKiller;
    }

    /** The live mms, in no particular order (sum over them; do not rely on the order). */
    public Set<MmStruct> mms() {
        return mms;
    }

    /** The swap mmlist: every mm that got a swap PTE, until its __mmput. */
    public dev.vmsim.core.mm.Mmlist mmlist() {
        return mmlist;
    }

    /**
     * swapon(2): gives the machine its swap device (type 0), before any task runs, or again after a
     * {@link #swapoff}.
     *
     * @throws IllegalStateException if it already has one
     */
    public synchronized Swap swapon(final SwapParams params) {
        if (swap != null) {
            throw new IllegalStateException("swap is already on");
        }
        swap = new Swap(this, 0, params);
        vmscan.setSwap(swap); // reclaim now swaps anonymous folios out through it
        return swap;
    }

    /** The swap device, or null if {@link #swapon} was not called (or swapoff took it away). */
    public Swap swap() {
        return swap;
    }

    /**
     * swapoff(2) of the machine's device ({@link dev.vmsim.core.swap.Swapoff}): 0, or -EINVAL when
     * there is none (or another swapoff runs), -ENOMEM or -EINTR with the device back in service.
     */
    public int swapoff() {
        final Swap s = swap; // volatile; Swapoff refuses a device already taken out of service
        if (s == null) {
            return -dev.vmsim.core.mm.Errno.EINVAL;
        }
        final int err = dev.vmsim.core.swap.Swapoff.swapoff(s);
        if (err == 0) {
            synchronized (this) {
                mmlist.drain(); // one device, now empty: drain_mmlist's condition holds
                swap = null;
                vmscan.setSwap(SwapBackend.NONE);
            }
            s.close();
        }
        return err;
    }

    /**
     * Ends this machine: its host memory goes to the next machine of the process
     * ({@link PhysicalMemory#close}). Only once nothing runs on it any more. Under the leak check
     * ({@link LeakTracker}) it first tears the machine down as exit would and keeps the counts it
     * finds ({@link #countsAtClose}), since nothing can be counted once the memory is gone. A second
     * call does nothing.
     */
    public void close() {
        if (closed) {
            return;
        }
        if (LeakTracker.tearDownAtClose()) {
            try {
                countsAtClose = LeakTracker.teardownBounded(this); // the host memory is about to go
            } catch (final RuntimeException | AssertionError e) {
                countsAtClose = e; // reported by the leak check, after the test's own verdict
                closed = true;
                return; // an exit still blocked would touch freed host memory: leave it mapped
            }
        }
        closed = true;
        vmscan.shutdown();
        final Swap s = swap;
        if (s != null) {
            s.close();
        }
        memory.close();
    }
}
