package dev.vmsim.core.lock;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.Rcu;
import dev.vmsim.core.testing.TestArch;
import dev.vmsim.core.tree.MaState;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * LOCK-13: lock_next_vma, the iteration under VMA locks of /proc/PID/maps since 6.17.
 *
 * <pre>
 *  0x10000   0x20000   0x30000   0x38000   0x40000   0x50000
 *  |AAAAAAAAA|         |CCCCCCCCC|         |BBBBBBBBB|
 *            ^ from_addr                    C is mapped while the iterator holds B
 * </pre>
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LockNextVmaTest {
    private static final long A = 0x10000;
    private static final long B = 0x40000;
    private static final long C = 0x30000;
    private static final long LEN = 0x10000;

    /** No vdso: the iteration sees only the VMAs the test maps. */
    private final MmStruct mm = newMm();

    private static MmStruct newMm() {
        final var machine = TestArch.machine(64);
        return new MmStruct(
                machine, LockingMode.PER_VMA, machine.arch().pageTableFormat().taskSize(), false);
    }

    private Vma map(final long addr, final long len) {
        assertEquals(addr, mm.mmap(addr, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
        return mm.findVma(addr);
    }

    /** One lock_next_vma call from {@code from} inside its own RCU section; the VMA stays read-locked. */
    private Vma next(final MaState<Vma> vmi, final long from) {
        Rcu.readLock();
        try {
            return LockNextVma.lockNextVma(mm, vmi, from);
        } finally {
            Rcu.readUnlock();
        }
    }

    /** With no writer, the walk returns every VMA in order, each read-locked, without the mmap lock. */
    @Test
    void iteratesEveryVmaUnderItsReadLockWithoutTheMmapLock() {
        final Vma a = map(A, LEN);
        final Vma b = map(B, LEN);
        final long mmapLocks = mm.mmapLock().acquisitions();
        final MaState<Vma> vmi = new MaState<>(mm.mmMt(), 0, 0);
        final List<Vma> seen = new ArrayList<>();
        long from = 0;
        for (Vma v = next(vmi, from); v != null; v = next(vmi, from)) {
            VmaLock.assertLocked(v);
            seen.add(v);
            from = v.vmEnd;
            VmaLock.endRead(v);
        }
        assertEquals(List.of(a, b), seen);
        assertEquals(mmapLocks, mm.mmapLock().acquisitions(), "the fast path takes no mmap lock");
    }

    /**
     * LOCK-13: the VMA found (B) is ahead of from_addr and the address space changed meanwhile (C
     * mapped between from_addr and B, so the speculation seq moved) → re-verify with vma_next from
     * from_addr; it finds C, not B, so lock_next_vma drops B and falls back to the mmap-read-locked
     * lookup, which returns C; the iterator is reset to C's end and the next call returns B. Without
     * the re-check the walk would report the gap [0x20000, 0x40000) that no longer exists.
     */
    @Test
    void aVmaMappedBehindTheFoundOneIsNotSkipped() throws Exception {
        final Vma a = map(A, LEN);
        final Vma b = map(B, LEN);
        final MaState<Vma> vmi = new MaState<>(mm.mmMt(), 0, 0);
        final List<Vma> seen = new ArrayList<>();
        final Schedule.Actor reader = new Schedule.Actor("maps-reader", () -> {
            long from = a.vmEnd;
            for (Vma v = next(vmi, from); v != null; v = next(vmi, from)) {
                seen.add(v);
                from = v.vmEnd;
                VmaLock.endRead(v);
            }
            return null;
        });
        final Vma c;
        try (Schedule s = new Schedule()) {
            final Schedule.Gate holdingB = s.stopAt(reader, "lock_next_vma:after_start_read");
            reader.start();
            holdingB.awaitArrived();
            final long fallbacksBefore = mm.mmapLock().acquisitions();
            c = map(C, 0x8000); // under the mmap write lock; B's read lock does not stop it
            holdingB.release();
            reader.joinResult();
            assertEquals(
                    fallbacksBefore + 2,
                    mm.mmapLock().acquisitions(),
                    "the mmap write lock of the mmap, then one fallback under the mmap read lock");
        }
        assertEquals(List.of(c, b), seen, "C is reported before B: the iterator did not step over it");
        assertEquals(1, b.refcnt(), "B's read lock from the abandoned attempt was dropped");
    }

    /**
     * lock_next_vma_under_mmap_lock looks up again from from_addr, whatever the iterator held, and
     * returns the VMA read-locked with the mmap lock already dropped.
     */
    @Test
    void theMmapLockedLookupStartsAgainFromFromAddr() {
        final Vma a = map(A, LEN);
        final MaState<Vma> vmi = new MaState<>(mm.mmMt(), B, B);
        final Vma v = LockNextVma.lockNextVmaUnderMmapLock(mm, vmi, 0);
        assertSame(a, v);
        assertEquals(2, a.refcnt(), "attached (1) + one reader");
        assertFalse(mm.mmapLock().isHeldByCurrentOrAnyone());
        VmaLock.endRead(v);
        assertNull(LockNextVma.lockNextVmaUnderMmapLock(mm, vmi, a.vmEnd));
    }
}
