package dev.vmsim.core.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The /proc lines where no kernel recording can hold them: vmstat (the live kernel's counts the
 * whole machine) and the smaps of a page mapped three times (the oracle's rollup sums rounded VMAs).
 */
class ProcLinesTest {
    @Test
    void vmstatCountsTheFaultsOfTheRunInTheKernelsOrder() {
        final String t = VmScript.run(
                "map a 8K rw-\nwrite a 1\nwrite a+4K 2\nread a\nvmstat\n", new TestArch(), LockingMode.PER_VMA);
        final List<String> lines =
                t.lines().dropWhile(l -> !l.startsWith("vmstat")).skip(1).toList();
        // the node counters first, then the events: pswp*, pgalloc before pgfree, pgrefill before pgreuse
        final List<String> names =
                lines.stream().map(l -> l.trim().split(" ")[0]).toList();
        assertEquals("nr_free_pages", names.get(0));
        assertEquals(
                List.of("pswpin", "pswpout", "pgalloc_normal", "allocstall_normal", "pgfree"),
                names.subList(names.indexOf("pswpin"), names.indexOf("pgfree") + 1));
        assertEquals(
                List.of("pgfault", "pgmajfault", "pgrefill", "pgreuse"),
                names.subList(names.indexOf("pgfault"), names.indexOf("pgreuse") + 1));
        assertEquals(
                List.of("vma_lock_success", "vma_lock_abort", "vma_lock_retry", "vma_lock_miss", "vma_lock_wait"),
                names.subList(names.size() - 5, names.size()));
        // Two write faults; the read hits the TLB.
        assertTrue(lines.contains("  pgfault 2"), t);
    }

    @Test
    void aPageMappedThreeTimesHasAThirdOfItsSizeAsPss() {
        final String t = VmScript.run(
                "map a 4K rw-\nwrite a 1\nfork c1\nfork c2\nsmaps a\n", new TestArch(), LockingMode.PER_VMA);
        // PSS_SHIFT fixed point: (4096 << 12) / 3 per page, shown in kB rounded down.
        assertTrue(t.contains("\n  Pss:                   1 kB\n"), t);
        assertTrue(t.contains("\n  Shared_Dirty:          4 kB\n"), t);
    }
}
