package dev.vmsim.core.vmscan;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static dev.vmsim.core.testing.Faults.writeFault;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Faults, munmap, fork and exit racing direct reclaim and kswapd on a machine smaller than the
 * working set, for a bounded number of rounds; afterwards the machine must validate: every frame
 * accounted for, every mapped anonymous folio's mapcount equal to the PTEs rmap finds, every
 * anon_vma chain consistent. Pages are faulted once and never touched again, so no access meets a
 * swap PTE (do_swap_page is not this layer's).
 */
class ReclaimStressTest {
    private static final long PAGE = 4096;
    private static final int ROUNDS = 150;

    @Test
    @Timeout(120)
    void faultsMunmapForkAndReclaimLeaveTheMachineConsistent() throws Exception {
        final Machine machine = TestArch.machine(512);
        final FakeSwap swap = new FakeSwap(machine, false, 1 << 20);
        machine.setSwapBackend(swap);
        final MmStruct parent = new MmStruct(machine, LockingMode.PER_VMA);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CountDownLatch start = new CountDownLatch(1);
        final List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            final long seed = t;
            threads.add(new Thread(() -> run(failure, start, () -> faulter(parent, seed)), "faulter-" + t));
        }
        threads.add(new Thread(() -> run(failure, start, () -> forker(parent)), "forker"));
        final List<Thread> faulters = List.copyOf(threads);
        threads.add(new Thread(() -> run(failure, start, () -> reclaimer(machine, faulters)), "reclaimer"));
        threads.forEach(Thread::start);
        start.countDown();
        for (final Thread t : threads) {
            t.join(100_000);
            assertTrue(!t.isAlive(), t.getName() + " still running");
        }
        if (failure.get() != null) {
            throw new AssertionError("a thread failed", failure.get());
        }
        assertTrue(machine.vmscan().kswapd().quiesce(10_000));
        assertTrue(
                machine.vmstat().get(VmEvent.PGSTEAL_KSWAPD) + machine.vmstat().get(VmEvent.PGSTEAL_DIRECT) > 0,
                "a working set larger than memory made reclaim free something");
        machine.validate();
        parent.exitMmap();
        machine.validate();
        machine.close();
    }

    private interface Body {
        void run() throws Exception;
    }

    private static void run(final AtomicReference<Throwable> failure, final CountDownLatch start, final Body body) {
        try {
            start.await();
            body.run();
        } catch (final Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    /** Maps a region, writes each page once, and unmaps some regions again: about 340 pages stay mapped per thread, so the two need more than the machine's 512 frames. */
    private static void faulter(final MmStruct mm, final long seed) {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final List<long[]> mapped = new ArrayList<>();
        for (int r = 0; r < ROUNDS; r++) {
            final int pages = 1 + rnd.nextInt(16);
            final long a = mm.mmap(0, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            if (a <= 0) {
                throw new AssertionError("mmap " + a);
            }
            for (int i = 0; i < pages; i++) {
                final int ret = writeFault(mm, a + i * PAGE);
                if (ret != 0) {
                    throw new AssertionError("fault returned " + ret);
                }
            }
            mapped.add(new long[] {a, pages});
            if (mapped.size() > 40 || rnd.nextInt(4) == 0) {
                final long[] victim = mapped.remove(rnd.nextInt(mapped.size()));
                if (mm.munmap(victim[0], victim[1] * PAGE) != 0) {
                    throw new AssertionError("munmap");
                }
            }
        }
    }

    /** fork and exit: anon_vma_fork, copy_page_range, zap and unlink_anon_vmas against reclaim's walks. */
    private static void forker(final MmStruct parent) {
        for (int r = 0; r < ROUNDS / 3; r++) {
            final MmStruct child = parent.fork();
            if (child != null) {
                child.exitMmap();
            }
        }
    }

    /** Direct reclaim and active-list aging for as long as the others run (a bounded number of passes). */
    private static void reclaimer(final Machine machine, final List<Thread> others) {
        final Vmscan vmscan = machine.vmscan();
        for (int r = 0; r < 100 * ROUNDS && others.stream().anyMatch(Thread::isAlive); r++) {
            vmscan.tryToFreePages(3);
            vmscan.shrinkActiveList(ScanControl.SWAP_CLUSTER_MAX, new ScanControl(false, 3));
        }
    }
}
