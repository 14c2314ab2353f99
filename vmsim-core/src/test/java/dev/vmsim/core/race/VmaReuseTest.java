package dev.vmsim.core.race;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static dev.vmsim.core.race.RaceSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.vmsim.core.Machine;
import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.lock.LockVma;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.TestArch;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Typesafe-by-RCU VMAs in the real system calls: munmap frees a VMA into the machine's VMA cache
 * and the next mmap gets the same object back, while a lock_vma_under_rcu that found it in the tree
 * is parked before vma_start_read's increment. Each of lock_vma_under_rcu's re-checks (vm_mm,
 * detached, address) catches its case, is counted, and the reader gets no VMA.
 */
@Timeout(30)
class VmaReuseTest {
    private static final int PAGE = 4096;
    private static final int RW = PROT_READ | PROT_WRITE;
    private static final int ANON = MAP_PRIVATE | MAP_ANONYMOUS;

    private final Machine machine = TestArch.machine(1024);

    @AfterEach
    void removeHooks() {
        LockHooks.install(null);
    }

    /**
     * lock_vma_under_rcu(mm, address) on a thread of its own, parked after the tree walk found the
     * VMA (vma_start_read, after its early check) while {@code meanwhile} runs; its result.
     */
    private Vma lockWhile(final MmStruct mm, final long address, final Runnable meanwhile) throws Exception {
        final CountDownLatch parked = new CountDownLatch(1);
        final CountDownLatch go = new CountDownLatch(1);
        LockHooks.install(point -> {
            if (Thread.currentThread().getName().equals("reader")
                    && point.equals("vma_start_read:after_early_check")
                    && parked.getCount() != 0) {
                parked.countDown();
                await(go, "the test's release of the reader");
            }
        });
        final AtomicReference<Vma> got = new AtomicReference<>();
        final Thread reader = new Thread(() -> got.set(LockVma.lockVmaUnderRcu(mm, address)), "reader");
        reader.start();
        await(parked, "the reader inside vma_start_read");
        meanwhile.run();
        go.countDown();
        reader.join(TimeUnit.SECONDS.toMillis(20));
        assertFalse(reader.isAlive());
        return got.get();
    }

    @Test
    void aVmaReusedByAnotherMmFailsTheVmMmRecheck() throws Exception {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final MmStruct other = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mm.mmap(0, PAGE, RW, ANON);
        final Vma vma = mm.vmaLookup(a);
        final Vma got = lockWhile(mm, a, () -> {
            assertEquals(0, mm.munmap(a, PAGE));
            assertSame(vma, other.vmaLookup(other.mmap(0, PAGE, RW, ANON)), "the cache hands the VMA to the other mm");
        });
        assertNull(got);
        assertEquals(1, machine.vmstat().get(VmEvent.VMA_RECHECK_VM_MM));
        assertEquals(
                0,
                machine.vmstat().get(VmEvent.VMA_RECHECK_DETACHED)
                        + machine.vmstat().get(VmEvent.VMA_RECHECK_ADDRESS));
        assertEquals(1, machine.vmstat().get(VmEvent.VMA_LOCK_ABORT));
        assertEquals(1, vma.refcnt(), "the stale reader's reference was put back");
        other.validate();
    }

    @Test
    void aVmaReusedForAnotherRangeFailsTheAddressRecheck() throws Exception {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mm.mmap(0, PAGE, RW, ANON);
        final Vma vma = mm.vmaLookup(a);
        final long elsewhere = a - 64L * PAGE;
        final Vma got = lockWhile(mm, a, () -> {
            assertEquals(0, mm.munmap(a, PAGE));
            assertEquals(elsewhere, mm.mmap(elsewhere, PAGE, PROT_READ, ANON | MAP_FIXED));
            assertSame(vma, mm.vmaLookup(elsewhere), "the same object, now for another range");
        });
        assertNull(got);
        assertEquals(1, machine.vmstat().get(VmEvent.VMA_RECHECK_ADDRESS));
        assertEquals(
                0,
                machine.vmstat().get(VmEvent.VMA_RECHECK_DETACHED)
                        + machine.vmstat().get(VmEvent.VMA_RECHECK_VM_MM));
        assertEquals(1, vma.refcnt());
        mm.validate();
    }

    @Test
    void aFreedVmaFailsTheDetachedRecheckAndTheWalkIsRetried() throws Exception {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mm.mmap(0, PAGE, RW, ANON);
        final Vma got = lockWhile(mm, a, () -> assertEquals(0, mm.munmap(a, PAGE)));
        assertNull(got);
        assertEquals(1, machine.vmstat().get(VmEvent.VMA_RECHECK_DETACHED));
        assertEquals(1, machine.vmstat().get(VmEvent.VMA_LOCK_MISS), "the kernel's counter for the same case");
        assertEquals(1, machine.vmstat().get(VmEvent.VMA_LOCK_ABORT), "the retried walk finds no VMA");
        assertEquals(1, machine.vmaCache().freeCount());
    }
}
