package dev.vmsim.core.inject;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.fault.VmFault;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.testing.Faults;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Fails every allocation an operation makes, one at a time, at every {@link FailSite}, and checks the
 * documented state after each failure: the operation returns -ENOMEM (or VM_FAULT_OOM, or fork's
 * null), the address space is exactly as before (VMAs, flags, pgoff, PTEs to the same frames),
 * {@code validate()} passes, and once the mm is torn down every frame it took is free again.
 *
 * <p>The sweep: a probe run counts the operation's calls at the site ({@link FailInject#count}),
 * then for n = 0 .. calls-1 a fresh machine repeats the setup and fails the n-th call
 * ({@link FailInject#failNth}). A site the operation never reaches is skipped by the probe; the
 * test asserts that each site is reached by at least one operation.
 */
class AllocFailSweepTest {
    static final long PAGE = 4096;
    static final long BASE = 0x4000_0000L;

    /** One operation on an mm prepared by its setup; returns the syscall's or fault's result. */
    private enum Op {
        MMAP(mm -> mm.mmap(
                BASE + 64 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | Mman.MAP_FIXED)),
        MUNMAP_MIDDLE(mm -> mm.munmap(BASE + 2 * PAGE, 2 * PAGE)),
        MPROTECT_MIDDLE(mm -> mm.mprotect(BASE + 2 * PAGE, 2 * PAGE, PROT_READ)),
        MREMAP_MOVE(mm -> mm.mremap(
                BASE, 8 * PAGE, 8 * PAGE, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, BASE + 1024 * 1024 * PAGE)),
        FORK(mm -> {
            final MmStruct child = mm.fork();
            if (child == null) {
                return -Errno.ENOMEM;
            }
            child.validate();
            child.exitMmap();
            return 0;
        }),
        WRITE_FAULT(mm -> fault(mm, BASE + 32 * PAGE)),
        /** anon_vma_prepare and, far from the written pages, the walk's page-table allocation. */
        GUARD_INSTALL(mm -> {
            final long far = BASE + 1024 * 1024 * PAGE;
            final long m = mm.mmap(far, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | Mman.MAP_FIXED);
            if (m != far) {
                return m;
            }
            final int r = mm.madvise(far, 2 * PAGE, Mman.MADV_GUARD_INSTALL);
            if (r != 0) {
                assertEquals(0, mm.munmap(far, 2 * PAGE), "the test undoes its own mmap");
            }
            return r;
        }),
        BRK(mm -> {
            final long want = mm.currentBrk() + 4 * PAGE;
            return mm.brk(want) == want ? 0 : -Errno.ENOMEM;
        });

        final ToLongFunction<MmStruct> run;

        Op(final ToLongFunction<MmStruct> run) {
            this.run = run;
        }
    }

    /** The mapping every operation starts from: 8 written pages at BASE, 8 untouched pages at BASE + 32 pages. */
    static MmStruct setup(final Machine machine) {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        mm.setStartBrk(BASE + 4096 * PAGE);
        assertEquals(
                BASE, mm.mmap(BASE, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | Mman.MAP_FIXED));
        for (long p = 0; p < 8; p++) {
            assertEquals(0, fault(mm, BASE + p * PAGE));
        }
        assertEquals(
                BASE + 32 * PAGE,
                mm.mmap(
                        BASE + 32 * PAGE,
                        8 * PAGE,
                        PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | Mman.MAP_FIXED));
        return mm;
    }

    /** A user write fault at {@code va} under the mmap read lock: the VM_FAULT_* result. */
    static long fault(final MmStruct mm, final long va) {
        return Faults.writeFault(mm, va);
    }

    /** What "nothing half done" compares: each VMA's range, flags, pgoff, anon_vma presence, and every PTE's frame. */
    static List<String> state(final MmStruct mm) {
        final List<String> s = new ArrayList<>();
        for (final Vma v : mm.vmas()) {
            s.add(String.format(
                    "vma %x-%x flags %x pgoff %x anon %b",
                    v.vmStart, v.vmEnd, v.vmFlags, v.vmPgoff, v.anonVma != null));
        }
        final var fmt = mm.pageTables().format();
        mm.pageTables()
                .forEachPte(
                        0,
                        mm.taskSize(),
                        (va, pte) ->
                                s.add(String.format("pte %x -> pfn %x", va, fmt.ptePresent(pte) ? fmt.pfn(pte) : -1)));
        s.add("rss " + mm.anonRss() + " total_vm " + mm.totalVm() + " map_count " + mm.mapCount());
        return s;
    }

    /** Frames still allocated after the mm is torn down, from a run with this injection (null: none). */
    private static long residue(
            final Op op, final FailSite site, final long skip, final boolean[] injected, final long[] calls) {
        final Machine machine = TestArch.machine(512);
        try {
            final MmStruct mm = setup(machine);
            final List<String> before = state(mm);
            final FailInject inject = machine.failInject();
            if (skip < 0) {
                inject.count(site);
            } else {
                inject.failNth(site, skip);
            }
            final long ret = op.run.applyAsLong(mm);
            calls[0] = inject.calls(site);
            final boolean failed = inject.get(site).failures() > 0;
            inject.clear();
            injected[0] = failed;
            final String where = op + " failing " + site + " call " + skip;
            if (failed) {
                if (op == Op.WRITE_FAULT) {
                    assertEquals(VmFault.VM_FAULT_OOM, ret, where);
                } else {
                    assertEquals(-Errno.ENOMEM, ret, where);
                }
                assertEquals(comparable(op, before), comparable(op, state(mm)), where + ": the address space changed");
            } else {
                assertTrue(ret >= 0, where + ": failed without an injected failure: " + ret);
            }
            mm.validate();
            mm.exitMmap();
            return machine.frames().allocatedFrames();
        } finally {
            machine.close();
        }
    }

    /**
     * The state {@link #residue} compares. A fault that fails after anon_vma_prepare succeeded keeps
     * the VMA's new anon_vma, as do_anonymous_page does in the kernel (it is attached, not half
     * built); every other field must be as before.
     */
    private static List<String> comparable(final Op op, final List<String> state) {
        final List<String> n = normalise(state);
        if (op == Op.WRITE_FAULT) {
            n.replaceAll(line -> line.replaceAll(" anon (true|false)", ""));
        }
        return n;
    }

    /**
     * The state with adjacent VMAs of equal flags and contiguous pgoff joined: a split the kernel
     * keeps after a later step fails (munmap's split at start) changes no address or permission.
     */
    static List<String> normalise(final List<String> state) {
        final List<String> out = new ArrayList<>();
        long[] cur = null;
        String curTail = null;
        for (final String line : state) {
            if (!line.startsWith("vma ")) {
                if (cur != null) {
                    out.add(String.format("vma %x-%x %s", cur[0], cur[1], curTail));
                    cur = null;
                }
                if (!line.startsWith("rss ")) {
                    out.add(line);
                } else {
                    out.add(line.substring(0, line.indexOf(" map_count")));
                }
                continue;
            }
            final String[] f = line.split(" ");
            final String[] range = f[1].split("-");
            final long start = Long.parseUnsignedLong(range[0], 16);
            final long end = Long.parseUnsignedLong(range[1], 16);
            final long pgoff = Long.parseUnsignedLong(f[5], 16);
            final String tail = f[2] + " " + f[3] + " anon " + f[7];
            if (cur != null
                    && cur[1] == start
                    && tail.equals(curTail)
                    && cur[2] + ((cur[1] - cur[0]) / PAGE) == pgoff) {
                cur[1] = end;
                continue;
            }
            if (cur != null) {
                out.add(String.format("vma %x-%x %s", cur[0], cur[1], curTail));
            }
            cur = new long[] {start, end, pgoff};
            curTail = tail;
        }
        if (cur != null) {
            out.add(String.format("vma %x-%x %s", cur[0], cur[1], curTail));
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(FailSite.class)
    @Timeout(120)
    void everyAllocationAtTheSiteFailsCleanly(final FailSite site) {
        int reached = 0;
        for (final Op op : Op.values()) {
            final boolean[] injected = new boolean[1];
            final long[] calls = new long[1];
            final long clean = residue(op, site, -1, injected, calls);
            final long n = calls[0];
            for (long skip = 0; skip < n; skip++) {
                final long left = residue(op, site, skip, injected, calls);
                assertTrue(injected[0], op + ": call " + skip + " of " + n + " at " + site + " was not failed");
                assertEquals(clean, left, op + " failing " + site + " call " + skip + ": frames leaked");
            }
            if (n > 0) {
                reached++;
            }
        }
        assertTrue(reached > 0, site + " is reached by no operation");
    }

    /** A seeded schedule over every site at once replays: the same seed fails the same calls. */
    @ParameterizedTest
    @EnumSource(
            value = Op.class,
            names = {"MREMAP_MOVE", "FORK", "MUNMAP_MIDDLE"})
    @Timeout(60)
    void aSeededScheduleReplaysFromItsSeed(final Op op) {
        for (long seed = 1; seed <= 20; seed++) {
            final String a = scheduledRun(op, seed);
            assertEquals(a, scheduledRun(op, seed), op + " seed " + seed);
        }
    }

    private static String scheduledRun(final Op op, final long seed) {
        final Machine machine = TestArch.machine(512);
        try {
            final MmStruct mm = setup(machine);
            final List<String> before = state(mm);
            machine.failInject().schedule(seed, 30);
            final long ret = op.run.applyAsLong(mm);
            final String failures = machine.failInject().failures().toString();
            machine.failInject().clear();
            if (ret < 0) {
                assertEquals(-Errno.ENOMEM, ret, op + " seed " + seed);
                assertEquals(normalise(before), normalise(state(mm)), op + " seed " + seed);
            }
            mm.validate();
            return ret + " " + failures + " " + state(mm);
        } finally {
            machine.close();
        }
    }

    /** A fault that fails with VM_FAULT_OOM leaves no PTE behind, so the retry allocates afresh. */
    @ParameterizedTest
    @EnumSource(
            value = FailSite.class,
            names = {"PAGE_ALLOC", "ANON_VMA"})
    @Timeout(30)
    void aFailedFaultLeavesThePteNone(final FailSite site) {
        final Machine machine = TestArch.machine(512);
        try {
            final MmStruct mm = setup(machine);
            final long va = BASE + 33 * PAGE;
            machine.failInject().failNth(site, 0);
            assertEquals(VmFault.VM_FAULT_OOM, fault(mm, va));
            machine.failInject().clear();
            final long pa = mm.pageTables().ptePa(va, false);
            assertTrue(pa < 0 || mm.pageTables().readPte(pa) == 0, "a PTE after VM_FAULT_OOM");
            assertNull(
                    site == FailSite.ANON_VMA ? mm.findVma(va).anonVma : null, "anon_vma after its allocation failed");
            assertEquals(0, fault(mm, va), "the retry succeeds");
        } finally {
            machine.close();
        }
    }
}
