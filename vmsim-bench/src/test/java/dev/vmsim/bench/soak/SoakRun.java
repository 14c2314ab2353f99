package dev.vmsim.bench.soak;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.MAP_SHARED;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One seed of the soak: {@link #MMS} address spaces on one machine, {@link #TASKS_PER_MM} tasks on
 * each (a thread with its own {@link Cpu}, so each has its own TLB, Task and lockdep state), and a
 * driver that draws every operation, its arguments and the task that runs it from the seed, hands it
 * to that task, waits for it, and validates every mm before the next.
 *
 * <p>Replay: the seed is the whole schedule. Operations run one at a time (the driver waits for
 * each), so threads never interleave inside an operation and the same seed gives the same run. Truly
 * concurrent interleavings are {@code MmStressTest}'s and the race tests' job; the soak's is
 * volume: every path of every system call, on both architectures' page-table formats, against
 * validate() after each step.
 *
 * <p>Invariants per operation: a store at page offset o writes sig(o), and a load sees 0 or sig(o)
 * (a page the address no longer maps would show other data); a failed access carries SEGV_MAPERR,
 * SEGV_ACCERR or SIGBUS; a system call returns its success value or an errno the arguments allow;
 * validate() of every mm passes (tree, map_count, total_vm, each PTE inside a VMA and writable only
 * if the VMA is, each mapped frame referenced, rss equal to the PTEs). At the end, munmap of every
 * window and exit_mmap bring the machine's allocated frames back to where they started.
 */
final class SoakRun implements AutoCloseable {
    static final int MMS = 2;
    static final int TASKS_PER_MM = 2;
    /** A system call or access that takes longer than this has hung: the soak fails with its seed. */
    static final long OP_BOUND_S = 30;

    private static final int WINDOW_PAGES = 48;
    private static final int MAX_RANGE_PAGES = 8;

    private final Machine machine;
    private final long seed;
    private final SplittableRandom rnd;
    private final long pageSize;
    private final long framesBaseline;
    private final MmStruct[] mms = new MmStruct[MMS];
    private final long[] windows = new long[MMS];
    private final ExecutorService[] tasks = new ExecutorService[MMS * TASKS_PER_MM];
    private final Cpu[] cpus = new Cpu[MMS * TASKS_PER_MM];
    private long operations;
    private String current = "setup";

    SoakRun(final Machine machine, final LockingMode mode, final long seed) throws Exception {
        this.machine = machine;
        this.seed = seed;
        this.rnd = new SplittableRandom(seed);
        this.pageSize = 1L << machine.arch().pageTableFormat().pageShift();
        this.framesBaseline = machine.frames().allocatedFrames();
        for (int m = 0; m < MMS; m++) {
            mms[m] = new MmStruct(machine, mode);
            windows[m] = mms[m].mmap(0, WINDOW_PAGES * pageSize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
            check(windows[m] > 0, "mmap of the window: " + windows[m]);
        }
        for (int t = 0; t < tasks.length; t++) {
            final int id = t;
            tasks[t] = Executors.newSingleThreadExecutor(r -> {
                final Thread th = new Thread(r, "soak-" + seed + "-task-" + id);
                th.setDaemon(true);
                return th;
            });
            final MmStruct mm = mms[t / TASKS_PER_MM];
            onTask(t, () -> {
                cpus[id] = machine.newCpu();
                cpus[id].switchMm(mm);
                return null;
            });
        }
    }

    /** sig(o): the byte every store writes at page offset o (bit 7 set, so never 0). */
    static byte sig(final long offset) {
        return (byte) (0x80 | ((offset * 37 + 11) & 0x7f));
    }

    long operations() {
        return operations;
    }

    /** Runs {@code n} operations, then tears every mm down and checks that no frame is lost. */
    void run(final long n) throws Exception {
        for (long i = 0; i < n; i++) {
            final int t = rnd.nextInt(tasks.length);
            final int m = t / TASKS_PER_MM;
            current = "op " + i + " on task " + t;
            step(t, mms[m], windows[m]);
            operations++;
            for (final MmStruct mm : mms) {
                mm.validate();
            }
        }
        current = "teardown";
        for (int m = 0; m < MMS; m++) {
            check(mms[m].munmap(windows[m], WINDOW_PAGES * pageSize) == 0, "munmap of the window");
            mms[m].validate();
            check(mms[m].anonRss() == 0 && mms[m].shmemRss() == 0, "rss after munmap of the window");
            final MmStruct mm = mms[m];
            // exit_mmap from a task of this mm: its CPUs may hold the mm's translations.
            onTask(m * TASKS_PER_MM, () -> {
                mm.exitMmap();
                return null;
            });
        }
        machine.vmscan().lruAddDrainAll(); // every CPU's lru_add batch gives its references back
        check(
                machine.frames().allocatedFrames() == framesBaseline,
                "frames lost: " + (machine.frames().allocatedFrames() - framesBaseline));
    }

    /** The advice of the guard-region, populate and wipe-on-fork step (FAULT-14, FAULT-15, ISO-01). */
    private static final int[] GUARD_AND_POPULATE = {
        Mman.MADV_GUARD_INSTALL,
        Mman.MADV_GUARD_REMOVE,
        Mman.MADV_POPULATE_READ,
        Mman.MADV_POPULATE_WRITE,
        Mman.MADV_WIPEONFORK,
        Mman.MADV_KEEPONFORK,
    };

    private void step(final int t, final MmStruct mm, final long window) throws Exception {
        final int r = rnd.nextInt(100);
        final int first = rnd.nextInt(WINDOW_PAGES);
        final int pages = 1 + rnd.nextInt(Math.min(MAX_RANGE_PAGES, WINDOW_PAGES - first));
        final long addr = window + first * pageSize;
        final long len = pages * pageSize;
        final long off = rnd.nextLong(pageSize);
        final int prot =
                rnd.nextInt(4) == 0 ? Mman.PROT_NONE : rnd.nextInt(3) == 0 ? PROT_READ : PROT_READ | PROT_WRITE;
        final boolean shared = rnd.nextInt(8) == 0;
        final int target = rnd.nextInt(WINDOW_PAGES - pages + 1);
        final long newLen = (1 + rnd.nextInt(Math.min(MAX_RANGE_PAGES, WINDOW_PAGES - first))) * pageSize;
        final Cpu cpu = cpus[t];
        if (r < 35) {
            current += ": store at 0x" + Long.toHexString(addr + off);
            onTask(t, () -> {
                final int s = cpu.store(addr + off, sig(off));
                if (s == SigInfo.OK) {
                    checkLoad(cpu, addr + off, off);
                } else {
                    checkSignal(s);
                }
                return null;
            });
        } else if (r < 60) {
            current += ": load at 0x" + Long.toHexString(addr + off);
            onTask(t, () -> {
                checkLoad(cpu, addr + off, off);
                return null;
            });
        } else if (r < 70) {
            current += ": mmap " + len + " at 0x" + Long.toHexString(addr) + (shared ? " shared" : "");
            final long ret = onTask(
                    t, () -> mm.mmap(addr, len, prot, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_FIXED));
            syscall(ret, addr, Errno.ENOMEM);
        } else if (r < 77) {
            current += ": munmap " + len + " at 0x" + Long.toHexString(addr);
            syscall(onTask(t, () -> (long) mm.munmap(addr, len)), 0);
        } else if (r < 85) {
            current += ": mprotect " + len + " at 0x" + Long.toHexString(addr) + " prot " + prot;
            syscall(onTask(t, () -> (long) mm.mprotect(addr, len, prot)), 0, Errno.ENOMEM);
        } else if (r < 90) {
            current += ": mremap in place 0x" + Long.toHexString(addr) + " " + len + " -> " + newLen;
            syscall(onTask(t, () -> mm.mremap(addr, len, newLen, 0, 0)), addr, Errno.EFAULT, Errno.ENOMEM);
        } else if (r < 95) {
            final long to = window + target * pageSize;
            if (target < first + pages && first < target + pages) {
                return; // overlapping source and target: EINVAL by definition
            }
            current += ": mremap move 0x" + Long.toHexString(addr) + " " + len + " to 0x" + Long.toHexString(to);
            syscall(
                    onTask(t, () -> mm.mremap(addr, len, len, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, to)),
                    to,
                    Errno.EFAULT,
                    Errno.ENOMEM);
        } else if (r < 97) {
            current += ": madvise(DONTNEED) " + len + " at 0x" + Long.toHexString(addr);
            syscall(onTask(t, () -> (long) mm.madvise(addr, len, Mman.MADV_DONTNEED)), 0, Errno.ENOMEM);
        } else if (r < 98) {
            final int advice = GUARD_AND_POPULATE[rnd.nextInt(GUARD_AND_POPULATE.length)];
            current += ": madvise(" + advice + ") " + len + " at 0x" + Long.toHexString(addr);
            // Guard markers zap data (a later load may see 0) and make accesses SEGV_MAPERR; populate
            // meets holes (ENOMEM), PROT_NONE or read-only VMAs (EINVAL) and guards (EFAULT).
            final long ret = onTask(t, () -> (long) mm.madvise(addr, len, advice));
            if (advice == Mman.MADV_POPULATE_READ || advice == Mman.MADV_POPULATE_WRITE) {
                syscall(ret, 0, Errno.ENOMEM, Errno.EINVAL, Errno.EFAULT);
            } else if (advice == Mman.MADV_WIPEONFORK) {
                syscall(ret, 0, Errno.ENOMEM, Errno.EINVAL); // EINVAL: a shared mapping
            } else {
                syscall(ret, 0, Errno.ENOMEM);
            }
        } else {
            current += ": fork";
            onTask(t, () -> {
                final MmStruct child = mm.fork();
                check(child != null, "fork failed");
                child.validate();
                child.exitMmap();
                return null;
            });
        }
    }

    private void checkLoad(final Cpu cpu, final long va, final long off) {
        final int v = cpu.load(va);
        if (v < 0) {
            checkSignal(cpu.lastSignal());
        } else {
            check(
                    v == 0 || (byte) v == sig(off),
                    "load at 0x" + Long.toHexString(va) + " saw 0x" + Integer.toHexString(v)
                            + ", which no store wrote at this offset");
        }
    }

    private void checkSignal(final int s) {
        check(allowedSignal(s), "unexpected " + SigInfo.describe(s));
    }

    /** The signals a soak access may raise: SEGV_MAPERR, SEGV_ACCERR or SIGBUS. */
    static boolean allowedSignal(final int s) {
        return s == SigInfo.SEGV_MAPERR_SIG || s == SigInfo.SEGV_ACCERR_SIG || s == SigInfo.BUS_ADRERR_SIG;
    }

    private void syscall(final long ret, final long ok, final int... allowed) {
        if (ret == ok) {
            return;
        }
        for (final int e : allowed) {
            if (ret == -e) {
                return;
            }
        }
        check(false, "returned " + ret);
    }

    private void check(final boolean ok, final String what) {
        if (!ok) {
            throw new AssertionError("seed " + seed + ", " + current + ": " + what);
        }
    }

    /** Runs {@code op} on task {@code t}'s thread and waits for it, at most {@link #OP_BOUND_S}. */
    private <T> T onTask(final int t, final Callable<T> op) throws Exception {
        try {
            return tasks[t].submit(op).get(OP_BOUND_S, TimeUnit.SECONDS);
        } catch (final ExecutionException e) {
            final Throwable c = e.getCause();
            throw new AssertionError("seed " + seed + ", " + current + ": " + c, c);
        } catch (final TimeoutException e) {
            throw new AssertionError("seed " + seed + ", " + current + ": did not finish in " + OP_BOUND_S + " s");
        }
    }

    @Override
    public void close() {
        for (final ExecutorService e : tasks) {
            if (e != null) {
                e.shutdownNow();
            }
        }
    }
}
