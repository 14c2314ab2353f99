package dev.vmsim.arch.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PhysicalMemory;
import dev.vmsim.core.testing.LeakCheck;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * TLB-06, break-before-make of a table entry through the kernel's own path: CPU1 walks a page, so
 * its walk cache holds the PMD entry pointing at the PTE page; CPU0 munmaps the page, and
 * free_pgtables clears that PMD entry and frees the PTE page through the mmu_gather; the frame is
 * then reused, filled with valid-looking page descriptors that map a frame the task never mapped;
 * CPU1 loads the old address. One step at a time (CPU1 on its own thread, each step awaited): no
 * sleeps, no race left to chance.
 */
@LeakCheck.Skip(
        "allocates frames by hand until the freed PTE page comes back and fills it with descriptors: those frames belong to no mm")
class Arm64FreedTableWalkCacheTest {
    private static final byte PATTERN = 0x5a;

    private final Machine machine = new Machine(new Arm64Arch(Arm64Config.DEFAULT, FaultOps.KERNEL), 1 << 12, 2);
    private final PhysicalMemory mem = machine.memory();
    private final Arm64PageTableFormat format = Arm64PageTableFormat.DEFAULT;
    private final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
    private final ExecutorService cpu1Thread = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        cpu1Thread.shutdownNow();
    }

    /** What CPU1's load of the unmapped address returned, and its signal. */
    private record Reload(int value, int signal) {}

    private Reload munmapReuseTheTableAndReload() throws Exception {
        final long a = mm.mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        final Cpu cpu0 = machine.newCpu();
        cpu0.switchMm(mm);
        assertEquals(SigInfo.OK, cpu0.store(a, (byte) 7));
        final Cpu cpu1 = onCpu1(() -> {
            final Cpu c = machine.newCpu();
            c.switchMm(mm);
            assertEquals(7, c.load(a));
            return c;
        });
        final Arm64Tlb tlb1 = ((Arm64Mmu) cpu1.mmu()).tlb();
        assertTrue(tlb1.liveWalkEntries() > 0, "CPU1's walk cached the table descriptors");
        final long ptePage = mm.pageTables().ptePa(a, false) >>> 12;
        final long never = machine.frames().allocZeroed(cpu0.id());
        mem.fillFrame(never, PATTERN);

        assertEquals(0, mm.munmap(a, 4096));
        assertEquals(-1, mm.pageTables().ptePa(a, false), "free_pgtables cleared the PMD entry");
        assertEquals(0, machine.frames().refcount(ptePage), "the PTE page was freed");

        reuse(cpu0, ptePage, format.pteMkyoung(format.pfnPte(never, format.vmGetPageProt(VmFlags.VM_READ))));
        return onCpu1(() -> {
            final int v = cpu1.load(a);
            return new Reload(v, v < 0 ? cpu1.lastSignal() : SigInfo.OK);
        });
    }

    /**
     * Allocates on CPU0's free list, where tlb_finish_mmu freed the PTE page last, until {@code pfn}
     * comes back, and fills it with {@code word}.
     */
    private void reuse(final Cpu cpu0, final long pfn, final long word) {
        long got = FrameAllocator.NO_FRAME;
        for (int i = 0; i < 64 && got != pfn; i++) {
            got = machine.frames().allocZeroed(cpu0.id());
        }
        assertEquals(pfn, got, "the freed PTE page is handed out again");
        for (int e = 0; e < 512; e++) {
            mem.putLongRelease(mem.physAddr(pfn) + 8L * e, word);
        }
    }

    private <T> T onCpu1(final java.util.concurrent.Callable<T> step) throws Exception {
        return cpu1Thread.submit(step).get(20, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(60)
    void aCpuThatWalkedTheFreedTableFaultsAfterMunmap() throws Exception {
        final Reload r = munmapReuseTheTableAndReload();
        assertEquals(-1, r.value(), "the load must not read through the freed PTE page");
        assertEquals(SigInfo.SEGV_MAPERR_SIG, r.signal());
    }

    @Test
    @Timeout(60)
    void tlb06SwitchWalksTheReusedFrameThroughTheStaleTableEntry() throws Exception {
        try (var bug = BugSwitches.reintroduce(Bug.TLB_06)) {
            final Reload r = munmapReuseTheTableAndReload();
            assertEquals(PATTERN, r.value(), "VALE1IS left the PMD entry in CPU1's walk cache: a frame never mapped");
        }
    }
}
