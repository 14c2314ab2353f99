package dev.vmsim.core.mm;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.MAP_SHARED;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;

/**
 * Coverage-guided fuzzing of system-call sequences across tasks (Jazzer): the input picks each
 * operation, its task and its arguments. Two tasks run on their own CPUs: the parent, and a child
 * made by the last fork (a fork replaces the previous child, which exits). Each operation runs on
 * its task's CPU (switch_mm to it first, as a context switch would), and is judged by what the
 * kernel promises: a system call returns its success value or an errno, an access succeeds or
 * raises SIGSEGV/SIGBUS, a load sees only bytes that stores wrote, validate() of both mms passes
 * after every step, and at the end munmap + exit_mmap return every frame: the frame and refcount
 * balance.
 *
 * <p>In {@code mvn test} it replays the corpus in {@code src/test/resources/dev/vmsim/core/mm/
 * SyscallFuzzTestInputs/fuzzSyscalls/}; the {@code fuzz} execution fuzzes it for a bounded time.
 */
class SyscallFuzzTest {
    private static final long PAGE = 4096;
    private static final long WINDOW = 0x1000_0000L;
    private static final int WINDOW_PAGES = 32;
    private static final int MAX_OPS = 64;

    @FuzzTest(maxDuration = "25s")
    void fuzzSyscalls(final FuzzedDataProvider in) {
        final Machine machine = TestArch.machine(1024);
        try {
            final long baseline = machine.frames().allocatedFrames();
            final MmStruct parent = new MmStruct(machine, LockingMode.values()[in.consumeInt(0, 2)]);
            final Cpu[] cpus = {machine.newCpu(), machine.newCpu()};
            final MmStruct[] mms = {parent, null};
            for (int i = 0; i < MAX_OPS && in.remainingBytes() > 0; i++) {
                final int t = mms[1] != null && in.consumeBoolean() ? 1 : 0;
                cpus[t].switchMm(mms[t]);
                step(in, mms, t, cpus[t]);
                for (final MmStruct mm : mms) {
                    if (mm != null) {
                        mm.validate();
                    }
                }
            }
            for (final MmStruct mm : mms) {
                if (mm != null) {
                    check(mm.munmap(WINDOW, WINDOW_PAGES * PAGE) == 0, "munmap of the window");
                    mm.validate();
                    check(mm.anonRss() == 0 && mm.shmemRss() == 0, "rss after munmap of everything");
                    mm.exitMmap();
                }
            }
            // The other CPU's lru_add batch still holds its folios, as a kernel's does until lru_add_drain_all.
            machine.vmscan().lruAddDrainAll();
            check(
                    machine.frames().allocatedFrames() == baseline,
                    "frames lost: " + (machine.frames().allocatedFrames() - baseline));
        } finally {
            machine.close();
        }
    }

    /**
     * The advice of op 5: MADV_DONTNEED, the guard regions and populate (FAULT-14, FAULT-15), whose
     * markers then meet every other operation, fork's copy and exit's teardown included, and
     * WIPEONFORK/KEEPONFORK (a split or merge; a later fork leaves the range out of the child).
     */
    private static final int[] ADVICE = {
        Mman.MADV_DONTNEED,
        Mman.MADV_GUARD_INSTALL,
        Mman.MADV_GUARD_REMOVE,
        Mman.MADV_POPULATE_READ,
        Mman.MADV_POPULATE_WRITE,
        Mman.MADV_WIPEONFORK,
        Mman.MADV_KEEPONFORK,
    };

    private static void step(final FuzzedDataProvider in, final MmStruct[] mms, final int t, final Cpu cpu) {
        final MmStruct mm = mms[t];
        final int op = in.consumeInt(0, 8);
        final int first = in.consumeInt(0, WINDOW_PAGES - 1);
        final int pages = in.consumeInt(1, WINDOW_PAGES - first);
        final long addr = WINDOW + first * PAGE;
        final long len = pages * PAGE;
        final int prot = in.consumeInt(0, 7) & (Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC);
        switch (op) {
            case 0: {
                final long r = mm.mmap(
                        addr,
                        len,
                        prot,
                        (in.consumeBoolean() ? MAP_SHARED : MAP_PRIVATE)
                                | MAP_ANONYMOUS
                                | MAP_FIXED
                                | (in.consumeBoolean() ? Mman.MAP_POPULATE : 0));
                check(r == addr || r == -Errno.ENOMEM, "mmap returned " + r);
                break;
            }
            case 1:
                check(mm.munmap(addr, len) == 0, "munmap");
                break;
            case 2: {
                final int r = mm.mprotect(addr, len, prot);
                check(r == 0 || r == -Errno.ENOMEM, "mprotect returned " + r);
                break;
            }
            case 3: {
                final long newLen = in.consumeInt(1, WINDOW_PAGES - first) * PAGE;
                final long r = mm.mremap(addr, len, newLen, 0, 0);
                check(r == addr || r == -Errno.EFAULT || r == -Errno.ENOMEM, "mremap returned " + r);
                break;
            }
            case 4: {
                final int target = in.consumeInt(0, WINDOW_PAGES - pages);
                if (target < first + pages && first < target + pages) {
                    break;
                }
                final long to = WINDOW + target * PAGE;
                final long r = mm.mremap(addr, len, len, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, to);
                check(r == to || r == -Errno.EFAULT || r == -Errno.ENOMEM, "mremap move returned " + r);
                break;
            }
            case 5: {
                final int advice = ADVICE[in.consumeInt(0, ADVICE.length - 1)];
                final int r = mm.madvise(addr, len, advice);
                final boolean populate = advice == Mman.MADV_POPULATE_READ || advice == Mman.MADV_POPULATE_WRITE;
                // EINVAL: populate into PROT_NONE or read-only memory, WIPEONFORK on a shared mapping.
                check(
                        r == 0
                                || r == -Errno.ENOMEM
                                || (populate && (r == -Errno.EINVAL || r == -Errno.EFAULT))
                                || (advice == Mman.MADV_WIPEONFORK && r == -Errno.EINVAL),
                        "madvise(" + advice + ") returned " + r);
                break;
            }
            case 6: {
                final MmStruct child = mm.fork();
                check(child != null, "fork failed");
                if (mms[1] != null) {
                    mms[1].exitMmap();
                }
                mms[1] = child;
                break;
            }
            default: {
                final long off = in.consumeLong(0, PAGE - 1);
                final long va = addr + off;
                if (op == 7) {
                    final int s = cpu.store(va, sig(off));
                    check(s == SigInfo.OK || allowed(s), "store: " + SigInfo.describe(s));
                }
                final int v = cpu.load(va);
                check(
                        v >= 0 ? v == 0 || (byte) v == sig(off) : allowed(cpu.lastSignal()),
                        "load at 0x" + Long.toHexString(va) + ": " + v);
                break;
            }
        }
    }

    /** The byte every store writes at page offset o (bit 7 set, so never 0). */
    private static byte sig(final long offset) {
        return (byte) (0x80 | ((offset * 37 + 11) & 0x7f));
    }

    private static boolean allowed(final int s) {
        return s == SigInfo.SEGV_MAPERR_SIG || s == SigInfo.SEGV_ACCERR_SIG || s == SigInfo.BUS_ADRERR_SIG;
    }

    private static void check(final boolean ok, final String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
