package dev.vmsim.core.stress;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_NONE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.testing.TestArch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Single-threaded reproductions of what {@link MmStressTest} found, kept as regressions. */
class StressRegressionTest {
    private static final int PAGE = 4096;

    /**
     * A faulted page made PROT_NONE and back: the PROT_NONE PTE must stay present to the kernel
     * (pte_present, as x86's _PAGE_PROTNONE), so mprotect restores it and munmap frees its frame.
     * Before the fix the core test format encoded PROT_NONE as not-present: mprotect skipped the
     * entry, the next fault saw a non-none, non-present PTE it could not resolve, and the access
     * retried forever (and munmap of a PROT_NONE page leaked its frame).
     */
    @Test
    void protNoneRoundTripKeepsThePageAndFreesItOnMunmap() throws Exception {
        final Machine machine = TestArch.machine(256);
        final long baseline = machine.frames().allocatedFrames();
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mm.mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final AtomicReference<Throwable> err = new AtomicReference<>();
        final Thread t = new Thread(
                () -> {
                    try {
                        final Cpu cpu = machine.newCpu();
                        cpu.switchMm(mm);
                        assertEquals(SigInfo.OK, cpu.store(a, (byte) 5));
                        assertEquals(0, mm.mprotect(a, PAGE, PROT_NONE));
                        assertEquals(-1, cpu.load(a));
                        assertEquals(SigInfo.SEGV_ACCERR_SIG, cpu.lastSignal(), "PROT_NONE: access error");
                        assertEquals(0, mm.mprotect(a, PAGE, PROT_READ | PROT_WRITE));
                        assertEquals(5, cpu.load(a), "the data survived PROT_NONE");
                        assertEquals(SigInfo.OK, cpu.store(a, (byte) 6));
                        assertEquals(0, mm.mprotect(a, PAGE, PROT_NONE));
                    } catch (final Throwable e) {
                        err.set(e);
                    }
                },
                "protnone");
        t.setDaemon(true);
        t.start();
        try (Watchdog wd = new Watchdog(10, TimeUnit.SECONDS, mm)) {
            wd.join(t);
        }
        if (err.get() != null) {
            throw new AssertionError(err.get());
        }
        assertEquals(1, mm.anonRss());
        assertEquals(0, mm.munmap(a, 2 * PAGE));
        assertEquals(0, mm.anonRss(), "the PROT_NONE page was unmapped");
        mm.validate();
        mm.exitMmap();
        assertEquals(baseline, machine.frames().allocatedFrames(), "the PROT_NONE page's frame was freed");
        assertTrue(machine.frames().freeFrames() > 0);
    }
}
