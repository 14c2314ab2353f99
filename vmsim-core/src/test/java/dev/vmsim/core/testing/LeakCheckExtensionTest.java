package dev.vmsim.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.debug.LeakCounts;
import dev.vmsim.core.debug.LeakTracker;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.AnonVma;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.swap.Swap;
import dev.vmsim.core.swap.SwapParams;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The OOM-10 checker itself ({@link LeakCheckExtension#check}): a machine that leaks one object on
 * purpose is reported with that object's count named, and a machine left with live processes is
 * torn down and passes. Each leaking test gives its object back afterwards, so that the extension's
 * own check after the test passes too.
 */
class LeakCheckExtensionTest {
    private final Machine machine = TestArch.machine(256);

    @Test
    void aMachineLeftWithLiveProcessesIsTornDownAndPasses() {
        final MmStruct parent = new MmStruct(machine, LockingMode.PER_VMA);
        final Cpu cpu = machine.newCpu();
        Pages.mapAndFill(cpu, parent, 8);
        final MmStruct child = parent.fork();
        cpu.switchMm(child);
        cpu.store(Pages.mapAndFill(cpu, child, 2), (byte) 1);
        final LeakCounts live = machine.leakCounts();
        assertTrue(live.vmas() > 0 && live.mapleNodes() > 0 && live.anonVmas() > 0, live.toString());
        assertTrue(live.dataFrames() > 0 && live.pageTableFrames() > 0, live.toString());

        assertEquals("", LeakCheckExtension.check(List.of(machine)));
        assertEquals(machine.leakBaseline(), machine.leakCounts());
        assertTrue(machine.mms().isEmpty());
    }

    @Test
    void aFrameAllocatedAndNeverFreedIsReportedAsADataFrame() {
        final long pfn = machine.frames().allocZeroed(0);

        assertEquals("machine #0 of 1: data frames +1 (0 -> 1)", LeakCheckExtension.check(List.of(machine)));
        machine.frames().put(0, pfn);
    }

    @Test
    void aVmaAllocatedByHandAndNeverFreedIsReported() {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final Vma stray = machine.vmaCache().alloc(mm, 0x10000, 0x20000); // never inserted into mm_mt

        final String report = LeakCheckExtension.check(List.of(machine));
        assertEquals("machine #0 of 1: VMAs +1 (0 -> 1)", report);
        machine.vmaCache().free(stray);
    }

    @Test
    void anAnonVmaWithoutItsLastPutIsReported() {
        final AnonVma anon = new AnonVma(null, machine.leakAccounting().anonVmas());

        assertEquals("machine #0 of 1: anon_vmas +1 (0 -> 1)", LeakCheckExtension.check(List.of(machine)));
        anon.put();
        assertEquals("", LeakCheckExtension.check(List.of(machine)));
    }

    @Test
    void aSwapSlotNoPteOrCacheHoldsIsReported() {
        final Swap swap = machine.swapon(new SwapParams(16, 0, 0, 4, 0));
        final long offset = swap.info().allocSlot(0);
        swap.info().swapDuplicate(offset); // a PTE's reference that no PTE holds
        swap.info().clearCache(offset);

        assertEquals("machine #0 of 1: swap slots +1 (0 -> 1)", LeakCheckExtension.check(List.of(machine)));
        swap.info().swapEntryPut(offset);
    }

    /**
     * The frame leaked here cannot be given back once the memory is gone, so the test takes its
     * machines from the tracker itself, as the extension would after it.
     */
    @Test
    void aClosedMachineIsJudgedByWhatItsCloseFound() throws InterruptedException {
        assertTrue(LeakTracker.ENABLED, "surefire runs the tests with -Dvmsim.leakcheck=true");
        machine.frames().allocZeroed(0);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        Pages.mapAndFill(machine.newCpu(), mm, 4);
        final Machine[] other = new Machine[1];
        final Thread t = new Thread(() -> other[0] = TestArch.machine(16));
        t.start();
        t.join();

        machine.close(); // tears mm down first, then the memory goes

        assertTrue(machine.mms().isEmpty());
        final List<Machine> created = LeakTracker.takeCreated();
        assertEquals(List.of(machine, other[0]), created, "both, the one built on another thread too");
        assertEquals("machine #0 of 2: data frames +1 (0 -> 1)", LeakCheckExtension.check(created));
    }
}
