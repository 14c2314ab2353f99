package dev.vmsim.core.race;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static dev.vmsim.core.race.RaceSupport.await;
import static dev.vmsim.core.race.RaceSupport.awaitState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.cpu.TlbArch;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.phys.Pfn;
import dev.vmsim.core.race.RaceSupport.Task;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;

/**
 * TLB coherence across munmap and mprotect (catalogue I.7 TLB-01, TLB-02, FAULT-06) on the test
 * architecture with a real per-CPU TLB ({@link TlbArch}). Its fault handler never resolves a fault, so the one
 * page is mapped by hand as do_anonymous_page maps a written page (writable, dirty, one map count,
 * one page of anon rss).
 */
class TlbRaceTest {
    private static final int PAGE = 4096;

    /** Maps a fresh writable, dirty anonymous page at {@code va} in its (private, writable) VMA; the pfn. */
    private static long mapWrittenPage(final MmStruct mm, final long va) {
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final Vma vma = mm.vmaLookup(va);
        final long pfn = mm.machine().frames().allocZeroed(0);
        mm.machine().frames().incMapcount(pfn);
        mm.addAnonRss(1);
        pt.setPte(pt.ptePa(va, true), fmt.pteMkdirty(fmt.pteMkwrite(fmt.pfnPte(pfn, vma.vmPageProt))));
        return pfn;
    }

    /** A TLB test machine whose mm has one written anonymous page mapped at {@code va} (frame {@code pfn}). */
    private record OnePage(TlbArch arch, Machine machine, MmStruct mm, long va, long pfn) {
        static OnePage written() {
            final TlbArch arch = new TlbArch();
            final Machine machine = TlbArch.machine(arch, 256);
            final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
            final long va = mm.mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            return new OnePage(arch, machine, mm, va, mapWrittenPage(mm, va));
        }
    }

    private static int byteAt(final Machine machine, final long pfn) {
        return machine.memory().getByte(Pfn.physAddr(pfn));
    }

    /** Whether {@code t} is the shootdown initiator spinning for a target's in-flight access. */
    /**
     * A TlbArch hook that, the first time thread "cpu1" passes it, opens {@code reached} and parks
     * until {@code release} opens; every later pass (and every other thread) goes straight through.
     */
    private static LongConsumer parkCpu1Once(
            final CountDownLatch reached, final CountDownLatch release, final String what) {
        final AtomicBoolean armed = new AtomicBoolean(true);
        return va -> {
            if (Thread.currentThread().getName().equals("cpu1") && armed.compareAndSet(true, false)) {
                reached.countDown();
                await(release, what);
            }
        };
    }

    private static boolean inShootdownWait(final Thread t) {
        for (final StackTraceElement f : t.getStackTrace()) {
            if (f.getMethodName().equals("waitForAccessToDrain")) {
                return true;
            }
        }
        return false;
    }

    /** TLB-02: CPU1 cached a writable translation; after CPU0's mprotect(PROT_READ) returns, CPU1's store is ACCERR. */
    @Test
    void storeAfterMprotectReadOnlyIsAccErrDespiteTheCachedTranslation() throws Exception {
        final OnePage p = OnePage.written();
        final TlbArch arch = p.arch();
        final Machine machine = p.machine();
        final MmStruct mm = p.mm();
        final long a = p.va();
        final long pfn = p.pfn();
        final CountDownLatch cached = new CountDownLatch(1);
        final CountDownLatch mprotected = new CountDownLatch(1);
        final AtomicInteger second = new AtomicInteger(-1);
        final AtomicInteger load = new AtomicInteger(-1);
        final Cpu cpu1 = machine.newCpu();
        final Task user = new Task("cpu1", () -> {
            cpu1.switchMm(mm);
            assertEquals(SigInfo.OK, cpu1.store(a, (byte) 1));
            assertTrue(TlbArch.cached(cpu1, a), "the writable translation is cached");
            cached.countDown();
            await(mprotected, "mprotect");
            second.set(cpu1.store(a, (byte) 2));
            load.set(cpu1.load(a));
        });
        await(cached, "CPU1's first store");
        final Cpu cpu0 = machine.newCpu();
        cpu0.switchMm(mm);
        assertEquals(0, mm.mprotect(a, PAGE, PROT_READ));
        assertFalse(TlbArch.cached(cpu1, a), "the shootdown reached CPU1");
        assertTrue(cpu1.remoteFlushesReceived() >= 1);
        mprotected.countDown();
        user.join(mm);
        assertEquals(SigInfo.SEGV_ACCERR_SIG, second.get());
        assertEquals(1, load.get(), "still readable");
        assertEquals(1, byteAt(machine, pfn), "no write landed after mprotect returned");
        mm.validate();
    }

    /**
     * FAULT-06: a store that translated through the writable entry and is still in flight when
     * mprotect's shootdown runs lands before mprotect returns (the shootdown waits for it), and the
     * next store faults SEGV_ACCERR.
     */
    @Test
    void storeInFlightDuringMprotectLandsBeforeItReturns() throws Exception {
        final OnePage p = OnePage.written();
        final TlbArch arch = p.arch();
        final Machine machine = p.machine();
        final MmStruct mm = p.mm();
        final long a = p.va();
        final long pfn = p.pfn();
        final CountDownLatch translated = new CountDownLatch(1);
        final CountDownLatch proceed = new CountDownLatch(1);
        arch.afterTranslate = parkCpu1Once(translated, proceed, "the test's release of CPU1");
        final CountDownLatch mprotected = new CountDownLatch(1);
        final AtomicInteger first = new AtomicInteger(-1);
        final AtomicInteger second = new AtomicInteger(-1);
        final Cpu cpu1 = machine.newCpu();
        final Task user = new Task("cpu1", () -> {
            cpu1.switchMm(mm);
            first.set(cpu1.store(a, (byte) 42)); // parks after translating, before storing
            await(mprotected, "mprotect");
            second.set(cpu1.store(a, (byte) 43));
        });
        await(translated, "CPU1 inside its store");
        final AtomicInteger seenAtReturn = new AtomicInteger(-1);
        final Task mprotect = new Task("mprotect", () -> {
            assertEquals(0, mm.mprotect(a, PAGE, PROT_READ));
            seenAtReturn.set(byteAt(machine, pfn));
        });
        awaitState("mprotect's shootdown waiting for CPU1", () -> inShootdownWait(mprotect.thread), mm);
        assertFalse(mprotect.finished(), "mprotect cannot return while CPU1's store is in flight");
        proceed.countDown();
        mprotect.join(mm);
        mprotected.countDown();
        user.join(mm);
        assertEquals(SigInfo.OK, first.get());
        assertEquals(42, seenAtReturn.get(), "the in-flight store landed before mprotect returned");
        assertEquals(SigInfo.SEGV_ACCERR_SIG, second.get(), "no store lands after mprotect returned");
        assertEquals(42, byteAt(machine, pfn));
    }

    /**
     * TLB-01: CPU1 has the translation cached; after CPU0's munmap returns, CPU1's load is
     * SEGV_MAPERR, and the frame was still allocated (so not reusable) while the shootdown ran; it
     * is freed only after.
     */
    @Test
    void loadAfterMunmapIsMapErrAndTheFrameIsFreedOnlyAfterTheFlush() throws Exception {
        final Munmapped m = replayMunmapUnderACachedTranslation();
        assertTrue(
                m.refcountDuringFlush >= 1,
                "the frame was still held while CPUs were being flushed: " + m.refcountDuringFlush);
        assertEquals(SigInfo.SEGV_MAPERR_SIG, m.after);
    }

    /**
     * BUG-11 reintroduced: tlb_flush_mmu frees the gathered frames before the shootdown. While the
     * CPUs are being flushed the frame is already back in the allocator (reusable by anyone) and
     * CPU1's TLB still maps it: a write through that entry would land in the next owner's page.
     */
    @Test
    void bug11SwitchFreesTheFrameWhileAnotherCpuStillMapsIt() throws Exception {
        try (var bug = BugSwitches.reintroduce(Bug.BUG_11)) {
            final Munmapped m = replayMunmapUnderACachedTranslation();
            assertEquals(0, m.refcountDuringFlush, "the frame was free while CPU1's TLB still mapped it");
            assertTrue(m.cpu1CachedWhenFreed, "CPU1 held the translation when the frame went back");
        }
    }

    private record Munmapped(int refcountDuringFlush, boolean cpu1CachedWhenFreed, int after) {}

    /** CPU1 caches the page; CPU0 munmaps it; CPU1 loads again. The frame's refcount at the first flush. */
    private Munmapped replayMunmapUnderACachedTranslation() throws Exception {
        final OnePage p = OnePage.written();
        final TlbArch arch = p.arch();
        final Machine machine = p.machine();
        final MmStruct mm = p.mm();
        final long a = p.va();
        final long pfn = p.pfn();
        final CountDownLatch cached = new CountDownLatch(1);
        final CountDownLatch unmapped = new CountDownLatch(1);
        final AtomicInteger after = new AtomicInteger(-1);
        final Cpu cpu1 = machine.newCpu();
        final Task user = new Task("cpu1", () -> {
            cpu1.switchMm(mm);
            assertEquals(0, cpu1.load(a));
            cached.countDown();
            await(unmapped, "munmap");
            after.set(cpu1.load(a) < 0 ? cpu1.lastSignal() : SigInfo.OK);
        });
        await(cached, "CPU1's load");
        assertTrue(TlbArch.cached(cpu1, a));
        final AtomicInteger refcountDuringFlush = new AtomicInteger(-1);
        final java.util.concurrent.atomic.AtomicBoolean cpu1Cached = new java.util.concurrent.atomic.AtomicBoolean();
        arch.beforeFlush = () -> {
            if (refcountDuringFlush.compareAndSet(-1, machine.frames().refcount(pfn))) {
                cpu1Cached.set(TlbArch.cached(cpu1, a)); // the first CPU flush has not run yet
            }
        };
        assertEquals(0, mm.munmap(a, PAGE));
        unmapped.countDown();
        user.join(mm);
        assertEquals(0, machine.frames().refcount(pfn), "freed after munmap");
        assertFalse(TlbArch.cached(cpu1, a));
        assertEquals(0, mm.anonRss());
        mm.validate();
        return new Munmapped(refcountDuringFlush.get(), cpu1Cached.get(), after.get());
    }

    /**
     * TLB-02 with a fill that completes after the shootdown invalidated the target: CPU1's walk read
     * the writable PTE just before mprotect cleared RW, and its TLB fill happens while mprotect's
     * shootdown is already running. On hardware the flush runs on CPU1 itself, between
     * instructions, so it also removes that late fill; the simulated shootdown must too: after
     * mprotect returns, CPU1's next store must fault SEGV_ACCERR.
     */
    @Test
    void aTlbFillFromAWalkThatRacedTheShootdownDoesNotSurviveIt() throws Exception {
        final OnePage p = OnePage.written();
        final TlbArch arch = p.arch();
        final Machine machine = p.machine();
        final MmStruct mm = p.mm();
        final long a = p.va();
        final long pfn = p.pfn();
        final CountDownLatch walked = new CountDownLatch(1);
        final CountDownLatch fill = new CountDownLatch(1);
        arch.afterWalk = parkCpu1Once(walked, fill, "the test's release of CPU1's TLB fill");
        final CountDownLatch mprotected = new CountDownLatch(1);
        final AtomicInteger first = new AtomicInteger(-1);
        final AtomicInteger second = new AtomicInteger(-1);
        final Cpu cpu1 = machine.newCpu();
        final Task user = new Task("cpu1", () -> {
            cpu1.switchMm(mm);
            first.set(cpu1.store(a, (byte) 1)); // walks (writable), parks before the fill
            await(mprotected, "mprotect");
            second.set(cpu1.store(a, (byte) 2));
        });
        await(walked, "CPU1's walk");
        final Task mprotect = new Task("mprotect", () -> assertEquals(0, mm.mprotect(a, PAGE, PROT_READ)));
        awaitState("mprotect's shootdown waiting for CPU1", () -> inShootdownWait(mprotect.thread), mm);
        fill.countDown();
        mprotect.join(mm);
        mprotected.countDown();
        user.join(mm);
        assertEquals(SigInfo.OK, first.get(), "the store that walked before mprotect lands (before it returns)");
        assertEquals(SigInfo.SEGV_ACCERR_SIG, second.get(), "a stale writable TLB entry survived the shootdown");
        assertFalse(TlbArch.cachedWritable(cpu1, a), "no writable translation of the page survives mprotect");
        assertEquals(1, byteAt(machine, pfn), "no write landed after mprotect returned");
    }
}
