package dev.vmsim.core.lock;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * The vm_area_struct cache (vm_area_cachep, SLAB_TYPESAFE_BY_RCU): a LIFO free list, so a freed VMA
 * is handed out again at once, for another range or another mm, while RCU readers may still hold
 * a pointer to it. Readers survive this only because {@link VmaLock#startRead} re-validates
 * (detached → EAGAIN, vm_mm != mm → fail) and lock_vma_under_rcu re-checks the range.
 *
 * <p>One per machine ({@link dev.vmsim.core.Machine#vmaCache}); every VMA of every mm on it comes
 * from here and goes back here (vm_area_alloc / vm_area_dup / vm_area_free), so every workload
 * exercises those re-checks; each firing is counted (VmEvent.VMA_RECHECK_*). Called only under an
 * mmap write lock; the deque is lock-free, so two mms' system calls never wait for each other.
 *
 * <p>Coordinates only through Vma's fields; objects are never "freed" to the GC while cached.
 */
public final class VmaCache {
    private final ConcurrentLinkedDeque<Vma> free = new ConcurrentLinkedDeque<>();
    /** Allocations served by a freed object (system calls only, never the fault path). */
    private final LongAdder reused = new LongAdder();
    /** VMAs handed out and not freed (the leak check's count, OOM-10); beside {@link #reused}, same paths. */
    private final LongAdder live = new LongAdder();

    /**
     * vm_area_alloc + vma_init: a detached VMA of {@code mm} covering [start, end). A reused object
     * keeps vm_refcnt as it is (0; a stale reader's increment-not-zero cannot succeed on it), and
     * vm_mm / range are written before the caller attaches with release.
     */
    public Vma alloc(final MmStruct mm, final long start, final long end) {
        live.increment();
        Vma vma = free.pollFirst();
        final boolean fresh = vma == null;
        if (fresh) {
            vma = new Vma();
        } else {
            reused.increment();
        }
        vma.vmMm = mm;
        VmaLock.lockInit(vma, fresh); // after vm_mm: the rw_semaphore modes' vm_lock belongs to it
        vma.vmStart = start;
        vma.vmEnd = end;
        vma.vmFlags = 0;
        vma.vmPgoff = 0;
        vma.anonVma = null;
        vma.anonVmaChainLength = 0;
        vma.vmFile = null;
        vma.vmOps = null;
        vma.vmPageProt = 0;
        return vma;
    }

    /**
     * vm_area_free: precondition detached (vm_refcnt == 0).
     *
     * <p>In the rw_semaphore modes (6.4-6.14) the cache was not yet SLAB_TYPESAFE_BY_RCU: vm_area_free
     * went through call_rcu (vm_area_free_rcu_cb), so no VMA was reused while a lock_vma_under_rcu
     * reader could still hold it, and that reader's up_read on vma->vm_lock relied on it. The object
     * is then left to the garbage collector, which frees it only once no reader can reach it: the
     * grace period, without reuse.
     */
    public void free(final Vma vma) {
        VmaLock.assertDetached(vma);
        live.decrement();
        if (vma.vmLock != null) {
            return;
        }
        free.addFirst(vma);
    }

    /** Allocations that handed out a freed VMA again. */
    public long reused() {
        return reused.sum();
    }

    /** VMAs allocated and not yet freed: kmem_cache's active objects for vm_area_cachep. */
    public long live() {
        return live.sum();
    }

    /** Objects on the free list. */
    public int freeCount() {
        return free.size();
    }
}
