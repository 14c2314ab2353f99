package dev.vmsim.core.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.script.VmScript;
import dev.vmsim.core.testing.Allocations;
import dev.vmsim.core.testing.TestArch;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The fault-path events core emits (the arch entry slice is tested with the real architectures in
 * vmsim-app), and that a disabled trace costs nothing.
 */
class FaultTraceTest {
    @AfterEach
    void off() {
        FaultTrace.install(null);
    }

    /** Runs {@code vms} on the core test architecture with a recorder; returns the events, mmap_lock ones left out. */
    private static List<String> trace(final String vms, final LockingMode mode) {
        return trace(vms, mode, false, false);
    }

    /** As above; with {@code upgrade} the simulator's mmap_lock upgrade is on; with {@code mmapLock} its events are kept. */
    private static List<String> trace(
            final String vms, final LockingMode mode, final boolean upgrade, final boolean mmapLock) {
        final TraceRecorder rec = new TraceRecorder(10_000);
        FaultTrace.install(rec);
        try {
            VmScript.run(vms, new TestArch(), mode, upgrade);
        } finally {
            FaultTrace.install(null);
        }
        final List<String> out = new ArrayList<>();
        for (final TraceEvent e : rec.events()) {
            if (mmapLock || !e.name.startsWith("mmap_lock_")) {
                out.add(e.phase + " " + e.name + summary(e));
            }
        }
        return out;
    }

    private static String summary(final TraceEvent e) {
        final StringBuilder sb = new StringBuilder();
        for (final String k :
                new String[] {"result", "page", "action", "from", "via", "ret", "flags", "write", "success", "upgrade"
                }) {
            final String v = e.arg(k);
            if (v != null) {
                sb.append(' ').append(k).append('=').append(v);
            }
        }
        return sb.toString();
    }

    @Test
    void firstReadMapsTheZeroPageAndAWriteAfterItCopies() {
        final List<String> ev = trace("map a 16K rw-\nread a\nwrite a\n", LockingMode.PER_VMA);
        assertEquals(
                List.of(
                        "i lock_vma_under_rcu result=locked",
                        "B handle_mm_fault flags=USER|VMA_LOCK",
                        "i do_anonymous_page page=zero",
                        "E handle_mm_fault ret=0",
                        "i lock_vma_under_rcu result=locked",
                        "B handle_mm_fault flags=WRITE|USER|VMA_LOCK",
                        "i do_wp_page action=copy from=zero",
                        "E handle_mm_fault ret=0"),
                ev);
    }

    /**
     * The first write maps a new page; fork write-protects it and the child's exit leaves it
     * exclusive again, so the second write's fault reuses the same frame in place (wp_page_reuse).
     */
    @Test
    void secondWriteToAnExclusivePageReusesItAfterFirstWriteMapsANewPage() {
        final Machine machine = TestArch.machine(256);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mm.mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        final TraceRecorder rec = new TraceRecorder(10_000);
        FaultTrace.install(rec);
        final long first;
        try {
            assertEquals(SigInfo.OK, cpu.store(a, (byte) 1));
            first = pfnAt(mm, a);
            mm.fork().exitMmap(); // COW write-protects the PTE; the child's exit leaves the page exclusive
            assertEquals(1, machine.frames().mapcount(first));
            assertEquals(SigInfo.OK, cpu.store(a, (byte) 2));
        } finally {
            FaultTrace.install(null);
        }
        final List<String> ev = new ArrayList<>();
        for (final TraceEvent e : rec.events()) {
            ev.add(e.phase + " " + e.name + summary(e));
        }
        assertTrue(ev.contains("i do_anonymous_page page=new"), ev.toString());
        assertTrue(ev.contains("i do_wp_page action=reuse from=page"), ev.toString());
        assertFalse(ev.stream().anyMatch(e -> e.startsWith("i do_wp_page action=copy")), ev.toString());
        assertEquals(first, pfnAt(mm, a), "the same frame, reused in place");
        assertEquals(2, cpu.load(a));
    }

    private static long pfnAt(final MmStruct mm, final long va) {
        final long pa = mm.pageTables().ptePa(va, false);
        return mm.pageTables().format().pfn(mm.pageTables().readPte(pa));
    }

    /** The kernel's path by default: mmap_upgrade_trylock fails, so the read lock is dropped and the write lock taken. */
    @Test
    void stackGrowthByDefaultDropsTheReadLockAndTakesTheWriteLock() {
        final List<String> ev = trace("map s 16K rw- growsdown\nread s-4K\n", LockingMode.PER_VMA, false, true);
        final int from = ev.indexOf("B lock_mm_and_find_vma");
        assertEquals(
                List.of(
                        "B lock_mm_and_find_vma",
                        "i mmap_lock_start_locking write=false",
                        "i mmap_lock_acquire_returned write=false success=true",
                        "i mmap_write_lock_via via=drop-retake",
                        "i mmap_lock_released write=false",
                        "i mmap_lock_start_locking write=true",
                        "i mmap_lock_acquire_returned write=true success=true",
                        "i expand_downwards ret=0",
                        "i mmap_lock_acquire_returned write=false success=true",
                        "E lock_mm_and_find_vma result=found"),
                ev.subList(from, from + 10));
    }

    /** With --mmap-upgrade: the atomic upgrade, with its own mmap_lock events (upgrade=true). */
    @Test
    void withTheUpgradeOnTheStackGrowsUnderTheUpgradedLock() {
        final List<String> ev = trace("map s 16K rw- growsdown\nread s-4K\n", LockingMode.PER_VMA, true, true);
        final int from = ev.indexOf("i mmap_write_lock_via via=upgrade");
        assertEquals(
                List.of(
                        "i mmap_lock_start_locking write=true upgrade=true",
                        "i mmap_lock_released write=false upgrade=true",
                        "i mmap_lock_acquire_returned write=true success=true upgrade=true",
                        "i mmap_write_lock_via via=upgrade"),
                ev.subList(from - 3, from + 1));
        assertEquals(
                List.of(
                        "i lock_vma_under_rcu result=abort",
                        "B lock_mm_and_find_vma",
                        "i mmap_write_lock_via via=upgrade",
                        "i expand_downwards ret=0",
                        "E lock_mm_and_find_vma result=found",
                        "B handle_mm_fault flags=USER",
                        "i do_anonymous_page page=zero",
                        "E handle_mm_fault ret=0"),
                trace("map s 16K rw- growsdown\nread s-4K\n", LockingMode.PER_VMA, true, false));
    }

    @Test
    void mmapOnlyModeSkipsThePerVmaAttempt() {
        final List<String> ev = trace("map a 16K rw-\nread a\n", LockingMode.MMAP_ONLY);
        assertFalse(ev.stream().anyMatch(s -> s.contains("lock_vma_under_rcu")), ev.toString());
        assertEquals("E lock_mm_and_find_vma result=found", ev.get(1));
        assertEquals("B handle_mm_fault flags=USER", ev.get(2));
    }

    @Test
    void mmapLockTracepointsAreBridged() {
        final TraceRecorder rec = new TraceRecorder(10_000);
        FaultTrace.install(rec);
        VmScript.run("map a 16K rw-\n", new TestArch(), LockingMode.PER_VMA);
        FaultTrace.install(null);
        final List<String> names =
                rec.events().stream().map(e -> e.name + " " + e.arg("write")).toList();
        final int start = names.indexOf("mmap_lock_start_locking true");
        assertTrue(start >= 0, names.toString());
        assertEquals("mmap_lock_acquire_returned true", names.get(start + 1));
        assertTrue(names.contains("mmap_lock_released true"), names.toString());
    }

    @Test
    void decodesFlagsAndResultsWithTheKernelsNames() {
        assertEquals("WRITE|USER|VMA_LOCK", FaultTrace.faultFlags(0x1000 | 0x40 | 0x1 | 0x214));
        assertEquals("0", FaultTrace.vmFault(0));
        assertEquals("SIGBUS|RETRY", FaultTrace.vmFault(0x2 | 0x400));
    }

    // ---------------------------------------------------------------- zero cost when off

    /** Every site takes only primitives and Strings, so a disabled site builds nothing before its null check. */
    @Test
    void sitesTakeOnlyPrimitivesAndTheSinkIsOneVolatileField() throws Exception {
        for (final Method m : FaultTrace.class.getDeclaredMethods()) {
            if (!Modifier.isPublic(m.getModifiers())
                    || m.getReturnType() != void.class
                    || m.getName().equals("install")) {
                continue;
            }
            for (final Class<?> p : m.getParameterTypes()) {
                assertTrue(p.isPrimitive() || p == String.class, m + " takes a " + p);
            }
        }
        final Field f = FaultTrace.class.getDeclaredField("sink");
        assertTrue(Modifier.isStatic(f.getModifiers()) && Modifier.isVolatile(f.getModifiers()));
    }

    /** Faults run with no sink reach no sink: the sites are all behind the check. */
    @Test
    void uninstalledSinkSeesNothing() {
        final AtomicLong seen = new AtomicLong();
        FaultTrace.install((phase, name, args) -> seen.incrementAndGet());
        VmScript.run("map a 16K rw-\nwrite a\n", new TestArch(), LockingMode.PER_VMA);
        assertTrue(seen.get() > 0);
        FaultTrace.install(null);
        final long before = seen.get();
        VmScript.run(
                "map a 16K rw-\nwrite a\nmap s 16K rw- growsdown\nread s-4K\n", new TestArch(), LockingMode.PER_VMA);
        assertEquals(before, seen.get());
    }

    /**
     * A disabled site allocates nothing: 100,000 calls of each site would allocate megabytes of
     * argument arrays if the check came after building them; allow a little for the measurement.
     */
    @Test
    void disabledSitesAllocateNothing() {
        FaultTrace.install(null);
        final long allocated = Allocations.ofHundredThousandRounds(FaultTraceTest::callEverySite);
        assertTrue(allocated < 64 * 1024, allocated + " bytes allocated by disabled trace sites");
    }

    private static void callEverySite(final int n) {
        for (int i = 0; i < n; i++) {
            final long a = 0x7f0000000000L + i;
            FaultTrace.x86PageFaultExit(true, 0);
            FaultTrace.arm64AbortExit(0);
            FaultTrace.lockVmaUnderRcu(a, "locked");
            FaultTrace.lockVmaUnderRcuWait(a);
            FaultTrace.lockMmAndFindVmaEnter(a);
            FaultTrace.mmapWriteLockVia(true);
            FaultTrace.expandDownwards(a, 0);
            FaultTrace.lockMmAndFindVmaExit(true);
            FaultTrace.handleMmFaultEnter(a, i);
            FaultTrace.doAnonymousPage(false);
            FaultTrace.doWpPage("copy", true);
            FaultTrace.shmemFault("mapped");
            FaultTrace.handlePteFault("spurious");
            FaultTrace.handleMmFaultExit(i);
        }
    }
}
