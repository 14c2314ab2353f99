package dev.vmsim.arch.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.stat.VmEvent;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** An arm64 shootdown over the real core: a broadcast TLBI, so none of x86's IPI counters move. */
class Arm64TlbShootdownTest {
    @Test
    @Timeout(30)
    void munmapInvalidatesTheOtherCpuWithoutIpiCounters() throws Exception {
        final Machine machine = new Machine(new Arm64Arch(), 1 << 12, 2);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mm.mmap(0, 4 * 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        final Cpu cpu0 = machine.newCpu();
        cpu0.switchMm(mm);
        assertEquals(SigInfo.OK, cpu0.store(a, (byte) 7));
        final ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            final Cpu cpu1 = other.submit(() -> {
                        final Cpu c = machine.newCpu();
                        c.switchMm(mm);
                        assertEquals(7, c.load(a), "cpu1 caches the translation");
                        return c;
                    })
                    .get(20, TimeUnit.SECONDS);
            assertEquals(0, mm.munmap(a, 4 * 4096));
            assertEquals(-1, (int) other.submit(() -> cpu1.load(a)).get(20, TimeUnit.SECONDS), "the TLBI reached cpu1");
            assertEquals(SigInfo.SEGV_MAPERR_SIG, cpu1.lastSignal());
        } finally {
            other.shutdownNow();
        }
        for (final VmEvent e : new VmEvent[] {
            VmEvent.NR_TLB_REMOTE_FLUSH,
            VmEvent.NR_TLB_REMOTE_FLUSH_RECEIVED,
            VmEvent.NR_TLB_LOCAL_FLUSH_ONE,
            VmEvent.NR_TLB_LOCAL_FLUSH_ALL
        }) {
            assertEquals(0, machine.vmstat().get(e), e.kernelName() + ": an x86 counter, not counted on arm64");
        }
    }
}
