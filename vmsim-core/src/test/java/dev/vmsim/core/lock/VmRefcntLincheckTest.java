package dev.vmsim.core.lock;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.Rcu;
import dev.vmsim.core.testing.LincheckRuns;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Model checking of the vm_refcnt protocol: lock-free readers (vma_start_read with the mmap-lock
 * fallback), a writer that changes a VMA field in two steps under the VMA write lock, and a
 * detacher. A reader holding a VMA read lock must never see the intermediate value; after every
 * run vm_refcnt is 1 (attached) or 0 (detached) with no flag left.
 */
public class VmRefcntLincheckTest {
    final MmStruct mm = VmaFixture.mm();
    final Vma vma = VmaFixture.attached(mm, 0x1000, 0x2000);
    /** Guarded by the mmap lock. */
    boolean attached = true;

    /** lock_vma_under_rcu and, on failure, the mmap read-lock fallback. */
    @Operation
    public long read() {
        return readFlags(mm, vma);
    }

    /** The reader of both this test and its broken twin: vm_flags under a VMA or mmap read lock. */
    static long readFlags(final MmStruct mm, final Vma vma) {
        Rcu.readLock();
        final Vma v = VmaLock.startRead(mm, vma);
        if (v != null && v != VmaLock.EAGAIN) {
            Rcu.readUnlock();
            final long f = v.vmFlags;
            VmaLock.endRead(v);
            return f;
        }
        mm.mmapLock().readLock();
        final long f = vma.vmFlags;
        mm.mmapLock().readUnlock();
        return f;
    }

    @Operation
    public void write() {
        mm.mmapLock().writeLock();
        if (attached) {
            writeLockVma();
        }
        vma.vmFlags = 1; // the intermediate state no reader may see
        vma.vmFlags = 0;
        mm.mmapLock().writeUnlock();
    }

    @Operation
    public void detach() {
        mm.mmapLock().writeLock();
        if (attached) {
            VmaLock.startWrite(vma);
            VmaLock.markDetached(vma);
            attached = false;
        }
        mm.mmapLock().writeUnlock();
    }

    /** How the writer write-locks the VMA ({@link BrokenVmRefcntLincheckTest} leaves it out). */
    void writeLockVma() {
        VmaLock.startWrite(vma);
    }

    @Validate
    public void refcntSettled() {
        final int r = vma.refcnt();
        if (r != (attached ? 1 : 0) || mm.mmapLock().rwsem().count() != 0) {
            throw new IllegalStateException("vm_refcnt " + Integer.toHexString(r));
        }
    }

    @Test
    public void modelChecking() {
        LincheckRuns.modelCheck(VmRefcntLincheckTest.class, null, LincheckRuns.budget(4, 40), 3, 2);
    }
}
