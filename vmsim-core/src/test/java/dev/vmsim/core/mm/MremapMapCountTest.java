package dev.vmsim.core.mm;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.MREMAP_FIXED;
import static dev.vmsim.core.mm.Mman.MREMAP_MAYMOVE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.Schedule;
import dev.vmsim.core.lock.Schedule.Actor;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * BUG-12: mremap's map_count headroom check (check_map_count_against_split_early) against a value
 * read before the mmap lock. mremap reads map_count, two mmaps by another thread raise it so that
 * map_count + 4 > vm.max_map_count, then mremap takes the lock. Fixed, it refuses (ENOMEM); with
 * BUG-12 on it checks the stale count and goes ahead into the headroom.
 */
class MremapMapCountTest {
    private static final long P = 4096;

    private record Outcome(long ret, long far, int vmasAfter, int vmasBefore, int max) {}

    @Test
    @Timeout(30)
    void bug12SwitchLetsMremapPassItsHeadroomCheckOnAStaleMapCount() {
        final Outcome fixed = replay();
        assertEquals(-Errno.ENOMEM, fixed.ret, "fixed: the check under the lock sees the new map_count");
        assertEquals(fixed.vmasBefore, fixed.vmasAfter, "fixed: nothing was split");
        try (var bug = BugSwitches.reintroduce(Bug.BUG_12)) {
            final Outcome b = replay();
            assertEquals(b.far, b.ret, "bug: mremap went ahead on the stale count");
            assertTrue(b.vmasBefore + 4 > b.max, "although map_count + 4 > max_map_count when it took the lock: " + b);
            assertEquals(b.max, b.vmasAfter, "its splits used the headroom the check keeps for later failures");
        }
    }

    private static Outcome replay() {
        final MmStruct mm = new MmStruct(TestArch.machine(256), LockingMode.PER_VMA);
        final long a = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        final long far = a - 64 * P;
        mm.setMaxMapCount(mm.mapCount() + 4);
        try (Schedule s = new Schedule()) {
            final Actor t1 = new Actor("mremap", () -> mm.mremap(a + P, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, far));
            final Schedule.Gate gate = s.stopAt(t1, "mremap:before_mmap_write_lock");
            t1.start();
            gate.awaitArrived(); // map_count read (with the bug), the lock not yet taken
            for (int i = 0; i < 2; i++) { // two separate read-only pages: no merges
                final long at = a - (8 + 4 * i) * P;
                assertEquals(at, mm.mmap(at, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
            }
            final int before = mm.mapCount();
            gate.release();
            final long r = (Long) t1.joinResult();
            mm.validate();
            return new Outcome(r, far, mm.mapCount(), before, mm.maxMapCount());
        }
    }
}
