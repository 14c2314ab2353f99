package dev.vmsim.core.lock;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.testing.TestArch;

/** Builds mms and attached VMAs for the lock tests (no maple tree needed). */
final class VmaFixture {
    private VmaFixture() {}

    static MmStruct mm(final LockingMode mode) {
        return new MmStruct(TestArch.machine(64), mode);
    }

    static MmStruct mm() {
        return mm(LockingMode.PER_VMA);
    }

    /** A VMA of {@code mm} over [start, end), attached (vm_refcnt 1) under the mmap write lock. */
    static Vma attached(final MmStruct mm, final long start, final long end) {
        final Vma v = new Vma();
        v.vmMm = mm;
        v.vmStart = start;
        v.vmEnd = end;
        VmaLock.lockInit(v, true);
        mm.mmapLock().writeLock();
        VmaLock.startWrite(v);
        VmaLock.markAttached(v);
        mm.mmapLock().writeUnlock();
        return v;
    }

    /** vma_start_read inside a fresh RCU section; on success the RCU section is closed as well. */
    static Vma tryRead(final MmStruct mm, final Vma v) {
        dev.vmsim.core.sync.Rcu.readLock();
        final Vma r = VmaLock.startRead(mm, v);
        if (r != null && r != VmaLock.EAGAIN) {
            dev.vmsim.core.sync.Rcu.readUnlock();
        }
        return r;
    }
}
