package dev.vmsim.core.lock;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.Rcu;
import dev.vmsim.core.tree.MaState;

/**
 * lock_next_vma (mm/mmap_lock.c, 6.17+): iteration over an mm's VMAs under per-VMA read locks instead
 * of the mmap lock, the way /proc/PID/maps reads since 6.17.
 *
 * <p><b>Protocol.</b> Under RCU: begin mmap-lock speculation (snapshot of mm_lock_seq), take the next
 * VMA at or after the iterator ({@code vma_next}), read-lock it ({@code vma_start_read}). A VMA at or
 * after {@code fromAddr} is the answer only if nothing was inserted between {@code fromAddr} and it: if
 * the address space may have changed since the lookup (speculation failed or the seq moved), the
 * iterator is reset to {@code fromAddr} and the lookup repeated; a different answer (or a VMA that
 * ends at or before {@code fromAddr}, or a failed read lock) falls back to the lookup under the mmap
 * read lock ({@code lock_next_vma_under_mmap_lock}). Without the re-check an iterator would step over
 * a VMA mapped in the gap behind it and report a hole that never existed (LOCK-13).
 *
 * <p>The iterator is a {@link MaState} over {@code mm.mmMt()}; {@link #vmaNext} and
 * {@link #vmaIterSet} are vma_next and vma_iter_set on it.
 */
public final class LockNextVma {
    /** ERR_PTR(-EINTR): a fatal signal while waiting for the mmap read lock in the fallback. */
    public static final Vma EINTR = new Vma();

    private LockNextVma() {}

    /**
     * lock_next_vma: the first VMA that ends after {@code fromAddr}, read-locked; null when there is
     * none; {@link VmaLock#EAGAIN} (vm_refcnt overflow in the fallback) or {@link #EINTR}.
     * On return the iterator is at the VMA's end (or at {@code fromAddr} on null or an error) in the
     * fallback, or just past the VMA on the fast path.
     *
     * <p><b>Context:</b> RCU read lock held on entry and on return (it is dropped and retaken around the
     * fallback). The caller ends the VMA read lock with {@link VmaLock#endRead}.
     */
    public static Vma lockNextVma(final MmStruct mm, final MaState<Vma> vmi, final long fromAddr) {
        Rcu.assertReadLockHeld("lock_next_vma");
        final MmapLock ml = mm.mmapLock();
        Vma vma;
        long mmWrSeq;
        for (; ; ) {
            // Start mmap_lock speculation in case the VMA must be verified later.
            mmWrSeq = ml.speculateTryBegin();
            final Vma found = vmaNext(vmi);
            if (found == null) {
                return null;
            }
            vma = VmaLock.startRead(mm, found);
            if (vma == VmaLock.EAGAIN) {
                // Detached from under us: start again from the last address (RCU was dropped).
                Rcu.readLock();
                vmaIterSet(vmi, fromAddr);
                continue;
            }
            if (vma == null) {
                return fallback(mm, vmi, fromAddr); // RCU was dropped by vma_start_read
            }
            break;
        }
        LockHooks.at("lock_next_vma:after_start_read");
        // The VMA is not behind the last search position (typesafe-by-RCU: it may have been reused).
        if (fromAddr >= vma.vmEnd) {
            return fallbackUnlock(mm, vmi, fromAddr, vma);
        }
        // Ahead of the last position: it must not have shrunk, and no VMA may have been installed
        // ahead of it, since the lookup; verify only if the address space might have changed.
        final boolean mmapUnlocked = mmWrSeq != MmapLock.SPECULATE_FAILED;
        if (fromAddr < vma.vmStart && (!mmapUnlocked || ml.speculateRetry(mmWrSeq))) {
            vmaIterSet(vmi, fromAddr);
            if (vma != vmaNext(vmi)) {
                return fallbackUnlock(mm, vmi, fromAddr, vma);
            }
        }
        return vma;
    }

    private static Vma fallbackUnlock(final MmStruct mm, final MaState<Vma> vmi, final long fromAddr, final Vma vma) {
        Rcu.readUnlock();
        VmaLock.endRead(vma);
        return fallback(mm, vmi, fromAddr);
    }

    /** The fallback: the lookup under the mmap read lock, then RCU retaken and the iterator reset. */
    private static Vma fallback(final MmStruct mm, final MaState<Vma> vmi, final long fromAddr) {
        final Vma vma = lockNextVmaUnderMmapLock(mm, vmi, fromAddr);
        Rcu.readLock();
        final boolean err = vma == null || vma == VmaLock.EAGAIN || vma == EINTR;
        vmaIterSet(vmi, err ? fromAddr : vma.vmEnd);
        return vma;
    }

    /**
     * lock_next_vma_under_mmap_lock: the next VMA at or after {@code fromAddr} looked up again under
     * mmap_read_lock_killable and read-locked with vma_start_read_locked.
     */
    static Vma lockNextVmaUnderMmapLock(final MmStruct mm, final MaState<Vma> vmi, final long fromAddr) {
        final MmapLock ml = mm.mmapLock();
        if (!ml.readLockKillable()) {
            return EINTR;
        }
        vmaIterSet(vmi, fromAddr);
        Vma vma = vmaNext(vmi);
        if (vma != null && !VmaLock.startReadLocked(vma)) {
            vma = VmaLock.EAGAIN; // vm_refcnt at its limit (or per-VMA locks off)
        }
        ml.readUnlock();
        return vma;
    }

    /** vma_next: the first VMA at or after the iterator's position; the iterator moves past it. */
    public static Vma vmaNext(final MaState<Vma> vmi) {
        final Vma vma = vmi.find(-1L);
        if (vma != null) {
            vmi.set(vmi.last + 1, vmi.last + 1);
        }
        return vma;
    }

    /** vma_iter_set: positions the iterator at {@code addr}. */
    public static void vmaIterSet(final MaState<Vma> vmi, final long addr) {
        vmi.set(addr, addr);
    }
}
