package dev.vmsim.bench.soak;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;

import dev.vmsim.bench.profile.CostModels;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.clock.SchedulePolicy;
import dev.vmsim.core.clock.VirtualScheduler;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import java.util.SplittableRandom;

/**
 * The soak's interleaved phase: {@link #TASKS} tasks on one mm run their system calls and accesses at
 * the same time, under the virtual clock with a seeded random schedule ({@link SchedulePolicy#random}):
 * at every preemption point (system-call entry, each lock hook, each park) the seed picks the task that
 * runs next. The seed therefore fixes the interleaving as well as the operations, and a failure
 * replays exactly; {@link #run} returns a fingerprint of the run (every result in completion order,
 * the scheduler's step count and the virtual time) that a second run of the seed must reproduce.
 *
 * <p>Checks: each access as it completes (a load sees 0 or sig(o), as in {@link SoakRun}; a failed
 * access raises SEGV_MAPERR, SEGV_ACCERR or SIGBUS), each system call's return against the errnos its
 * arguments allow; after the last task, validate(), munmap of the window, rss 0, exit_mmap, and the
 * machine's frames back to where they started. Operations overlap, so validate() runs at the end of
 * the phase rather than after each one (the sequential phase, {@link SoakRun}, does that).
 */
final class SoakInterleaved {
    static final int TASKS = 3;
    private static final int WINDOW_PAGES = 32;
    private static final int MAX_RANGE_PAGES = 6;

    private final Arch arch;
    private final LockingMode mode;
    private final long seed;
    private final int opsPerTask;
    /** The fingerprint; touched only by the task holding the scheduler's baton (one at a time). */
    private long fingerprint = 1;

    private int finished;
    private volatile Throwable failure;

    SoakInterleaved(final Arch arch, final LockingMode mode, final long seed, final int opsPerTask) {
        this.arch = arch;
        this.mode = mode;
        this.seed = seed;
        this.opsPerTask = opsPerTask;
    }

    /** Runs the phase; returns its fingerprint, or throws an AssertionError naming the seed. */
    long run() {
        final VirtualScheduler clock =
                new VirtualScheduler(CostModels.of(MachineProfiles.defaultProfile()), SchedulePolicy.random(seed));
        final Machine machine = new Machine(arch, 2048, TASKS + 1, clock);
        try {
            final long framesBaseline = machine.frames().allocatedFrames();
            final MmStruct mm = new MmStruct(machine, mode);
            final long pageSize = 1L << arch.pageTableFormat().pageShift();
            final long window = mm.mmap(0, WINDOW_PAGES * pageSize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
            check(window > 0, "setup", "mmap of the window: " + window);
            for (int t = 0; t < TASKS; t++) {
                final int id = t;
                clock.spawn("soak-" + seed + "-task-" + t, () -> task(machine, mm, window, pageSize, id));
            }
            try {
                clock.run();
            } catch (RuntimeException | Error e) {
                fail(e);
            }
            if (failure != null) {
                throw failure instanceof AssertionError a ? a : new AssertionError(failure.toString(), failure);
            }
            // Folios still in the other CPUs' lru_add batches hold the reference folio_add_lru took;
            // lru_add_drain_all releases it, as the kernel's would, so only a real leak remains.
            machine.vmscan().lruAddDrainAll();
            check(
                    machine.frames().allocatedFrames() == framesBaseline,
                    "teardown",
                    "frames lost: " + (machine.frames().allocatedFrames() - framesBaseline));
            return fingerprint * 31 + clock.steps() * 17 + clock.elapsedNs();
        } finally {
            machine.close();
        }
    }

    private void task(final Machine machine, final MmStruct mm, final long window, final long pageSize, final int id) {
        try {
            final Cpu cpu = machine.newCpu();
            cpu.switchMm(mm);
            final SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + id);
            for (int i = 0; i < opsPerTask && failure == null; i++) {
                final long r = step(rnd, cpu, mm, window, pageSize, "task " + id + " op " + i);
                fingerprint = fingerprint * 1_000_003L + r;
            }
            if (++finished == TASKS) { // the last task tears the mm down (plain: the baton serialises)
                mm.validate();
                check(mm.munmap(window, WINDOW_PAGES * pageSize) == 0, "teardown", "munmap of the window");
                mm.validate();
                check(mm.anonRss() == 0 && mm.shmemRss() == 0, "teardown", "rss after munmap of the window");
                mm.exitMmap();
            }
        } catch (Throwable t) {
            fail(t);
        }
    }

    private static final int[] GUARD_AND_POPULATE = {
        Mman.MADV_GUARD_INSTALL,
        Mman.MADV_GUARD_REMOVE,
        Mman.MADV_POPULATE_READ,
        Mman.MADV_POPULATE_WRITE,
        Mman.MADV_WIPEONFORK,
        Mman.MADV_KEEPONFORK,
    };

    /** One operation; returns its result for the fingerprint. */
    private long step(
            final SplittableRandom rnd,
            final Cpu cpu,
            final MmStruct mm,
            final long window,
            final long pageSize,
            final String where) {
        final int r = rnd.nextInt(100);
        final int first = rnd.nextInt(WINDOW_PAGES);
        final int pages = 1 + rnd.nextInt(Math.min(MAX_RANGE_PAGES, WINDOW_PAGES - first));
        final long addr = window + first * pageSize;
        final long len = pages * pageSize;
        final long off = rnd.nextLong(pageSize);
        final int prot =
                rnd.nextInt(4) == 0 ? Mman.PROT_NONE : rnd.nextInt(3) == 0 ? PROT_READ : PROT_READ | PROT_WRITE;
        if (r < 35) {
            final int s = cpu.store(addr + off, SoakRun.sig(off));
            if (s != SigInfo.OK) {
                checkSignal(s, where);
            }
            return s;
        } else if (r < 60) {
            final int v = cpu.load(addr + off);
            if (v < 0) {
                checkSignal(cpu.lastSignal(), where);
            } else {
                check(
                        v == 0 || (byte) v == SoakRun.sig(off),
                        where,
                        "load at 0x" + Long.toHexString(addr + off) + " saw 0x" + Integer.toHexString(v)
                                + ", which no store wrote at this offset");
            }
            return v;
        } else if (r < 72) {
            final long ret = mm.mmap(addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
            check(ret == addr || ret == -Errno.ENOMEM, where, "mmap returned " + ret);
            return ret;
        } else if (r < 82) {
            final int ret = mm.munmap(addr, len);
            check(ret == 0, where, "munmap returned " + ret);
            return ret;
        } else if (r < 92) {
            final int ret = mm.mprotect(addr, len, prot);
            check(ret == 0 || ret == -Errno.ENOMEM, where, "mprotect returned " + ret);
            return ret;
        } else if (r < 97) {
            final int ret = mm.madvise(addr, len, Mman.MADV_DONTNEED);
            check(ret == 0 || ret == -Errno.ENOMEM, where, "madvise returned " + ret);
            return ret;
        } else {
            // Guard regions, populate and wipe-on-fork (FAULT-14, FAULT-15, ISO-01): populate may also
            // meet a PROT_NONE or read-only VMA (EINVAL) or a guard marker (EFAULT).
            final int advice = GUARD_AND_POPULATE[rnd.nextInt(GUARD_AND_POPULATE.length)];
            final int ret = mm.madvise(addr, len, advice);
            final boolean populate = advice == Mman.MADV_POPULATE_READ || advice == Mman.MADV_POPULATE_WRITE;
            check(
                    ret == 0
                            || ret == -Errno.ENOMEM
                            || (populate && (ret == -Errno.EINVAL || ret == -Errno.EFAULT))
                            || (advice == Mman.MADV_WIPEONFORK && ret == -Errno.EINVAL),
                    where,
                    "madvise(" + advice + ") returned " + ret);
            return ret;
        }
    }

    private void checkSignal(final int s, final String where) {
        check(SoakRun.allowedSignal(s), where, "unexpected " + SigInfo.describe(s));
    }

    private void check(final boolean ok, final String where, final String what) {
        if (!ok) {
            throw new AssertionError(
                    "seed " + seed + " (interleaved, " + arch.name() + ", " + mode + "), " + where + ": " + what);
        }
    }

    private void fail(final Throwable t) {
        if (failure == null) {
            failure = t;
        }
    }
}
