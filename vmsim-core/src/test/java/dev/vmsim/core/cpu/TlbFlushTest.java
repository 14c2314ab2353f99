package dev.vmsim.core.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.pgtable.MmuGather;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.phys.Pfn;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.LeakCheck;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TlbFlushTest {
    private static final long VA = 0x7f0000001000L;
    private static final long RW_SHARED = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED;

    /** Maps one fresh frame writable at {@code va}; returns the pfn. */
    private static long map(final MmStruct mm, final long va) {
        final PageTables pt = mm.pageTables();
        final long pfn = mm.machine().frames().allocZeroed(0);
        mm.machine().frames().incMapcount(pfn);
        pt.setPte(pt.ptePa(va, true), pt.format().pfnPte(pfn, pt.format().vmGetPageProt(RW_SHARED)));
        return pfn;
    }

    private static void runOn(final Runnable r) throws InterruptedException {
        final AtomicReference<Throwable> err = new AtomicReference<>();
        final Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (final Throwable e) {
                err.set(e);
            }
        });
        t.start();
        t.join();
        if (err.get() != null) {
            throw new AssertionError(err.get());
        }
    }

    @Test
    @LeakCheck.Skip("maps a frame by hand where no VMA is, which exit_mmap (a zap of the VMAs) cannot reach")
    void shootdownReachesEveryCpuOfTheMmIncludingLazyOnes() throws Exception {
        final TlbArch arch = new TlbArch();
        final Machine machine = TlbArch.machine(arch, 256);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final MmStruct other = new MmStruct(machine, LockingMode.PER_VMA);
        map(mm, VA);
        final Cpu cpu0 = machine.newCpu();
        final Cpu cpu1 = machine.newCpu();
        final Cpu bystander = machine.newCpu();
        runOn(() -> {
            cpu0.switchMm(mm);
            assertNotEquals(-1, cpu0.load(VA));
        });
        runOn(() -> {
            cpu1.switchMm(mm);
            assertNotEquals(-1, cpu1.load(VA));
            cpu1.switchMm(other); // lazy: still in mm's cpumask, its TLB entry not yet flushed here
            cpu1.mmu().flushRange(other, 0, 0); // nothing
        });
        runOn(() -> bystander.switchMm(other));
        assertTrue(TlbArch.cached(cpu0, VA));
        TlbFlush.flushTlbRange(mm, VA, VA + Pfn.PAGE_SIZE);
        assertFalse(TlbArch.cached(cpu0, VA));
        assertEquals(1, cpu0.remoteFlushesReceived());
        assertEquals(1, cpu1.remoteFlushesReceived(), "the lazy CPU is shot down too (TLB-08)");
        assertEquals(0, bystander.remoteFlushesReceived());
        assertEquals(1, machine.vmstat().get(VmEvent.NR_TLB_REMOTE_FLUSH));
        assertEquals(2, machine.vmstat().get(VmEvent.NR_TLB_REMOTE_FLUSH_RECEIVED));
    }

    @Test
    void localFlushIsCountedPerPageUpToTheCeilingThenAsAll() {
        final TlbArch arch = new TlbArch();
        final Machine machine = TlbArch.machine(arch, 64);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm); // this thread is now running cpu
        TlbFlush.flushTlbRange(mm, VA, VA + 3 * Pfn.PAGE_SIZE);
        assertEquals(3, machine.vmstat().get(VmEvent.NR_TLB_LOCAL_FLUSH_ONE));
        TlbFlush.flushTlbRange(mm, VA, VA + 100 * Pfn.PAGE_SIZE);
        TlbFlush.flushTlbMm(mm);
        assertEquals(2, machine.vmstat().get(VmEvent.NR_TLB_LOCAL_FLUSH_ALL));
        assertEquals(0, machine.vmstat().get(VmEvent.NR_TLB_REMOTE_FLUSH));
        assertEquals(3, cpu.localFlushes());
    }

    @Test
    void anAccessInFlightCannotCompleteAfterFlushReturns() throws Exception {
        final TlbArch arch = new TlbArch();
        final Machine machine = TlbArch.machine(arch, 64);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long pfn = map(mm, VA);
        final Cpu cpu1 = machine.newCpu();
        final CountDownLatch translated = new CountDownLatch(1);
        final CountDownLatch proceed = new CountDownLatch(1);
        final AtomicBoolean armed = new AtomicBoolean(true);
        arch.afterTranslate = va -> {
            if (armed.compareAndSet(true, false)) {
                translated.countDown();
                await(proceed);
            }
        };
        final AtomicInteger firstStore = new AtomicInteger(-1);
        final AtomicInteger secondStore = new AtomicInteger(-1);
        final Thread user = new Thread(() -> {
            cpu1.switchMm(mm);
            firstStore.set(cpu1.store(VA, (byte) 42)); // pauses after translating, before storing
            secondStore.set(cpu1.store(VA, (byte) 43)); // after the munmap: must fault
        });
        user.start();
        await(translated);

        // CPU0 (this side): zap the PTE and shoot down; then look at the frame.
        final CountDownLatch flushReturned = new CountDownLatch(1);
        final AtomicInteger seenAfterFlush = new AtomicInteger(-1);
        final Thread munmap = new Thread(() -> {
            final MmuGather tlb = new MmuGather(mm);
            mm.pageTables().zapRange(VA, VA + Pfn.PAGE_SIZE, PageTables.ZAP_FLAG_DROP_MARKER, tlb);
            TlbFlush.flushTlbRange(mm, VA, VA + Pfn.PAGE_SIZE);
            // The in-flight store must already be visible: it completed before the flush returned.
            seenAfterFlush.set(machine.memory().getByte(Pfn.physAddr(pfn)));
            flushReturned.countDown();
            tlb.finish();
        });
        munmap.start();
        // While the access is held inside its bracket, the shootdown must not return. (A broken
        // implementation returns at once; a correct one never does, so this wait always times out.)
        assertFalse(flushReturned.await(200, TimeUnit.MILLISECONDS), "flush returned while an access was in flight");
        proceed.countDown();
        munmap.join();
        user.join();
        assertEquals(42, seenAfterFlush.get());
        assertEquals(SigInfo.OK, firstStore.get());
        assertEquals(SigInfo.SEGV_MAPERR_SIG, secondStore.get(), "no stale translation after the flush");
        assertEquals(0, machine.frames().refcount(pfn), "the frame was freed after the flush");
    }

    private static void await(final CountDownLatch latch) {
        try {
            latch.await();
        } catch (final InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
