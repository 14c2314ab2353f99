package dev.vmsim.core.mm;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.Machine;
import dev.vmsim.core.clock.CacheLine;
import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.cpu.MmCpumask;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.MmapLock;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.tree.MaState;
import dev.vmsim.core.tree.MapleTree;

/**
 * An address space (struct mm_struct, include/linux/mm_types.h): the VMA tree, the mmap_lock, the
 * page tables, the layout (mmap_base, task size, brk) and the counters, plus the system calls that
 * change it (mmap, munmap, mprotect, mremap, madvise, brk, fork, exit_mmap).
 *
 * <p>Locking: every tree or VMA change happens under the mmap write lock, with each VMA write-locked
 * ({@code vma_start_write}) before it changes or becomes visible; readers use RCU or the mmap lock.
 * The counters below are written only under the mmap write lock and read under the mmap lock.
 *
 * <p>Layout: top-down (the kernel's default), with {@code mmap_base} computed as mmap_base() in
 * arch/x86/mm/mmap.c and mm/util.c do for a non-randomised process, and a vDSO-like special VMA
 * directly above {@code mmap_base} that never merges and bounds stack growth.
 */
public class MmStruct {
    /** sysctl_max_map_count (DEFAULT_MAX_MAP_COUNT). */
    public static final int DEFAULT_MAX_MAP_COUNT = 65530;
    /** RLIMIT_STACK default (_STK_LIM). */
    public static final long DEFAULT_RLIMIT_STACK = 8L << 20;
    /** stack_guard_gap default, in pages. */
    public static final long DEFAULT_STACK_GUARD_GAP_PAGES = KernelVariant.DEFAULT_STACK_GUARD_GAP_PAGES;
    /** mmap_min_addr (CONFIG_DEFAULT_MMAP_MIN_ADDR on x86-64 and arm64). */
    public static final long DEFAULT_MMAP_MIN_ADDR = 65536;
    /** The minimum gap between the stack top and mmap_base (MIN_GAP, 128 MiB). */
    static final long MIN_GAP = 128L << 20;
    /**
     * Pages of the special mapping above mmap_base: as x86-64 6.18's [vvar] (4), [vvar_vclock] (2)
     * and [vdso] (2) together, so that a hint just above top is refused as on the real kernel.
     */
    static final int VDSO_PAGES = 8;

    private final Machine machine;
    /** mm_mt: the VMA tree, written under the mmap write lock, read under RCU or the mmap lock. */
    protected final MapleTree<Vma> mmMt = new MapleTree<>(true);

    /**
     * The words every mmap and munmap of the mm writes under the mmap_lock besides the tree: map_count
     * and the vm_stat_account counters (total_vm, data_vm, exec_vm, stack_vm), which share a line of
     * mm_struct. At one CPU the line stays in its cache (the fitted residuals include that); a second
     * CPU calling mmap or munmap takes it from the first's cache. Virtual clock only.
     */
    private final CacheLine vmCounters = new CacheLine("mm counters (map_count, total_vm)");

    private final MmapLock mmapLock;
    private final PageTables pageTables;
    private final MmCpumask cpumask = new MmCpumask();
    /** mm->mmlist: this mm's place on the machine's swap {@link Mmlist}. */
    final Mmlist.Node mmlist = new Mmlist.Node(this);
    /** mm_users: the owner's reference, and one per mmget (swapoff's walk). The last mmput tears down. */
    private final java.util.concurrent.atomic.AtomicInteger mmUsers = new java.util.concurrent.atomic.AtomicInteger(1);
    /** MMF_UNSTABLE: the address space is not whole (an interrupted dup_mmap's child). */
    private volatile boolean unstable;
    /** The process's OOM-killer state (signal->oom_score_adj, oom_mm, MMF_OOM_SKIP). */
    private final dev.vmsim.core.oom.OomState oom = new dev.vmsim.core.oom.OomState();

    final int pageShift;
    final long pageSize;
    final long taskSize;
    /** DEFAULT_MAP_WINDOW, at most taskSize: where the default layout ends (see PageTableFormat). */
    final long mapWindow;
    /** STACK_TOP = TASK_SIZE_LOW: the default window's top, not TASK_SIZE (x86-64 LA57). */
    final long stackTop;

    long mmapBase;
    int maxMapCount = DEFAULT_MAX_MAP_COUNT;
    long rlimitStack = DEFAULT_RLIMIT_STACK;
    long stackGuardGap;
    long mmapMinAddr = DEFAULT_MMAP_MIN_ADDR;
    long startBrk;
    long brk;
    /** The vDSO-like special mapping directly above mmap_base (null if there is none). */
    Vma vdso;

    /** rss_stat MM_ANONPAGES / MM_SHMEMPAGES: changed by faults and zaps under any lock, hence atomic. */
    private final java.util.concurrent.atomic.AtomicLong anonRss = new java.util.concurrent.atomic.AtomicLong();

    private final java.util.concurrent.atomic.AtomicInteger tlbFlushBatched =
            new java.util.concurrent.atomic.AtomicInteger();
    /** MM_SWAPENTS. */
    private final java.util.concurrent.atomic.AtomicLong shmemRss = new java.util.concurrent.atomic.AtomicLong();

    // Counters (mmap write lock).
    int mapCount;
    long totalVm;
    long lockedVm;
    long dataVm;
    long execVm;
    long stackVm;

    public MmStruct(final Machine machine, final LockingMode mode) {
        this(machine, mode, machine.arch().pageTableFormat().taskSize(), true);
    }

    /**
     * An mm with {@code taskSize} (TASK_SIZE == STACK_TOP); with {@code vdso} the special mapping
     * above mmap_base is installed.
     */
    public MmStruct(final Machine machine, final LockingMode mode, final long taskSize, final boolean vdso) {
        this.machine = machine;
        this.mmapLock = new MmapLock(mode);
        this.mmMt.setInRcu(); // MM_MT_FLAGS: MT_FLAGS_USE_RCU (BUG-01b's fix)
        this.mmMt.setWrittenNodes(new CacheLine("mm_mt nodes a store rewrites"));
        this.mmMt.countLiveNodesIn(machine.leakAccounting().mapleNodes());
        this.pageTables = new PageTables(machine, machine.arch().pageTableFormat());
        this.pageShift = machine.arch().pageTableFormat().pageShift();
        this.pageSize = 1L << pageShift;
        this.taskSize = taskSize;
        this.mapWindow = Math.min(taskSize, machine.arch().pageTableFormat().defaultMapWindow());
        this.stackTop = mapWindow;
        this.stackGuardGap = machine.kernelVariant().stackGuardGapPages() << pageShift;
        this.mmapBase = computeMmapBase();
        // A brk area a long way below the mmap area, like a PIE binary's (ELF_ET_DYN_BASE-ish, which
        // is DEFAULT_MAP_WINDOW / 3 * 2: inside the window with LA57 too).
        this.startBrk = pageAlign(mapWindow / 3 * 2 / 3);
        this.brk = startBrk;
        if (vdso) {
            installVdso();
        }
        machine.mmCreated(this);
    }

    /** For fork: an empty mm with the same layout as {@code parent}, no vDSO (dup_mmap copies it). */
    MmStruct(final MmStruct parent) {
        this(parent.machine, parent.mmapLock.mode(), parent.taskSize, false);
        this.mmapBase = parent.mmapBase;
        this.maxMapCount = parent.maxMapCount;
        this.rlimitStack = parent.rlimitStack;
        this.stackGuardGap = parent.stackGuardGap;
        this.mmapMinAddr = parent.mmapMinAddr;
        this.startBrk = parent.startBrk;
        this.brk = parent.brk;
    }

    /**
     * mmap_base() (arch/x86/mm/mmap.c, mm/util.c) without randomisation, for the task size
     * arch_pick_mmap_layout passes: task_size_64bit(0), the default window (STACK_TOP), not TASK_SIZE.
     */
    private long computeMmapBase() {
        long gap = rlimitStack + stackGuardGap;
        final long maxGap = stackTop / 6 * 5;
        if (gap < MIN_GAP) {
            gap = MIN_GAP;
        } else if (gap > maxGap) {
            gap = maxGap;
        }
        return pageAlign(stackTop - gap);
    }

    private void installVdso() {
        final Vma v = VmaOps.alloc(this);
        v.vmStart = mmapBase;
        v.vmEnd = mmapBase + VDSO_PAGES * pageSize;
        v.vmFlags = VmFlags.VM_READ
                | VmFlags.VM_EXEC
                | VmFlags.VM_MAYREAD
                | VmFlags.VM_MAYEXEC
                | VmFlags.VM_DONTEXPAND
                | VmFlags.VM_PFNMAP
                | VmFlags.VM_IO;
        v.vmPgoff = 0;
        v.vmPageProt = machine.arch().pageTableFormat().vmGetPageProt(v.vmFlags);
        mmapLock.writeLock();
        try {
            VmaOps.storeNew(this, v);
            mapCount++;
            totalVm += VDSO_PAGES;
            vdso = v;
        } finally {
            mmapLock.writeUnlock();
        }
    }

    public final Machine machine() {
        return machine;
    }

    public final MmapLock mmapLock() {
        return mmapLock;
    }

    public final MapleTree<Vma> mmMt() {
        return mmMt;
    }

    /** The page tables (pgd and below). */
    public final PageTables pageTables() {
        return pageTables;
    }

    /** The mm's OOM-killer state. */
    public final dev.vmsim.core.oom.OomState oom() {
        return oom;
    }

    /** mm_cpumask(mm). */
    public final MmCpumask cpumask() {
        return cpumask;
    }

    /**
     * mm->tlb_flush_batched: batched unmaps of this mm's PTEs whose TLB flush may still be pending
     * (low 16 bits) and the count a flush_tlb_batched_pending has flushed for (high bits); see
     * {@link dev.vmsim.core.rmap.TlbUnmapBatch#flushTlbBatchedPending}. Plain atomics: the PTL the
     * readers hold orders them against the PTE clears the counts stand for.
     */
    public final java.util.concurrent.atomic.AtomicInteger tlbFlushBatched() {
        return tlbFlushBatched;
    }

    // ---- layout and limits ----

    public final long pageSize() {
        return pageSize;
    }

    public final int pageShift() {
        return pageShift;
    }

    /** mmap_base: the top of the top-down allocator's search. */
    public final long mmapBase() {
        return mmapBase;
    }

    /** Sets mmap_base (and moves the special mapping above it); only on an mm with no other mappings. */
    public final void setMmapBase(final long base) {
        mmapLock.writeLock();
        try {
            if (mapCount != (vdso == null ? 0 : 1)) {
                throw new IllegalStateException("setMmapBase on an mm with mappings");
            }
            if (vdso != null) {
                VmaOps.removeDetach(this, vdso);
                mapCount--;
                totalVm -= VDSO_PAGES;
                vdso = null;
            }
            mmapBase = base & -pageSize;
        } finally {
            mmapLock.writeUnlock();
        }
        installVdso();
    }

    /** TASK_SIZE. */
    public final long taskSize() {
        return taskSize;
    }

    /** DEFAULT_MAP_WINDOW: the top of the default layout; mappings go above it only for a hint above it. */
    public final long mapWindow() {
        return mapWindow;
    }

    public final int maxMapCount() {
        return maxMapCount;
    }

    /** sysctl vm.max_map_count. */
    public final void setMaxMapCount(final int count) {
        this.maxMapCount = count;
    }

    public final long rlimitStack() {
        return rlimitStack;
    }

    /** setrlimit(RLIMIT_STACK). */
    public final void setRlimitStack(final long bytes) {
        this.rlimitStack = bytes;
    }

    /**
     * mm_forbids_zeropage(): true on a machine whose kernel variant never maps the shared zero page
     * (a machine-wide setting here, as the boot parameter of the kernel it models is).
     */
    public final boolean forbidsZeropage() {
        return machine.kernelVariant().forbidsZeropage();
    }

    /** stack_guard_gap in bytes. */
    public final long stackGuardGap() {
        return stackGuardGap;
    }

    public final void setStackGuardGap(final long bytes) {
        this.stackGuardGap = bytes;
    }

    public final long mmapMinAddr() {
        return mmapMinAddr;
    }

    public final long startBrk() {
        return startBrk;
    }

    /** The current program break (mm->brk). */
    public final long currentBrk() {
        return brk;
    }

    /** Sets start_brk and brk (exec-time layout); only while no brk area exists. */
    public final void setStartBrk(final long start) {
        this.startBrk = start;
        this.brk = start;
    }

    /** The vDSO-like special VMA above mmap_base, or null. */
    public final Vma vdso() {
        return vdso;
    }

    // ---- counters ----

    public final int mapCount() {
        return mapCount;
    }

    public final long totalVm() {
        return totalVm;
    }

    public final long lockedVm() {
        return lockedVm;
    }

    public final long dataVm() {
        return dataVm;
    }

    public final long execVm() {
        return execVm;
    }

    public final long stackVm() {
        return stackVm;
    }

    /** add_mm_counter(mm, MM_ANONPAGES, delta). */
    public final void addAnonRss(final long delta) {
        anonRss.addAndGet(delta);
    }

    /**
     * add_mm_counter(mm, MM_SWAPENTS, delta): swap entries in this mm's PTEs. The counter lives in
     * {@link dev.vmsim.core.pgtable.PageTables}, which zaps and copies swap PTEs without the mm.
     */
    public final void addSwapEnts(final long delta) {
        pageTables.addSwapEnts(delta);
    }

    /** add_mm_counter(mm, MM_SHMEMPAGES, delta). */
    public final void addShmemRss(final long delta) {
        shmemRss.addAndGet(delta);
    }

    /** add_mm_counter for the pages of {@code vma}: MM_SHMEMPAGES for a shmem mapping, else MM_ANONPAGES. */
    public final void addRss(final Vma vma, final long delta) {
        if (vma.vmFile != null) {
            addShmemRss(delta);
        } else {
            addAnonRss(delta);
        }
    }

    /** get_mm_counter(mm, MM_SWAPENTS): this mm's swap PTEs. */
    public final long swapEnts() {
        return pageTables.swapEnts();
    }

    public final long anonRss() {
        return anonRss.get();
    }

    public final long shmemRss() {
        return shmemRss.get();
    }

    /** vm_stat_account (mm/mmap.c). */
    final void vmStatAccount(final long flags, final long npages) {
        writeVmCounters();
        totalVm += npages;
        if (isExecMapping(flags)) {
            execVm += npages;
        } else if (isStackMapping(flags)) {
            stackVm += npages;
        } else if (isDataMapping(flags)) {
            dataVm += npages;
        }
    }

    /** A write to the line of map_count and the vm_stat_account counters ({@link #vmCounters}). */
    final void writeVmCounters() {
        Platform.current().storeLocked(vmCounters);
    }

    static boolean isExecMapping(final long flags) {
        return (flags & (VmFlags.VM_WRITE | VmFlags.VM_STACK | VmFlags.VM_EXEC)) == VmFlags.VM_EXEC;
    }

    static boolean isStackMapping(final long flags) {
        return (flags & VmFlags.VM_STACK) == VmFlags.VM_STACK;
    }

    static boolean isDataMapping(final long flags) {
        return (flags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED | VmFlags.VM_STACK)) == VmFlags.VM_WRITE;
    }

    final long pageAlign(final long v) {
        return (v + pageSize - 1) & -pageSize;
    }

    // ---- lookups (caller holds the mmap lock, or RCU for a hint) ----

    /** find_vma: the first VMA with vm_end > addr, or null. */
    public final Vma findVma(final long addr) {
        // The common case in the fault path: addr lies inside a VMA, which a plain walk finds
        // without a cursor; mt_find only for an address in a gap.
        final Vma hit = mmMt.walk(addr);
        final Vma v = hit != null ? hit : mmMt.find(addr, -1L);
        return Vma.xaIsZero(v) ? null : v; // mt_find: the marker is the last entry, nothing after it
    }

    /** vma_lookup: the VMA containing addr, or null (mtree_load answers null for XA_ZERO_ENTRY). */
    public final Vma vmaLookup(final long addr) {
        final Vma v = mmMt.walk(addr);
        return Vma.xaIsZero(v) ? null : v;
    }

    /** The last VMA with vm_start < addr (the "prev" of find_vma_prev), or null. */
    public final Vma vmaPrev(final long addr) {
        if (addr == 0) {
            return null;
        }
        final Vma v = mmMt.findRev(addr - 1, 0);
        return v;
    }

    /**
     * find_vma_prev: returns {vma, prev} where vma = find_vma(addr) and prev is the VMA before
     * vma (or the last VMA if vma is null).
     */
    public final Vma[] findVmaPrev(final long addr) {
        final Vma vma = findVma(addr);
        final Vma prev = vma != null ? vmaPrev(vma.vmStart) : vmaPrev(-1L);
        return new Vma[] {vma, prev};
    }

    /** find_vma_intersection: the first VMA overlapping [start, end), or null. */
    public final Vma findVmaIntersection(final long start, final long end) {
        final Vma v = findVma(start);
        return v != null && Long.compareUnsigned(v.vmStart, end) < 0 ? v : null;
    }

    /** The VMA after {@code vma} in address order, or null. */
    final Vma vmaNext(final Vma vma) {
        return vma.vmEnd == 0 ? null : findVma(vma.vmEnd);
    }

    /** vm_start_gap (include/linux/mm.h). */
    final long vmStartGap(final Vma vma) {
        long start = vma.vmStart;
        if ((vma.vmFlags & VmFlags.VM_GROWSDOWN) != 0) {
            start -= stackGuardGap;
            if (Long.compareUnsigned(start, vma.vmStart) > 0) {
                start = 0;
            }
        }
        return start;
    }

    /** vm_end_gap: no VM_GROWSUP on the simulated architectures. */
    final long vmEndGap(final Vma vma) {
        return vma.vmEnd;
    }

    /**
     * A snapshot of every VMA in address order (caller holds the mmap lock for a stable view). It
     * leaves out an interrupted fork's XA_ZERO_ENTRY, where exit_mmap's and unmap_vmas' walks stop:
     * nothing lies past the marker ({@link #validate} checks it). The walk that returns the marker
     * too is {@link MapleTree#forEach} on {@link #mmMt()} (for_each_vma).
     */
    public final java.util.List<Vma> vmas() {
        final java.util.List<Vma> out = new java.util.ArrayList<>();
        mmMt.forEach(v -> {
            if (!Vma.xaIsZero(v)) {
                out.add(v);
            }
        });
        return out;
    }

    final MaState<Vma> mas(final long index) {
        return new MaState<>(mmMt, index, index);
    }

    // ---- system calls ----

    /**
     * The system-call boundary under the virtual clock: a preemption point (the task was in user
     * mode) and entry+exit. mmap and munmap also charge their fitted residuals, one part outside the
     * mmap_lock and one under it ({@link Mmap}); the other calls have none in the profiles, so they charge only what is
     * modelled step by step.
     */
    private static void syscallEntry() {
        final Platform p = Platform.current();
        p.preemptionPoint();
        p.charge(Cost.SYSCALL_ENTRY_EXIT);
    }

    /** mmap(2) of anonymous memory (ksys_mmap_pgoff → do_mmap): the address, or -errno. */
    public long mmap(final long addr, final long len, final int prot, final int flags) {
        syscallEntry();
        return Mmap.mmap(this, addr, len, prot, flags);
    }

    /** munmap(2) (__vm_munmap): 0 or -errno. */
    public int munmap(final long addr, final long len) {
        syscallEntry();
        return Mmap.munmap(this, addr, len);
    }

    /** mprotect(2) (do_mprotect_pkey): 0 or -errno. */
    public int mprotect(final long addr, final long len, final int prot) {
        syscallEntry();
        return Mprotect.mprotect(this, addr, len, prot);
    }

    /** mremap(2) (do_mremap): the new address, or -errno. */
    public long mremap(final long oldAddr, final long oldLen, final long newLen, final int flags, final long newAddr) {
        syscallEntry();
        return Mremap.mremap(this, oldAddr, oldLen, newLen, flags, newAddr);
    }

    /** madvise(2): 0 or -errno (NORMAL, DONTNEED, POPULATE_READ/WRITE, GUARD_INSTALL/REMOVE; others EINVAL). */
    public int madvise(final long addr, final long len, final int advice) {
        syscallEntry();
        return Madvise.madvise(this, addr, len, advice);
    }

    /** brk(2): the new break, or the unchanged one on failure. */
    public long brk(final long newBrk) {
        syscallEntry();
        return Mmap.brk(this, newBrk);
    }

    /** dup_mmap (kernel/fork.c, mm/mmap.c): a copy-on-write copy of this mm, or null on -EINTR or -ENOMEM. */
    public MmStruct fork() {
        return Fork.dupMmap(this);
    }

    /**
     * The process's exit (exit_mm → mmput): drops the owner's mm_users reference; exit_mmap tears the
     * address space down now, or at the mmput of whoever else still holds one (swapoff's walk).
     */
    public void exitMmap() {
        mmput();
    }

    /** mmget_not_zero: a reference unless the mm is already on its way out. */
    public final boolean mmgetNotZero() {
        for (; ; ) {
            final int u = mmUsers.get();
            if (u == 0) {
                return false;
            }
            if (mmUsers.compareAndSet(u, u + 1)) {
                return true;
            }
        }
    }

    /** mmput: drops a reference; the last runs __mmput (exit_mmap, then off the swap mmlist). */
    public final void mmput() {
        final int u = mmUsers.decrementAndGet();
        if (u < 0) {
            throw new IllegalStateException("mmput of an mm with mm_users 0");
        }
        if (u == 0) {
            Fork.exitMmap(this);
            machine.mmlist().del(this);
        }
    }

    /** mm_users. */
    public final int mmUsers() {
        return mmUsers.get();
    }

    /** Sets MMF_UNSTABLE (dup_mmap's failure path). */
    final void setUnstable() {
        unstable = true;
    }

    /** test_bit(MMF_UNSTABLE): is the address space only partly built? */
    public final boolean isUnstable() {
        return unstable;
    }

    /**
     * check_stable_address_space (include/linux/oom.h): -EFAULT when MMF_UNSTABLE is set, so that a
     * walker of a foreign mm never meets the interrupted fork's XA_ZERO_ENTRY marker (BUG-09); else 0.
     */
    public final int checkStableAddressSpace() {
        return unstable ? -Errno.EFAULT : 0;
    }

    /**
     * expand_downwards (mm/vma.c): grows a VM_GROWSDOWN {@code vma} down to {@code address}.
     * Caller holds the mmap write lock. 0 or -errno.
     */
    public int expandDownwards(final Vma vma, final long address) {
        return Stack.expandDownwards(this, vma, address);
    }

    /**
     * validate_mm (mm/vma.c, CONFIG_DEBUG_VM_MAPLE_TREE): checks the tree against the VMAs. Throws
     * {@link IllegalStateException} at the first violation. Caller must exclude writers, and no
     * reader may be running lock_vma_under_rcu on any mm of the machine: every VMA must be at rest
     * (vm_refcnt 1).
     */
    public void validate() {
        validate(false);
    }

    /**
     * {@link #validate()} for an mm whose VMAs may be met by another mm's lock-free readers: VMA
     * objects are reused at once, as SLAB_TYPESAFE_BY_RCU lets the kernel reuse them, so a reader of
     * the mm a VMA object came from can still hold a pointer to it, raise its vm_refcnt for a moment
     * (vma_start_read), find vm_mm changed and drop it. Then vm_refcnt is at least 1, not exactly 1.
     * A fork child validated while the parent's threads fault is such an mm.
     */
    public void validateRacingStaleReaders() {
        validate(true);
    }

    private void validate(final boolean staleReaders) {
        mmMt.validate();
        final int[] count = {0};
        final long[] marker = {-1};
        mmMt.forEachRange((first, last, vma) -> {
            if (Vma.xaIsZero(vma)) {
                if (!unstable) {
                    throw new IllegalStateException(
                            "XA_ZERO_ENTRY at 0x" + Long.toHexString(first) + " in an mm without MMF_UNSTABLE");
                }
                marker[0] = first;
                return;
            }
            if (marker[0] >= 0) {
                throw new IllegalStateException(vma + " after the XA_ZERO_ENTRY at 0x" + Long.toHexString(marker[0]));
            }
            count[0]++;
            if (vma.vmStart != first || vma.vmEnd - 1 != last) {
                throw new IllegalStateException("tree range [0x" + Long.toHexString(first) + ", 0x"
                        + Long.toHexString(last) + "] holds " + vma);
            }
            if (Long.compareUnsigned(vma.vmStart, vma.vmEnd) >= 0) {
                throw new IllegalStateException("empty or inverted " + vma);
            }
            if (((vma.vmStart | vma.vmEnd) & (pageSize - 1)) != 0) {
                throw new IllegalStateException("unaligned " + vma);
            }
            if (vma.vmMm != this) {
                throw new IllegalStateException(vma + " belongs to another mm");
            }
            final int refcnt = vma.refcnt();
            if (staleReaders ? refcnt < 1 : refcnt != 1) {
                throw new IllegalStateException(vma + " at rest with vm_refcnt " + refcnt);
            }
            if (vma.anonVma != null && vma.anonVmaChainLength < 1) {
                throw new IllegalStateException(vma + " anon_vma without a chain");
            }
            dev.vmsim.core.rmap.AnonVmas.validateChain(vma);
        });
        if (count[0] != mapCount) {
            throw new IllegalStateException("map_count " + mapCount + " but " + count[0] + " VMAs");
        }
        long pages = 0;
        for (final Vma v : vmas()) {
            pages += v.pages(pageShift);
        }
        // dup_mmap copied total_vm up front: a half-built child's counts the VMAs it never got.
        if (pages != totalVm && !unstable) {
            throw new IllegalStateException("total_vm " + totalVm + " but VMAs cover " + pages + " pages");
        }
        validatePtes();
    }

    /**
     * The PTE part of validate(), one pass over every entry of the user address space: each non-none
     * PTE lies inside a VMA (no stray translation survives munmap), is writable only if its VMA is,
     * maps a frame that is referenced and mapped (the zero page excepted), and the mm's rss
     * counters equal the pages its PTEs map (MM_ANONPAGES for anonymous VMAs, MM_SHMEMPAGES for
     * shmem), and MM_SWAPENTS equals its swap PTEs. <b>Context:</b> a quiescent mm (no fault or
     * system call in flight). The machine-wide swap-slot check is {@link dev.vmsim.core.swap.Swap#validate}.
     */
    private void validatePtes() {
        final dev.vmsim.core.pgtable.PageTableFormat fmt = pageTables.format();
        final dev.vmsim.core.phys.FrameAllocator frames = machine.frames();
        final long[] rss = new long[2];
        final long[] swapPtes = new long[1];
        pageTables.forEachPte(0, taskSize, (va, pte) -> {
            final Vma v = vmaLookup(va);
            if (v == null) {
                throw new IllegalStateException("stray PTE 0x" + Long.toHexString(pte) + " at 0x" + Long.toHexString(va)
                        + " outside every VMA");
            }
            if (!fmt.ptePresent(pte)) {
                if (fmt.isSwapSlotPte(pte)) {
                    swapPtes[0]++;
                }
                return;
            }
            if ((v.vmFlags & (VmFlags.VM_PFNMAP | VmFlags.VM_IO)) != 0) {
                return;
            }
            if (fmt.pteWrite(pte) && (v.vmFlags & VmFlags.VM_WRITE) == 0) {
                throw new IllegalStateException("writable PTE at 0x" + Long.toHexString(va) + " in " + v);
            }
            final long pfn = fmt.pfn(pte);
            if (fmt.pteSpecial(pte) || pfn == frames.zeroPfn()) {
                return;
            }
            if (frames.refcount(pfn) < 1 || frames.mapcount(pfn) < 1) {
                throw new IllegalStateException("PTE at 0x" + Long.toHexString(va) + " maps pfn " + pfn
                        + " with refcount " + frames.refcount(pfn) + ", mapcount " + frames.mapcount(pfn));
            }
            rss[v.vmFile != null ? 1 : 0]++;
        });
        if (rss[0] != anonRss() || rss[1] != shmemRss()) {
            throw new IllegalStateException("rss anon=" + anonRss() + " shmem=" + shmemRss() + " but PTEs map anon="
                    + rss[0] + " shmem=" + rss[1]);
        }
        if (swapPtes[0] != swapEnts()) {
            throw new IllegalStateException("MM_SWAPENTS " + swapEnts() + " but " + swapPtes[0] + " swap PTEs");
        }
    }
}
