package dev.vmsim.core.stress;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.MAP_SHARED;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.sync.Lockdep;
import dev.vmsim.core.testing.TestArch;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Bounded concurrent stress of one mm (catalogue I.3, I.7): {@link #THREADS} threads, each on its
 * own {@link Cpu}, run random mmap(MAP_FIXED) / munmap / mprotect / mremap / madvise (DONTNEED, and
 * rarely GUARD_INSTALL, GUARD_REMOVE, POPULATE_READ, POPULATE_WRITE, WIPEONFORK, KEEPONFORK)
 * and loads/stores inside one small shared window, and now and then a fork whose child is checked
 * and torn down at once, so the system calls split, merge and move each
 * other's VMAs under the faults. Lockdep is on (surefire's -Dvmsim.lockdep=true) and a
 * {@link Watchdog} fails the run, with a thread dump and the lock state, if any operation takes
 * longer than {@link #BOUND_S} s.
 *
 * <p>Per-access invariant: every store at page offset {@code o} writes {@link #sig}(o); mremap
 * moves whole pages, so offsets survive, and a successful load at offset {@code o} must see 0 (a
 * fresh or zero page) or sig(o). Anything else is data from a page this address no longer maps (a
 * freed and reused frame, a page-table page, another offset's data). Failed accesses must carry a
 * signal the layout allows (SEGV_MAPERR, SEGV_ACCERR, or SIGBUS beyond a shared mapping's size).
 *
 * <p>After the run: validate_mm; every present PTE in the window maps a frame whose mapcount equals
 * the PTEs mapping it and whose refcount covers them; rss equals the present PTEs; munmap of the
 * window brings rss to 0 and map_count back to the empty mm's; exit_mmap brings the allocated
 * frames back to the machine's count before the mm was created (no lost frames).
 */
class MmStressTest {
    private static final int PAGE = 4096;
    private static final int THREADS = 4;
    private static final int WINDOW_PAGES = 32;
    private static final int MAX_RANGE_PAGES = 6;
    /** Operations per worker: a fixed budget, so a run does the same work on any machine. */
    private static final long OPS = Long.getLong("vmsim.stress.ops", 6_000);

    private static final long BOUND_S = 10;

    /** The signature byte every store writes at page offset {@code o} (bit 7 set, so never 0). */
    static byte sig(final long offset) {
        return (byte) (0x80 | ((offset * 37 + 11) & 0x7f));
    }

    @ParameterizedTest
    @EnumSource(LockingMode.class)
    void randomSyscallsAndFaultsOnOneMm(final LockingMode mode) throws Exception {
        assertTrue(Lockdep.ENABLED, "the stress test runs with lockdep (surefire sets -Dvmsim.lockdep=true)");
        final Machine machine = TestArch.machine(8192);
        final long framesBaseline = machine.frames().allocatedFrames();
        final MmStruct mm = new MmStruct(machine, mode);
        final int emptyMapCount = mm.mapCount();
        final long window = mm.mmap(0, (long) WINDOW_PAGES * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(window > 0, "mmap of the window: " + window);

        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Counters counters = new Counters();
        final CyclicBarrier start = new CyclicBarrier(THREADS);
        final Thread[] workers = new Thread[THREADS];
        try (Watchdog wd = new Watchdog(BOUND_S, TimeUnit.SECONDS, mm)) {
            for (int t = 0; t < THREADS; t++) {
                final long seed = 0x5eed_0000L + 31L * t + mode.ordinal();
                workers[t] = new Thread(
                        () -> {
                            try {
                                final Cpu cpu = machine.newCpu();
                                cpu.switchMm(mm);
                                start.await();
                                new Worker(mm, cpu, window, new SplittableRandom(seed), wd, counters).run(stop);
                            } catch (final Throwable e) {
                                failure.compareAndSet(null, e);
                                stop.set(true);
                            }
                        },
                        "stress-" + mode + "-" + t);
                workers[t].setDaemon(true); // a hung worker must not keep the JVM alive after the failure
                workers[t].start();
            }
            // Each worker stops after OPS operations (or at the first failure); the watchdog bounds the wait.
            for (final Thread w : workers) {
                wd.join(w);
            }
            stop.set(true);
            wd.check();
        }
        if (failure.get() != null) {
            throw new AssertionError("worker failed in " + mode + " (" + counters + ")", failure.get());
        }
        // The run did collide: system calls and faults both succeeded many times.
        assertTrue(counters.syscallsOk.sum() > 100, counters.toString());
        assertTrue(counters.storesOk.sum() > 100 && counters.loadsNonZero.sum() > 0, counters.toString());
        assertTrue(machine.vmstat().get(VmEvent.PGFAULT) > 100, "faults were taken");
        assertTrue(counters.forks.sum() > 0, counters.toString());

        mm.validate();
        checkPagesAndRss(machine, mm, window);
        assertEquals(0, mm.munmap(window, (long) WINDOW_PAGES * PAGE));
        mm.validate();
        assertEquals(emptyMapCount, mm.mapCount(), "only the vDSO is left");
        assertEquals(0, mm.anonRss(), "anon rss after munmap of everything");
        assertEquals(0, mm.shmemRss(), "shmem rss after munmap of everything");
        mm.exitMmap();
        machine.validate(); // every frame accounted for, the lru_add batches of the workers' CPUs included
        machine.vmscan().lruAddDrainAll(); // those batches still hold their folios, as a kernel's do
        assertEquals(framesBaseline, machine.frames().allocatedFrames(), "frames lost (" + counters + ")");
    }

    /**
     * Every present, non-special PTE in the window: mapcount == the PTEs mapping the frame, refcount
     * covers them; rss matches the present PTEs.
     */
    private static void checkPagesAndRss(final Machine machine, final MmStruct mm, final long window) {
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final Map<Long, Integer> maps = new HashMap<>();
        long present = 0;
        for (long va = window; va < window + (long) WINDOW_PAGES * PAGE; va += PAGE) {
            final long pa = pt.ptePa(va, false);
            final long e = pa < 0 ? 0 : pt.readPte(pa);
            if (!fmt.ptePresent(e) || fmt.pteSpecial(e)) {
                continue;
            }
            assertTrue(mm.vmaLookup(va) != null, "a present PTE outside any VMA at 0x" + Long.toHexString(va));
            present++;
            maps.merge(fmt.pfn(e), 1, Integer::sum);
        }
        for (final var m : maps.entrySet()) {
            final long pfn = m.getKey();
            assertEquals((int) m.getValue(), machine.frames().mapcount(pfn), "mapcount of pfn " + pfn);
            assertTrue(machine.frames().refcount(pfn) >= m.getValue(), "refcount of pfn " + pfn);
        }
        assertEquals(present, mm.anonRss() + mm.shmemRss(), "rss vs present PTEs");
    }

    /** What the run did (to show the threads collided, and for failure messages). */
    static final class Counters {
        final LongAdder syscallsOk = new LongAdder();
        final LongAdder syscallsFailed = new LongAdder();
        final LongAdder storesOk = new LongAdder();
        final LongAdder loadsNonZero = new LongAdder();
        final LongAdder signals = new LongAdder();
        final LongAdder forks = new LongAdder();

        @Override
        public String toString() {
            return "syscalls ok=" + syscallsOk + " failed=" + syscallsFailed + ", stores ok=" + storesOk
                    + ", loads of data=" + loadsNonZero + ", signals=" + signals + ", forks=" + forks;
        }
    }

    /** One thread's random walk over the window. */
    private static final class Worker {
        private final MmStruct mm;
        private final Cpu cpu;
        private final long window;
        private final SplittableRandom rnd;
        private final Watchdog wd;
        private final Counters c;

        Worker(
                final MmStruct mm,
                final Cpu cpu,
                final long window,
                final SplittableRandom rnd,
                final Watchdog wd,
                final Counters c) {
            this.mm = mm;
            this.cpu = cpu;
            this.window = window;
            this.rnd = rnd;
            this.wd = wd;
            this.c = c;
        }

        void run(final AtomicBoolean stop) {
            for (long i = 0; i < OPS && !stop.get(); i++) {
                final int r = rnd.nextInt(100);
                if (r < 35) {
                    store();
                } else if (r < 65) {
                    load();
                } else if (r < 74) {
                    mmap();
                } else if (r < 80) {
                    munmap();
                } else if (r < 88) {
                    mprotect();
                } else if (r < 94) {
                    mremap();
                } else if (r < 99) {
                    madvise();
                } else {
                    fork();
                }
            }
        }

        private long page(final int p) {
            return window + (long) p * PAGE;
        }

        /** A random page range [first, first + n) inside the window: {first, n}. */
        private int[] range() {
            final int first = rnd.nextInt(WINDOW_PAGES);
            final int n = 1 + rnd.nextInt(Math.min(MAX_RANGE_PAGES, WINDOW_PAGES - first));
            return new int[] {first, n};
        }

        private void store() {
            final long off = rnd.nextInt(PAGE);
            final long va = page(rnd.nextInt(WINDOW_PAGES)) + off;
            wd.begin("store", va);
            final int s = cpu.store(va, sig(off));
            wd.end();
            if (s == SigInfo.OK) {
                c.storesOk.increment();
                // Read it back: usually our own byte, unless another thread replaced the page meanwhile.
                loadAt(va, off);
            } else {
                checkSignal(s, "store", va);
            }
        }

        private void load() {
            final long off = rnd.nextInt(PAGE);
            loadAt(page(rnd.nextInt(WINDOW_PAGES)) + off, off);
        }

        private void loadAt(final long va, final long off) {
            wd.begin("load", va);
            final int v = cpu.load(va);
            wd.end();
            if (v < 0) {
                checkSignal(cpu.lastSignal(), "load", va);
                return;
            }
            if (v != 0) {
                c.loadsNonZero.increment();
                if ((byte) v != sig(off)) {
                    throw new AssertionError("load at 0x" + Long.toHexString(va) + " saw 0x" + Integer.toHexString(v)
                            + ", which no store wrote at this offset (expected 0 or 0x"
                            + Integer.toHexString(sig(off) & 0xff) + ")");
                }
            }
        }

        private void checkSignal(final int s, final String what, final long va) {
            c.signals.increment();
            if (s != SigInfo.SEGV_MAPERR_SIG && s != SigInfo.SEGV_ACCERR_SIG && s != SigInfo.BUS_ADRERR_SIG) {
                throw new AssertionError(
                        what + " at 0x" + Long.toHexString(va) + ": unexpected " + SigInfo.describe(s));
            }
        }

        private int prot() {
            switch (rnd.nextInt(4)) {
                case 0:
                    return Mman.PROT_NONE;
                case 1:
                    return PROT_READ;
                default:
                    return PROT_READ | PROT_WRITE;
            }
        }

        private void syscall(final String name, final long ret, final long ok, final int... allowedErrno) {
            if (ret == ok) {
                c.syscallsOk.increment();
                return;
            }
            for (final int e : allowedErrno) {
                if (ret == -e) {
                    c.syscallsFailed.increment();
                    return;
                }
            }
            throw new AssertionError(name + " returned " + ret);
        }

        private void mmap() {
            final int[] r = range();
            final int type = rnd.nextInt(8) == 0 ? MAP_SHARED : MAP_PRIVATE;
            final int prot = prot();
            wd.begin("mmap");
            final long a = mm.mmap(page(r[0]), (long) r[1] * PAGE, prot, type | MAP_ANONYMOUS | MAP_FIXED);
            wd.end();
            syscall("mmap", a, page(r[0]), Errno.ENOMEM);
        }

        private void munmap() {
            final int[] r = range();
            wd.begin("munmap");
            final int e = mm.munmap(page(r[0]), (long) r[1] * PAGE);
            wd.end();
            syscall("munmap", e, 0);
        }

        private void mprotect() {
            final int[] r = range();
            final int prot = prot();
            wd.begin("mprotect");
            final int e = mm.mprotect(page(r[0]), (long) r[1] * PAGE, prot);
            wd.end();
            syscall("mprotect", e, 0, Errno.ENOMEM); // ENOMEM: a hole in the range
        }

        /** MADV_DONTNEED most of the time; each other advice one call in ten. */
        private static final int[] ADVICE = {
            Mman.MADV_DONTNEED, Mman.MADV_DONTNEED, Mman.MADV_DONTNEED, Mman.MADV_DONTNEED,
            Mman.MADV_GUARD_INSTALL, Mman.MADV_GUARD_REMOVE, Mman.MADV_POPULATE_READ, Mman.MADV_POPULATE_WRITE,
            Mman.MADV_WIPEONFORK, Mman.MADV_KEEPONFORK,
        };

        private void madvise() {
            final int[] r = range();
            wd.begin("madvise");
            final int advice = ADVICE[rnd.nextInt(ADVICE.length)];
            final int e = mm.madvise(page(r[0]), (long) r[1] * PAGE, advice);
            wd.end();
            if (advice == Mman.MADV_POPULATE_READ || advice == Mman.MADV_POPULATE_WRITE) {
                syscall("madvise", e, 0, Errno.ENOMEM, Errno.EINVAL, Errno.EFAULT); // PROT_NONE, read-only, a guard
            } else if (advice == Mman.MADV_WIPEONFORK) {
                syscall("madvise", e, 0, Errno.ENOMEM, Errno.EINVAL); // EINVAL: a shared mapping
            } else {
                syscall("madvise", e, 0, Errno.ENOMEM);
            }
        }

        /** fork, then validate the child against its own page tables and tear it down at once. */
        private void fork() {
            wd.begin("fork");
            final MmStruct child = mm.fork();
            wd.end();
            if (child == null) {
                throw new AssertionError("fork failed");
            }
            c.forks.increment();
            // No writer knows the child, but the parent's lock-free readers may still hold VMA objects
            // the child reused (vm_area_dup from the typesafe-by-RCU cache) and raise their refcount.
            child.validateRacingStaleReaders();
            wd.begin("exit_mmap of a fork child");
            child.exitMmap();
            wd.end();
        }

        private void mremap() {
            final int[] r = range();
            final long old = page(r[0]);
            final long oldLen = (long) r[1] * PAGE;
            if (rnd.nextBoolean()) {
                // In place: shrink, or grow up to the end of the window.
                final int maxPages = WINDOW_PAGES - r[0];
                final long newLen = (long) (1 + rnd.nextInt(Math.min(maxPages, MAX_RANGE_PAGES))) * PAGE;
                wd.begin("mremap in place");
                final long a = mm.mremap(old, oldLen, newLen, 0, 0);
                wd.end();
                syscall("mremap", a, old, Errno.EFAULT, Errno.ENOMEM);
                return;
            }
            // Move to a non-overlapping target inside the window.
            final int target = rnd.nextInt(WINDOW_PAGES - r[1] + 1);
            if (target < r[0] + r[1] && r[0] < target + r[1]) {
                return; // overlapping: EINVAL by definition, not interesting
            }
            wd.begin("mremap move");
            final long a = mm.mremap(old, oldLen, oldLen, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, page(target));
            wd.end();
            syscall("mremap", a, page(target), Errno.EFAULT, Errno.ENOMEM);
        }
    }
}
