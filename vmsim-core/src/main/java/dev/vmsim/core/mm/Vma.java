package dev.vmsim.core.mm;

import dev.vmsim.core.clock.CacheLine;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.inject.FailSite;
import dev.vmsim.core.sync.RwSemaphore;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A virtual memory area (struct vm_area_struct): [vmStart, vmEnd) of one mm.
 *
 * <p>VMA objects are type-safe-by-RCU: a freed VMA goes back to a cache and may be reused at once
 * for another range or another mm, so a lock-free reader must re-validate after locking.
 *
 * <table>
 *   <caption>Field access rules</caption>
 *   <tr><th>Field</th><th>Written under</th><th>Read under</th></tr>
 *   <tr><td>vmStart, vmEnd, vmFlags, vmPgoff</td><td>mmap W + VMA W</td><td>mmap R, or VMA R</td></tr>
 *   <tr><td>vmMm</td><td>on (re)initialisation</td><td>unstable RCU readers (plain)</td></tr>
 *   <tr><td>vmRefcnt</td><td>atomics only</td><td>acquire</td></tr>
 *   <tr><td>vmLockSeq</td><td>mmap W and readers excluded (or detached)</td><td>mmap lock or VMA R; lock-free only as a hint</td></tr>
 * </table>
 */
public class Vma {
    private static final VarHandle VM_REFCNT;
    private static final VarHandle VM_LOCK_SEQ;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            VM_REFCNT = l.findVarHandle(Vma.class, "vmRefcnt", int.class);
            VM_LOCK_SEQ = l.findVarHandle(Vma.class, "vmLockSeq", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** vm_mm: the owning mm. Volatile so an unstable RCU reader sees a reused VMA's new owner. */
    public volatile MmStruct vmMm;

    public volatile long vmStart;
    public volatile long vmEnd;
    public volatile long vmFlags;
    /** vm_pgoff, in pages. */
    public long vmPgoff;
    /**
     * anon_vma: null until the first write fault (or stack expansion) prepares one. Written under
     * the mmap write lock, or once from null under the mmap read lock / VMA read lock by
     * {@link #anonVmaPrepare()} (synchronised on this VMA, the kernel's page_table_lock).
     */
    public volatile AnonVma anonVma;
    /**
     * Length of the anon_vma_chain: 1 for a VMA that prepared or inherited one anon_vma by split
     * or merge, more for a fork child (its own anon_vma plus the parent's). A value other than 1
     * with an anon_vma makes vma_is_fork_child true.
     */
    public int anonVmaChainLength;
    /**
     * anon_vma_chain: the VMA's links to every anon_vma whose folios it may map (the same_vma list),
     * kept by {@link dev.vmsim.core.rmap.AnonVmas}; its size equals {@link #anonVmaChainLength}.
     * Changed under the mmap write lock with the anon_vma root's rwsem, or by anon_vma_prepare under
     * the VMA's page_table_lock; read under the mmap lock.
     */
    public final java.util.List<dev.vmsim.core.rmap.AnonVmaChain> anonVmaChain = new java.util.ArrayList<>();
    /** vm_file: the shmem object of a shared anonymous mapping, else null. */
    public ShmemFile vmFile;
    /** vm_ops: null for the simulator's anonymous and shmem mappings; see {@link VmOperations}. */
    public VmOperations vmOps;
    /** vm_page_prot: the PTE protection bits for vmFlags (vm_get_page_prot). */
    public volatile long vmPageProt;

    /** vm_refcnt: 0 detached, 1 attached, more = readers; see VmaLock. */
    @SuppressWarnings("unused")
    private volatile int vmRefcnt;

    /**
     * The VMA's first cache line (vm_start, vm_end, vm_mm, vm_flags, vm_lock_seq), which every
     * lookup reads; in the embedded rw_semaphore layout the lock's count shares it
     * ({@link dev.vmsim.core.lock.VmaLockLayout}). Used by the virtual clock only.
     */
    public final CacheLine line0 = new CacheLine("vma+0");

    /** vm_refcnt's own line ({@code ____cacheline_aligned_in_smp} since 6.15). Virtual clock only. */
    public final CacheLine refcntLine = new CacheLine("vma.vm_refcnt");
    /**
     * vm_lock: the per-VMA rw_semaphore of the 6.4-6.14 locking modes ({@link
     * dev.vmsim.core.lock.LockingMode#vmaLockIsRwsem}), null in the others. Written by vma_lock_init
     * while the VMA is detached, before vma_mark_attached's release store publishes it; volatile so a
     * stale RCU reader of a recycled VMA sees either the old or the new lock, never a torn one.
     */
    public volatile RwSemaphore vmLock;
    /** vm_lock_seq: equals mm_lock_seq while write-locked; UINT_MAX (-1) after vma_lock_init. */
    @SuppressWarnings("unused")
    private volatile int vmLockSeq = -1;

    public Vma() {}

    /**
     * XA_ZERO_ENTRY (include/linux/xarray.h): the marker dup_mmap stores over the range an
     * interrupted fork did not copy, so that exit_mmap knows where to stop. It is no VMA: the
     * walkers of the dying mm stop at it (exit_mmap, unmap_vmas, free_pgtables), lookups answer null
     * for it (mtree_load, mt_find), and a walker that takes it for a VMA is BUG-09's oops. The maple
     * tree holds it as any other entry; only its users tell it apart ({@link #xaIsZero}).
     */
    public static final Vma XA_ZERO_ENTRY = new Vma();

    /** xa_is_zero: is {@code entry} the interrupted fork's marker rather than a VMA? */
    public static boolean xaIsZero(final Vma entry) {
        return entry == XA_ZERO_ENTRY;
    }

    /** vma_pages: the number of pages, for a page size of {@code 1 << pageShift}. */
    public final long pages(final int pageShift) {
        return (vmEnd - vmStart) >>> pageShift;
    }

    /** vma_is_accessible: any of read, write, exec. */
    public final boolean isAccessible() {
        return (vmFlags & VmFlags.VM_ACCESS_FLAGS) != 0;
    }

    /** vma_is_anonymous: no file (a shared anonymous VMA has its shmem file). */
    public final boolean isAnonymous() {
        return vmFile == null;
    }

    /** vma_is_fork_child (mm/vma.c): has an anon_vma but a chain longer than one. */
    public final boolean isForkChild() {
        return anonVma != null && anonVmaChainLength != 1;
    }

    /**
     * anon_vma_prepare (mm/rmap.c): gives the VMA an anon_vma if it has none. Called by the fault
     * path on the first write fault of a private VMA, under the mmap read lock or the VMA read
     * lock; racing callers agree on one object. Returns 0, or -ENOMEM when the new anon_vma's
     * allocation fails ({@link FailSite#ANON_VMA}); then the VMA is unchanged.
     *
     * <p>As __anon_vma_prepare, it first tries find_mergeable_anon_vma: an adjacent neighbour whose
     * flags differ at most in access bits, with the same file and contiguous pgoff, lends its
     * anon_vma (if it has exactly one), so such neighbours can later merge.
     */
    public final int anonVmaPrepare() {
        if (anonVma != null) {
            return 0;
        }
        final AnonVma reuse;
        synchronized (this) {
            if (anonVma != null) {
                return 0;
            }
            reuse = findMergeableAnonVma();
        }
        if (reuse == null && vmMm.machine().failInject().shouldFail(FailSite.ANON_VMA)) {
            return -Errno.ENOMEM; // anon_vma_alloc failing (out_enomem)
        }
        final AnonVma candidate = reuse != null
                ? reuse
                : new AnonVma(null, vmMm.machine().leakAccounting().anonVmas());
        // Lock order as the kernel's: anon_vma_lock_write, then page_table_lock (this VMA's monitor).
        boolean used = false;
        candidate.lockWrite();
        try {
            synchronized (this) {
                if (anonVma == null) {
                    dev.vmsim.core.rmap.AnonVmas.prepareLink(this, candidate, reuse == null);
                    anonVmaChainLength = 1;
                    anonVma = candidate;
                    used = true;
                }
            }
        } finally {
            candidate.unlockWrite();
        }
        if (!used && reuse == null) {
            candidate.put(); // put_anon_vma(allocated): another fault prepared first
        }
        return 0;
    }

    /** find_mergeable_anon_vma (mm/rmap.c): next first, then prev. */
    private AnonVma findMergeableAnonVma() {
        final MmStruct mm = vmMm;
        final Vma next = mm.vmaLookup(vmEnd);
        if (next != null) {
            final AnonVma a = reusableAnonVma(next, this, next);
            if (a != null) {
                return a;
            }
        }
        final Vma prev = mm.vmaPrev(vmStart);
        return prev != null ? reusableAnonVma(prev, prev, this) : null;
    }

    private static AnonVma reusableAnonVma(final Vma old, final Vma a, final Vma b) {
        if (anonVmaCompatible(a, b)) {
            final AnonVma av = old.anonVma;
            if (av != null && old.anonVmaChainLength == 1) {
                return av;
            }
        }
        return null;
    }

    /** anon_vma_compatible (mm/rmap.c): a directly below b, same file, flags equal but for access bits. */
    private static boolean anonVmaCompatible(final Vma a, final Vma b) {
        return a.vmEnd == b.vmStart
                && a.vmFile == b.vmFile
                && ((a.vmFlags ^ b.vmFlags) & ~(VmFlags.VM_ACCESS_FLAGS | VmFlags.VM_SOFTDIRTY)) == 0
                && b.vmPgoff == a.vmPgoff + ((b.vmStart - a.vmStart) >>> a.vmMm.pageShift());
    }

    /** vm_area_dup: a detached copy of this VMA's fields (not its lock state). */
    public final Vma dup() {
        final Vma n = new Vma();
        n.copyFieldsFrom(this);
        return n;
    }

    /** vm_area_init_from: this VMA's fields (not its lock state) become {@code src}'s. */
    final void copyFieldsFrom(final Vma src) {
        vmMm = src.vmMm;
        vmStart = src.vmStart;
        vmEnd = src.vmEnd;
        vmFlags = src.vmFlags;
        vmPgoff = src.vmPgoff;
        anonVma = src.anonVma;
        anonVmaChainLength = src.anonVmaChainLength;
        vmFile = src.vmFile;
        vmOps = src.vmOps;
        vmPageProt = src.vmPageProt;
    }

    // ---- vm_refcnt accessors, used by dev.vmsim.core.lock.VmaLock ----

    public final int refcnt() {
        return (int) VM_REFCNT.getVolatile(this);
    }

    public final int refcntAcquire() {
        return (int) VM_REFCNT.getAcquire(this);
    }

    public final void refcntSetRelease(final int v) {
        Platform.current().store(refcntLine);
        VM_REFCNT.setRelease(this, v);
    }

    /** A compare-and-set of vm_refcnt; under the virtual clock a preemption point before it. */
    public final boolean refcntCompareAndSet(final int expected, final int update) {
        Platform.current().rmw(refcntLine);
        return VM_REFCNT.compareAndSet(this, expected, update);
    }

    /**
     * refcount_read as the leading read of a cmpxchg loop: under the virtual clock a load of the
     * refcount's line (a shared copy, a transfer while other CPUs write it).
     */
    public final int refcntLoad() {
        Platform.current().load(refcntLine);
        return (int) VM_REFCNT.getVolatile(this);
    }

    /**
     * atomic_try_cmpxchg on vm_refcnt: returns the value found (== {@code expected} on success).
     * {@code retry}: this follows a failed cmpxchg of the same CPU, which left the line here, so no
     * preemption point and no transfer ({@link Platform#rmwLocked}).
     */
    public final int refcntCompareAndExchange(final int expected, final int update, final boolean retry) {
        if (retry) {
            Platform.current().rmwLocked(refcntLine);
        } else {
            Platform.current().rmw(refcntLine);
        }
        return (int) VM_REFCNT.compareAndExchange(this, expected, update);
    }

    /** Atomic add; returns the new value. */
    public final int refcntAddAndGet(final int delta) {
        Platform.current().rmw(refcntLine);
        return (int) VM_REFCNT.getAndAdd(this, delta) + delta;
    }

    // ---- vm_lock_seq accessors ----

    public final int lockSeq() {
        return (int) VM_LOCK_SEQ.get(this);
    }

    public final int lockSeqAcquire() {
        return (int) VM_LOCK_SEQ.getAcquire(this);
    }

    public final int lockSeqOpaque() {
        return (int) VM_LOCK_SEQ.getOpaque(this);
    }

    public final void setLockSeq(final int seq) {
        VM_LOCK_SEQ.setRelease(this, seq);
    }

    @Override
    public String toString() {
        if (this == XA_ZERO_ENTRY) {
            return "XA_ZERO_ENTRY";
        }
        return "vma[0x" + Long.toHexString(vmStart) + "-0x" + Long.toHexString(vmEnd) + "]";
    }
}
