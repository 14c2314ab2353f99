package dev.vmsim.core.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.api.Test;

/**
 * BUG-07 and the §14.3 order, observed from inside the mmap write lock: every VMA that a write-side
 * operation creates or changes is write-locked (vm_lock_seq == mm_lock_seq) before the lock is
 * dropped, and a removed VMA is detached (vm_refcnt 0).
 */
class VmaWriteLockTest {
    static final long P = 4096;
    final MmStruct mm = new MmStruct(TestArch.machine(1024), LockingMode.PER_VMA);
    final long top = mm.mmapBase();

    @Test
    void aNewVmaIsWriteLockedAndAttachedWhenItBecomesVisible() {
        mm.mmapLock().writeLock();
        try {
            final int seq = mm.mmapLock().lockSeq();
            final long a = Mmap.mmapRegion(
                    mm,
                    null,
                    top - 0x10000,
                    2 * P,
                    VmFlags.VM_READ | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE,
                    (top - 0x10000) >>> 12);
            final Vma v = mm.vmaLookup(a);
            assertEquals(seq, v.lockSeq(), "write-locked before the store");
            assertEquals(1, v.refcnt(), "attached");
        } finally {
            mm.mmapLock().writeUnlock();
        }
        assertNotEquals(mm.mmapLock().lockSeq(), mm.vmaLookup(top - 0x10000).lockSeq(), "unlocked with the mmap lock");
        mm.validate();
    }

    @Test
    void splitWriteLocksBothHalvesAndMunmapDetachesTheRemovedOne() {
        final long a =
                mm.mmap(top - 0x10000, 4 * P, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
        final Vma whole = mm.vmaLookup(a);
        mm.mmapLock().writeLock();
        final Vma removed;
        try {
            final int seq = mm.mmapLock().lockSeq();
            assertEquals(0, VmaOps.splitVma(mm, whole, a + P, true));
            final Vma low = mm.vmaLookup(a);
            assertEquals(seq, low.lockSeq());
            assertEquals(seq, whole.lockSeq());
            assertEquals(a + P, whole.vmStart);
            removed = low;
            final boolean[] unlocked = {false};
            assertEquals(0, Mmap.doVmiMunmap(mm, a, P, false, unlocked));
            assertEquals(0, removed.refcnt(), "detached before it is freed");
            assertEquals(null, mm.vmaLookup(a));
        } finally {
            mm.mmapLock().writeUnlock();
        }
        assertEquals(1, whole.refcnt());
        mm.validate();
    }

    @Test
    void munmapWithUnlockDowngradesAndReleasesTheLock() {
        final long a = mm.mmap(0, 2 * P, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        assertEquals(0, mm.munmap(a, P));
        // The lock is free again: a writer gets it at once.
        mm.mmapLock().writeLock();
        mm.mmapLock().writeUnlock();
        mm.validate();
    }
}
