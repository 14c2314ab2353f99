package dev.vmsim.core.proc;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.swap.SwapParams;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** /proc/meminfo's swap and LRU lines and /proc/vmstat's order, on a machine that swapped. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MemoryPressureViewsTest {
    private static final int PAGE = 4096;
    private static final int FRAMES = 512;
    private static final int SLOTS = 4096;

    /**
     * vmstat_text (mm/vmstat.c, Linux 6.18) for the lines ProcVmstat prints, in the kernel's order,
     * with the simulator's vma_lock_wait last. ProcVmstat must print exactly these, in this order.
     */
    private static final List<String> KERNEL_ORDER = List.of(
            "nr_free_pages",
            "nr_zone_inactive_anon",
            "nr_zone_active_anon",
            "nr_zone_write_pending",
            "nr_inactive_anon",
            "nr_active_anon",
            "nr_isolated_anon",
            "nr_anon_pages",
            "nr_writeback",
            "nr_page_table_pages",
            "nr_swapcached",
            "pswpin",
            "pswpout",
            "pgalloc_normal",
            "allocstall_normal",
            "pgfree",
            "pgactivate",
            "pgdeactivate",
            "pgfault",
            "pgmajfault",
            "pgrefill",
            "pgreuse",
            "pgsteal_kswapd",
            "pgsteal_direct",
            "pgscan_kswapd",
            "pgscan_direct",
            "pgscan_anon",
            "pgsteal_anon",
            "pageoutrun",
            "oom_kill",
            "nr_tlb_remote_flush",
            "nr_tlb_remote_flush_received",
            "nr_tlb_local_flush_all",
            "nr_tlb_local_flush_one",
            "swap_ra",
            "swap_ra_hit",
            "vma_lock_success",
            "vma_lock_abort",
            "vma_lock_retry",
            "vma_lock_miss",
            "vma_lock_wait");

    private final Machine machine = TestArch.machine(FRAMES);

    @AfterEach
    void close() {
        machine.close();
    }

    private MmStruct swapped() throws InterruptedException {
        machine.swapon(new SwapParams(SLOTS, 1_000, 1_000, 8, 3));
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        final int pages = 2 * FRAMES;
        final long a = mm.mmap(0, (long) pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        for (int p = 0; p < pages; p++) {
            assertEquals(SigInfo.OK, cpu.store(a + (long) p * PAGE, (byte) 1));
        }
        assertTrue(machine.vmscan().kswapd().quiesce(30_000), "kswapd did not go idle");
        machine.swap().drain();
        return mm;
    }

    @Test
    void meminfoShowsTheSwapDeviceAndTheSlotsInUse() throws Exception {
        final MmStruct mm = swapped();
        final Map<String, Long> f = ProcMeminfo.fields(ProcMeminfo.lines(machine));
        final long slotsKb = (SLOTS - 1) * (PAGE / 1024L); // slot 0 is the header
        assertEquals(slotsKb, f.get("SwapTotal"));
        final long usedKb = slotsKb - f.get("SwapFree");
        assertTrue(
                usedKb >= mm.swapEnts() * 4,
                "slots in use cover every swap PTE: " + usedKb + " kB, " + mm.swapEnts() + " swap entries");
        assertTrue(mm.swapEnts() > 0);
        assertEquals(machine.swap().cache().nrFolios() * 4, f.get("SwapCached"));
        assertEquals(f.get("Active(anon)"), f.get("Active"));
        assertEquals(machine.vmscan().nrActiveAnon() * 4, f.get("Active(anon)"));
        assertEquals(f.get("Inactive(anon)"), f.get("Inactive"));
        assertEquals(0, f.get("Writeback"), "every write completed (drained)");
        assertEquals(
                f.get("AnonPages"),
                f.get("Active(anon)") + f.get("Inactive(anon)"),
                "the anon pages are on the two lists");
        // vm_commit_limit: half of RAM plus all of swap
        assertEquals(((FRAMES - 1) * ProcMeminfo.OVERCOMMIT_RATIO / 100 + SLOTS - 1) * 4L, f.get("CommitLimit"));
    }

    @Test
    void meminfoOfAMachineWithoutSwapHasTheZeroLines() {
        final Map<String, Long> f = ProcMeminfo.fields(ProcMeminfo.lines(machine));
        assertEquals(0, f.get("SwapTotal"));
        assertEquals(0, f.get("SwapFree"));
        assertEquals(0, f.get("SwapCached"));
        assertEquals(0, f.get("Active(anon)"));
    }

    @Test
    void vmstatPrintsTheKernelsNamesInVmstatTextOrder() throws Exception {
        swapped();
        final List<String> lines = ProcVmstat.lines(machine);
        final List<String> names = new ArrayList<>();
        for (final String l : lines) {
            assertTrue(l.matches("[a-z_]+ \\d+"), "vmstat_show's \"%s %lu\": " + l);
            names.add(l.substring(0, l.indexOf(' ')));
        }
        assertEquals(KERNEL_ORDER, names);
        final Map<String, Long> v = new java.util.HashMap<>();
        for (final String l : lines) {
            v.put(l.substring(0, l.indexOf(' ')), Long.parseLong(l.substring(l.indexOf(' ') + 1)));
        }
        assertTrue(v.get("pswpout") > 0, "the machine swapped");
        assertEquals(machine.swap().cache().nrFolios(), v.get("nr_swapcached"));
        assertEquals(machine.frames().zoneFreePagesRacy(), v.get("nr_free_pages"));
        final Map<String, Long> m = ProcMeminfo.fields(ProcMeminfo.lines(machine));
        assertEquals(m.get("Inactive(anon)") / 4, v.get("nr_inactive_anon"), "the same figure as meminfo's");
    }
}
