package dev.vmsim.core.mm;

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

    /** vm_refcnt: 0 detached, 1 attached, more = readers; see VmaLock. */
    @SuppressWarnings("unused")
    private volatile int vmRefcnt;
    /** vm_lock_seq: equals mm_lock_seq while write-locked; UINT_MAX (-1) after vma_lock_init. */
    @SuppressWarnings("unused")
    private volatile int vmLockSeq = -1;

    public Vma() {}

    // ---- vm_refcnt accessors, used by dev.vmsim.core.lock.VmaLock ----

    public final int refcnt() {
        return (int) VM_REFCNT.getVolatile(this);
    }

    public final int refcntAcquire() {
        return (int) VM_REFCNT.getAcquire(this);
    }

    public final void refcntSetRelease(final int v) {
        VM_REFCNT.setRelease(this, v);
    }

    public final boolean refcntCompareAndSet(final int expected, final int update) {
        return VM_REFCNT.compareAndSet(this, expected, update);
    }

    /** Atomic add; returns the new value. */
    public final int refcntAddAndGet(final int delta) {
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
        return "vma[0x" + Long.toHexString(vmStart) + "-0x" + Long.toHexString(vmEnd) + "]";
    }
}
