package dev.vmsim.core.swap;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.testing.Pages;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A bounded stress run on the host clock: after real reclaim swapped part of an mm out, faulting
 * threads read and rewrite its pages while swapoff empties the device. Afterwards every page holds
 * its data, no swap entry is left, and the mm, rmap and frame invariants hold.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SwapoffStressTest {
    private static final long PAGE = 4096;
    private static final int PAGES = 500;
    private static final int FAULTERS = 2;
    private static final int ROUNDS = 2000;

    @ParameterizedTest
    @EnumSource(
            value = LockingMode.class,
            names = {"MMAP_ONLY", "PER_VMA"})
    void faultsDuringSwapoffKeepDataAndInvariants(final LockingMode mode) throws Exception {
        final Machine machine = TestArch.machine(1024);
        try {
            final Swap swap = machine.swapon(new SwapParams(4096, 20_000, 20_000, 8, 2));
            final MmStruct mm = new MmStruct(machine, mode);
            final Cpu main = machine.newCpu();
            final long a = Pages.mapAndFill(main, mm, PAGES);
            final MmStruct hog = new MmStruct(machine, mode);
            main.switchMm(hog);
            final long h = hog.mmap(0, 700 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            for (int p = 0; p < 700; p++) {
                assertEquals(SigInfo.OK, main.store(h + p * PAGE, (byte) 1));
            }
            main.switchMm(mm);
            hog.exitMmap();
            assertTrue(mm.swapEnts() > 0, "reclaim swapped part of the mm out");

            final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            final AtomicBoolean swapoffDone = new AtomicBoolean();
            final List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < FAULTERS; t++) {
                final int seed = t;
                threads.add(new Thread(
                        () -> {
                            try {
                                final Cpu cpu = machine.newCpu();
                                cpu.switchMm(mm);
                                final Random r = new Random(seed);
                                for (int i = 0; i < ROUNDS || !swapoffDone.get(); i++) { // overlap the whole swapoff
                                    final int p = r.nextInt(PAGES);
                                    final long va = a + p * PAGE;
                                    assertEquals((p + 1) & 0xff, cpu.load(va), "page " + p);
                                    if (r.nextInt(4) == 0) {
                                        assertEquals(SigInfo.OK, cpu.store(va, (byte) (p + 1)));
                                    }
                                }
                            } catch (Throwable e) {
                                failures.add(e);
                            }
                        },
                        "faulter-" + t));
            }
            threads.forEach(Thread::start);
            final int ret = machine.swapoff();
            swapoffDone.set(true);
            for (final Thread t : threads) {
                t.join(60_000);
            }
            assertTrue(failures.isEmpty(), () -> "faulter failed: " + failures.peek());
            assertEquals(0, ret);
            assertNull(machine.swap());
            assertEquals(0, swap.info().inusePages());
            assertEquals(0, mm.swapEnts());
            assertTrue(machine.vmstat().get(VmEvent.PSWPIN) > 0);
            machine.validate();
            for (int p = 0; p < PAGES; p++) {
                assertEquals((p + 1) & 0xff, main.load(a + p * PAGE), "page " + p);
            }
            mm.exitMmap();
        } finally {
            machine.close();
        }
    }
}
