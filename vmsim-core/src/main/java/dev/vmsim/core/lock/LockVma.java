package dev.vmsim.core.lock;

import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.sync.Rcu;
import dev.vmsim.core.trace.FaultTrace;

/**
 * The fault path's lock helpers (mm/mmap_lock.c): lock_vma_under_rcu, lock_vma_under_rcu_wait and
 * lock_mm_and_find_vma with get_mmap_lock_carefully / upgrade_mmap_lock_carefully.
 *
 * <p>Locking modes: in {@link LockingMode#MMAP_ONLY} (CONFIG_PER_VMA_LOCK=n) the per-VMA attempt
 * always fails and, as in such a kernel, no vma_lock_* event is counted (the counters are not
 * compiled in). In {@link LockingMode#PER_VMA_WAIT} {@link #underRcu} is lock_vma_under_rcu_wait.
 */
public final class LockVma {
    private LockVma() {}

    /**
     * The per-VMA attempt of the arch fault handlers: lock_vma_under_rcu, or lock_vma_under_rcu_wait
     * in PER_VMA_WAIT mode. Returns the VMA containing {@code address}, read-locked, with no mmap lock
     * taken; or null.
     */
    public static Vma underRcu(final MmStruct mm, final long address) {
        switch (mm.mmapLock().mode()) {
            case MMAP_ONLY:
                return null;
            case PER_VMA_WAIT:
                return lockVmaUnderRcuWait(mm, address);
            default:
                return lockVmaUnderRcu(mm, address);
        }
    }

    /**
     * lock_vma_under_rcu: walks the VMA tree under RCU and read-locks the VMA covering {@code
     * address}. A VMA detached under us (vma_start_read's -EAGAIN) is counted as VMA_LOCK_MISS and
     * the walk restarts; any other failure (no VMA, write-locked, recycled, moved) is VMA_LOCK_ABORT
     * and returns null. The returned VMA is stable: attached, read-locked and covering address.
     */
    public static Vma lockVmaUnderRcu(final MmStruct mm, final long address) {
        for (; ; ) {
            Rcu.readLock();
            final Vma found = mm.mmMt().walk(address);
            if (found == null) {
                Rcu.readUnlock();
                break;
            }
            final Vma vma = VmaLock.startRead(mm, found);
            if (vma == VmaLock.EAGAIN) {
                // The area was replaced with another one: RCU was dropped by vma_start_read.
                mm.machine().vmstat().count(VmEvent.VMA_LOCK_MISS);
                mm.machine().vmstat().count(VmEvent.VMA_RECHECK_DETACHED);
                FaultTrace.lockVmaUnderRcu(address, "miss");
                continue;
            }
            if (vma == null) {
                break;
            }
            Rcu.readUnlock();
            // Type-safe-by-RCU: the object may have been reused for another range since the walk.
            if (address < vma.vmStart || address >= vma.vmEnd) {
                VmaLock.endRead(vma);
                mm.machine().vmstat().count(VmEvent.VMA_RECHECK_ADDRESS);
                break;
            }
            FaultTrace.lockVmaUnderRcu(address, "locked");
            return vma;
        }
        mm.machine().vmstat().count(VmEvent.VMA_LOCK_ABORT);
        FaultTrace.lockVmaUnderRcu(address, "abort");
        return null;
    }

    /**
     * lock_vma_under_rcu_wait (mm tree, 2026): like lock_vma_under_rcu, but when the VMA is being
     * modified it waits for the writer by taking and dropping the mmap read lock, then retries,
     * instead of falling back. Returns null only when no VMA covers {@code address}. The retries are
     * unbounded, as in the kernel (a livelock is possible in theory). Each wait is counted as
     * VMA_LOCK_WAIT (a simulator counter: the kernel has no event for it).
     */
    public static Vma lockVmaUnderRcuWait(final MmStruct mm, final long address) {
        for (; ; ) {
            Vma vma = lockVmaUnderRcu(mm, address);
            if (vma != null) {
                return vma;
            }
            final MmapLock lock = mm.mmapLock();
            lock.readLock();
            vma = mm.vmaLookup(address);
            lock.readUnlock();
            if (vma == null) {
                return null;
            }
            mm.machine().vmstat().count(VmEvent.VMA_LOCK_WAIT);
            FaultTrace.lockVmaUnderRcuWait(address);
        }
    }

    /**
     * get_mmap_lock_carefully: a read trylock first; a kernel-mode fault whose instruction has no
     * exception-table entry must not sleep on the mmap lock (the kernel itself may hold it: oops,
     * don't deadlock); otherwise a killable read lock.
     */
    static boolean getMmapLockCarefully(final MmStruct mm, final PtRegs regs) {
        final MmapLock lock = mm.mmapLock();
        if (lock.readTrylock()) {
            return true;
        }
        if (regs != null && !regs.userMode() && !regs.hasExceptionTableEntry()) {
            return false;
        }
        return lock.readLockKillable();
    }

    /** upgrade_mmap_lock_carefully: drop the read lock, then take the write lock killably (same exception-table rule). */
    static boolean upgradeMmapLockCarefully(final MmStruct mm, final PtRegs regs) {
        final MmapLock lock = mm.mmapLock();
        lock.readUnlock();
        if (regs != null && !regs.userMode() && !regs.hasExceptionTableEntry()) {
            return false;
        }
        return lock.writeLockKillable() == 0;
    }

    /**
     * lock_mm_and_find_vma: non-null means the mmap lock is read-held and the returned VMA contains
     * {@code address}; null means no lock is held. An address just below a VM_GROWSDOWN VMA expands
     * the stack under the mmap write lock (the StackRot fix). As in the kernel (6.18), the write lock
     * is reached by upgrade_mmap_lock_carefully: drop the read lock, take the write lock killably and
     * look the VMA up again, because mmap_upgrade_trylock always fails; only with the simulator's
     * upgrade on ({@link MmapLock#setUpgradeEnabled}) is it reached atomically when this thread is the
     * only reader and nobody waits. The write lock is downgraded after.
     */
    public static Vma lockMmAndFindVma(final MmStruct mm, final long address, final PtRegs regs) {
        FaultTrace.lockMmAndFindVmaEnter(address);
        final Vma vma = doLockMmAndFindVma(mm, address, regs);
        FaultTrace.lockMmAndFindVmaExit(vma != null);
        return vma;
    }

    private static Vma doLockMmAndFindVma(final MmStruct mm, final long address, final PtRegs regs) {
        final MmapLock lock = mm.mmapLock();
        if (!getMmapLockCarefully(mm, regs)) {
            return null;
        }
        Vma vma = mm.findVma(address);
        if (vma != null && vma.vmStart <= address) {
            return vma;
        }
        if (vma == null || (vma.vmFlags & VmFlags.VM_GROWSDOWN) == 0) {
            lock.readUnlock();
            return null;
        }
        if (BugSwitches.on(Bug.BUG_01)) {
            // 6.1-6.4: expand_stack under the read lock, the maple store racing other readers
            // (StackRot). The fix is everything below: the write lock first.
            if (mm.expandDownwards(vma, address) != 0) {
                lock.readUnlock();
                return null;
            }
            return vma;
        }
        final boolean upgraded = lock.upgradeTrylock();
        FaultTrace.mmapWriteLockVia(upgraded);
        if (!upgraded) {
            if (!upgradeMmapLockCarefully(mm, regs)) {
                return null;
            }
            vma = mm.findVma(address);
            if (vma == null) {
                lock.writeUnlock();
                return null;
            }
            if (vma.vmStart <= address) {
                lock.writeDowngrade();
                return vma;
            }
            if ((vma.vmFlags & VmFlags.VM_GROWSDOWN) == 0) {
                lock.writeUnlock();
                return null;
            }
        }
        final int expanded = mm.expandDownwards(vma, address);
        FaultTrace.expandDownwards(address, expanded);
        if (expanded != 0) {
            lock.writeUnlock();
            return null;
        }
        lock.writeDowngrade();
        return vma;
    }
}
