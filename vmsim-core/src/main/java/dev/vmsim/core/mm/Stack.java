package dev.vmsim.core.mm;

import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.lock.VmaLock;

/** Stack growth (mm/vma.c expand_downwards, acct_stack_growth). */
final class Stack {
    private Stack() {}

    /** expand_downwards: §6.3 order. The mmap write lock is held. */
    static int expandDownwards(final MmStruct mm, final Vma vma, final long address0) {
        if ((vma.vmFlags & VmFlags.VM_GROWSDOWN) == 0) {
            return -Errno.EFAULT;
        }
        // BUG-01 (StackRot) reintroduced: called under the read lock, as before the fix, with no VMA
        // write lock (the old kernel serialised expanders with page_table_lock only).
        final boolean underReadLock =
                BugSwitches.on(Bug.BUG_01) && !mm.mmapLock().isWriteLocked();
        if (!underReadLock) {
            mm.mmapLock().assertWriteLocked();
        }
        final long address = address0 & -mm.pageSize;
        if (Long.compareUnsigned(address, mm.mmapMinAddr) < 0) {
            return -Errno.EPERM;
        }
        final Vma prev = mm.vmaPrev(vma.vmStart);
        if (prev != null
                && (prev.vmFlags & VmFlags.VM_GROWSDOWN) == 0
                && prev.isAccessible()
                && Long.compareUnsigned(address - prev.vmEnd, mm.stackGuardGap) < 0) {
            return -Errno.ENOMEM;
        }
        if (vma.anonVmaPrepare() != 0) {
            return -Errno.ENOMEM;
        }
        if (!underReadLock) {
            VmaLock.startWrite(vma);
        }
        int error = 0;
        if (Long.compareUnsigned(address, vma.vmStart) < 0) {
            final long size = vma.vmEnd - address;
            final long grow = (vma.vmStart - address) >>> mm.pageShift;
            error = -Errno.ENOMEM;
            if (Long.compareUnsigned(grow, vma.vmPgoff) <= 0) {
                error = acctStackGrowth(mm, vma, size, grow);
                if (error == 0) {
                    if ((vma.vmFlags & VmFlags.VM_LOCKED) != 0) {
                        mm.lockedVm += grow;
                    }
                    mm.vmStatAccount(vma.vmFlags, grow);
                    vma.vmStart = address;
                    vma.vmPgoff -= grow;
                    VmaOps.storeOverwrite(mm, vma);
                }
            }
        }
        return error;
    }

    /** acct_stack_growth: RLIMIT_STACK (RLIMIT_AS, memlock and overcommit are unlimited here). */
    private static int acctStackGrowth(final MmStruct mm, final Vma vma, final long size, final long grow) {
        if (Long.compareUnsigned(size, mm.rlimitStack) > 0) {
            return -Errno.ENOMEM;
        }
        return 0;
    }
}
