package dev.vmsim.core.script;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmsim.core.Machine;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What fork, exit and {@code in NAME:} do to the machine beyond the transcript: a forked child maps
 * its parent's pages (no copy) until one of them writes, and exit gives back every frame it held.
 */
class ScriptTasksTest {
    private final Machine machine = new Machine(new TestArch(), VmScript.FRAMES, 1);
    private final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
    private final Cpu cpu = machine.newCpu();

    @Test
    void forkSharesThePagesAndAChildWriteCopiesOnlyThatPage() {
        cpu.switchMm(mm);
        VmScript.run("map a 8K rw-\nwrite a 1\nwrite a+4K 2\n", mm, cpu);
        VmScript.run("fork child\n", mm, cpu);
        assertEquals(List.of(2, 2), mapcounts());

        // Each run starts with fresh names: the mapping is at top-8K (the first top-down placement).
        VmScript.run("fork child\nin child: write top-8K 3\n", mm, cpu);
        // The second child copied page a for itself; page a+4K is still mapped by all three.
        assertEquals(List.of(2, 3), mapcounts());
    }

    @Test
    void exitGivesBackTheChildsCopiesAndTables() {
        cpu.switchMm(mm);
        VmScript.run("map a 8K rw-\nwrite a 1\nwrite a+4K 2\n", mm, cpu);
        final long free = machine.frames().freeFrames();
        final String t = VmScript.run(
                "fork child\nin child: write top-8K 3\nin child: read top-8K\nread top-8K\n"
                        + "exit child\nin child: read top-8K\n",
                mm,
                cpu);
        assertEquals(
                "fork child -> ok\nin child: write top-8K 3 -> ok\nin child: read top-8K -> ok 3\n"
                        + "read top-8K -> ok 1\nexit child -> ok\nin child: read top-8K -> ESRCH\n",
                t);
        assertEquals(free, machine.frames().freeFrames());
        assertEquals(List.of(1, 1), mapcounts());
    }

    @Test
    void forkLeavesASharedMappingsPagesToBeRefaultedFromShmem() {
        cpu.switchMm(mm);
        // vma_needs_copy: no anon_vma, so dup_mmap copies no PTE; the child's read maps the same page.
        final String t = VmScript.run("map s 4K rw- shared\nwrite s 7\nfork child\n", mm, cpu);
        assertEquals(List.of(1), mapcounts(), t);
        VmScript.run("fork child\nin child: read top-4K\n", mm, cpu);
        assertEquals(List.of(2), mapcounts());
    }

    /** page_mapcount of each page the parent maps, in address order. */
    private List<Integer> mapcounts() {
        final PageTableFormat f = mm.pageTables().format();
        final List<Integer> counts = new ArrayList<>();
        mm.pageTables()
                .forEachPte(
                        0,
                        mm.mmapBase(),
                        (va, pte) -> counts.add(machine.frames().mapcount(f.pfn(pte))));
        return counts;
    }
}
