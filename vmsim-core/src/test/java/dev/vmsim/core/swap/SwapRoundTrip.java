package dev.vmsim.core.swap;

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
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.FaultTraceText;
import dev.vmsim.core.trace.TraceRecorder;
import java.util.List;

/**
 * Test helper for the architecture modules: a page written, swapped out, and read back through
 * the architecture's MMU and fault handler, with the fault trace recorded. Asserts the data and
 * the counters; returns the fault trace's text lines for the caller to check.
 */
public final class SwapRoundTrip {
    private SwapRoundTrip() {}

    /** Reads take 200 ms so that the fault always finds its read in flight (the retry steps are fixed). */
    public static List<String> run(final Arch arch) {
        final Machine machine = new Machine(arch, 1 << 12, 2);
        try {
            final Swap swap = machine.swapon(new SwapParams(64, 200_000_000, 10_000, 4, 0));
            final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
            final Cpu cpu = machine.newCpu();
            cpu.switchMm(mm);
            final long page = mm.pageSize();
            final long a = mm.mmap(0, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
            for (int off = 0; off < page; off += 256) {
                assertEquals(SigInfo.OK, cpu.store(a + off, (byte) (off / 256 + 3)));
            }
            SwapOut.swapOut(mm, a);
            assertTrue(mm.pageTables().format().isSwapPte(SwapOut.pteAt(mm, a)));
            final TraceRecorder rec = new TraceRecorder(10_000);
            FaultTrace.install(rec);
            try {
                assertEquals(3, cpu.load(a));
            } finally {
                FaultTrace.install(null);
            }
            for (int off = 0; off < page; off += 256) {
                assertEquals((off / 256 + 3) & 0xff, cpu.load(a + off), "offset " + off);
            }
            assertEquals(1, machine.vmstat().get(VmEvent.PGMAJFAULT));
            assertEquals(1, machine.vmstat().get(VmEvent.PSWPIN));
            assertEquals(1, machine.vmstat().get(VmEvent.VMA_LOCK_RETRY));
            mm.validate();
            swap.validate();
            return FaultTraceText.lines(rec.events(), 0);
        } finally {
            machine.close();
        }
    }
}
