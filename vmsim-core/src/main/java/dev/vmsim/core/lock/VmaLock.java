package dev.vmsim.core.lock;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.Rcu;
import java.util.concurrent.locks.LockSupport;

/**
 * Per-VMA locks: {@code vm_refcnt} and {@code vm_lock_seq} (include/linux/mmap_lock.h,
 * mm/mmap_lock.c).
 *
 * <p>SKELETON of the protocol; [2/6] completes it (lockdep, killable forms, the exclude-readers
 * state record, tests of every §4.2 row).
 */
public final class VmaLock {
    public static final int VM_REFCNT_EXCLUDE_READERS_FLAG = 0x4000_0000;
    public static final int VM_REFCNT_LIMIT = VM_REFCNT_EXCLUDE_READERS_FLAG - 1;
    /** vma_start_read result: the VMA was detached under us (-EAGAIN). */
    public static final Vma EAGAIN = new Vma();

    private VmaLock() {}

    private static boolean perVma(final MmStruct mm) {
        return mm.mmapLock().mode() != LockingMode.MMAP_ONLY;
    }

    /** vma_lock_init. */
    public static void lockInit(final Vma vma, final boolean resetRefcnt) {
        if (resetRefcnt) {
            vma.refcntSetRelease(0);
        }
        vma.setLockSeq(-1);
    }

    /**
     * vma_start_read: called inside an RCU read section; on failure RCU has been dropped. Returns the
     * VMA (read-locked, RCU still held), null (write-locked / overflow / recycled to another mm), or
     * {@link #EAGAIN} (detached).
     */
    public static Vma startRead(final MmStruct mm, final Vma vma) {
        if (!perVma(mm)) {
            Rcu.readUnlock();
            return null;
        }
        final MmapLock ml = mm.mmapLock();
        if (vma.lockSeqOpaque() == ml.lockSeqAcquire()) {
            Rcu.readUnlock();
            return null;
        }
        int old;
        do {
            old = vma.refcnt();
            if (old == 0 || old >= VM_REFCNT_LIMIT) {
                Rcu.readUnlock();
                return old == 0 ? EAGAIN : null;
            }
        } while (!vma.refcntCompareAndSet(old, old + 1));
        final MmStruct other = vma.vmMm;
        if (other != mm) {
            Rcu.readUnlock();
            refcountPut(other, vma);
            return null;
        }
        if (vma.lockSeqAcquire() == ml.lockSeqAcquire()) {
            Rcu.readUnlock();
            refcountPut(mm, vma);
            return null;
        }
        return vma;
    }

    /** vma_start_read_locked: caller holds the mmap lock; fails only on overflow. */
    public static boolean startReadLocked(final Vma vma) {
        int old;
        do {
            old = vma.refcnt();
            if (old == 0 || old >= VM_REFCNT_LIMIT) {
                return false;
            }
        } while (!vma.refcntCompareAndSet(old, old + 1));
        return true;
    }

    /** vma_end_read. */
    public static void endRead(final Vma vma) {
        final MmStruct mm = vma.vmMm;
        refcountPut(mm, vma);
    }

    private static void refcountPut(final MmStruct mm, final Vma vma) {
        final int v = vma.refcntAddAndGet(-1);
        if (v != 0 && (v & VM_REFCNT_EXCLUDE_READERS_FLAG) != 0 && v <= VM_REFCNT_EXCLUDE_READERS_FLAG + 1) {
            final Thread t = mm.mmapLock().vmaWriterWait;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    private static void waitFor(final MmStruct mm, final Vma vma, final int target) {
        final MmapLock ml = mm.mmapLock();
        ml.vmaWriterWait = Thread.currentThread();
        try {
            while (vma.refcnt() != target) {
                LockSupport.park(vma);
            }
        } finally {
            ml.vmaWriterWait = null;
        }
    }

    /** vma_start_write: caller holds the mmap write lock. */
    public static void startWrite(final Vma vma) {
        final MmStruct mm = vma.vmMm;
        if (!perVma(mm)) {
            return;
        }
        final int seq = mm.mmapLock().lockSeq();
        if (vma.lockSeq() == seq) {
            return;
        }
        int old;
        do {
            old = vma.refcnt();
            if (old == 0) {
                vma.setLockSeq(seq);
                return;
            }
        } while (!vma.refcntCompareAndSet(old, old + VM_REFCNT_EXCLUDE_READERS_FLAG));
        waitFor(mm, vma, VM_REFCNT_EXCLUDE_READERS_FLAG + 1);
        vma.setLockSeq(seq);
        vma.refcntAddAndGet(-VM_REFCNT_EXCLUDE_READERS_FLAG);
    }

    /** vma_mark_attached: precondition write-locked and detached. */
    public static void markAttached(final Vma vma) {
        vma.refcntSetRelease(1);
    }

    /** vma_mark_detached: precondition write-locked and attached; returns with vm_refcnt == 0. */
    public static void markDetached(final Vma vma) {
        if (vma.refcntAddAndGet(-1) == 0) {
            return;
        }
        final MmStruct mm = vma.vmMm;
        int old;
        do {
            old = vma.refcnt();
            if (old == 0) {
                return;
            }
        } while (!vma.refcntCompareAndSet(old, old + VM_REFCNT_EXCLUDE_READERS_FLAG));
        waitFor(mm, vma, VM_REFCNT_EXCLUDE_READERS_FLAG);
        vma.refcntAddAndGet(-VM_REFCNT_EXCLUDE_READERS_FLAG);
    }

    /** vma_assert_write_locked. */
    public static void assertWriteLocked(final Vma vma) {
        final MmStruct mm = vma.vmMm;
        if (perVma(mm) && vma.lockSeq() != mm.mmapLock().lockSeq()) {
            throw new AssertionError("vma_assert_write_locked: " + vma);
        }
    }
}
