package dev.vmsim.core.mm;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.api.Test;

/**
 * ERR-MMAP-07: vm.max_map_count. do_mmap refuses with ENOMEM once map_count exceeds the limit (its
 * test is {@code mm->map_count > sysctl_max_map_count}, so the count may reach limit + 1); with the
 * limit reached, a munmap or mprotect that would split a VMA is ENOMEM and changes nothing, while
 * one that needs no split still works.
 */
class MapCountLimitTest {
    private static final long P = 4096;

    @Test
    void mmapSplitAndMprotectStopAtTheLimitAndChangeNothing() {
        final MmStruct mm = new MmStruct(TestArch.machine(256), LockingMode.PER_VMA);
        final long base = mm.mmap(0, 64 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(base > 0);
        mm.setMaxMapCount(mm.mapCount() + 2);
        // New pages, placed top-down below the first mapping, with alternating protections so that
        // none merges with its neighbour: one VMA each, and no split on the way.
        long ret = 0;
        int mapped = 0;
        for (int i = 0; ret >= 0 && i < 16; i++) {
            final int prot = i % 2 == 0 ? PROT_READ | PROT_WRITE : PROT_READ;
            ret = mm.mmap(0, P, prot, MAP_PRIVATE | MAP_ANONYMOUS);
            if (ret >= 0) {
                mapped++;
            }
        }
        assertEquals(-Errno.ENOMEM, ret, "mmap past max_map_count");
        assertEquals(3, mapped, "the limit, and one past it");
        assertEquals(mm.maxMapCount() + 1, mm.mapCount(), "do_mmap's test is map_count > max: one past it");

        final int vmas = mm.mapCount();
        final long big = base; // the first mapping, 64 pages in one VMA
        assertEquals(-Errno.ENOMEM, mm.munmap(big + 4 * P, P), "munmap that must split the tail");
        assertEquals(-Errno.ENOMEM, mm.mprotect(big + 4 * P, P, PROT_READ | PROT_WRITE), "mprotect that must split");
        assertEquals(vmas, mm.mapCount(), "nothing was split");
        assertEquals(big, mm.findVma(big + 4 * P).vmStart, "the tail is still one VMA");
        assertEquals(0, mm.munmap(base - P, P), "a munmap of a whole VMA needs no split");
        assertEquals(vmas - 1, mm.mapCount());
        mm.validate();
    }
}
