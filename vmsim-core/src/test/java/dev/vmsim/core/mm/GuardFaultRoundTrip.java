package dev.vmsim.core.mm;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.FaultTraceText;
import dev.vmsim.core.trace.TraceRecorder;
import java.util.List;

/**
 * Test helper for the architecture modules (FAULT-14): a written page guarded with
 * MADV_GUARD_INSTALL, then read and written through the architecture's MMU and fault handler in
 * the given locking mode. Asserts that both accesses are SIGSEGV with SEGV_MAPERR, that the
 * per-VMA attempt (where there is one) ended the fault without a retry, and that the guard did not
 * move; returns the fault trace's text lines for the caller to check.
 */
public final class GuardFaultRoundTrip {
    private GuardFaultRoundTrip() {}

    public static List<String> run(final Arch arch, final LockingMode mode) {
        final Machine machine = new Machine(arch, 1 << 12, 2);
        try {
            final MmStruct mm = new MmStruct(machine, mode);
            final Cpu cpu = machine.newCpu();
            cpu.switchMm(mm);
            final long page = mm.pageSize();
            final long a = mm.mmap(0, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            assertEquals(SigInfo.OK, cpu.store(a, (byte) 3));
            assertEquals(3, cpu.load(a), "the TLB caches the translation before the guard");
            assertEquals(0, mm.madvise(a, page, Mman.MADV_GUARD_INSTALL));
            final TraceRecorder rec = new TraceRecorder(10_000);
            FaultTrace.install(rec);
            try {
                assertTrue(cpu.load(a + 8) < 0, "the read of a guard page faults: the zap flushed the TLB");
                assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.lastSignal());
                assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu.store(a + 8, (byte) 1));
            } finally {
                FaultTrace.install(null);
            }
            assertEquals(0, cpu.load(a + page), "the neighbour is ordinary memory");
            if (mode != LockingMode.MMAP_ONLY) {
                assertEquals(0, machine.vmstat().get(VmEvent.VMA_LOCK_RETRY), "VM_FAULT_SIGSEGV is final");
            }
            assertTrue(mm.pageTables()
                    .format()
                    .isGuardPteMarker(mm.pageTables().readPte(mm.pageTables().ptePa(a, false))));
            mm.validate();
            return FaultTraceText.lines(rec.events(), 0);
        } finally {
            machine.close();
        }
    }
}
