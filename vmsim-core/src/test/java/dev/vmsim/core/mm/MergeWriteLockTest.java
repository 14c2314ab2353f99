package dev.vmsim.core.mm;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.testing.TestArch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * LOCK-15: a merge write-locks every VMA it changes (prev, middle, next) before dup_anon_vma reads
 * and copies an anon_vma, so that no per-VMA reader is inside any of them while they change. The
 * hook {@code vma_merge_existing_range:locked} records, at that point, which of the three VMAs
 * the test named are write-locked.
 */
class MergeWriteLockTest {
    private static final long P = 4096;

    @AfterEach
    void removeHook() {
        LockHooks.install(null);
    }

    /** Three one-page VMAs, the middle one read-only, the outer two written (each has an anon_vma). */
    private static long threeVmas(final MmStruct mm, final int outerProt) {
        final long a = mm.mmap(0, 3 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        assertEquals(a + P, mm.mmap(a + P, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
        assertEquals(0, mm.mprotect(a, P, outerProt));
        assertEquals(0, mm.mprotect(a + 2 * P, P, outerProt));
        return a;
    }

    /** Runs {@code op}; returns, for each merge, the names of the watched VMAs write-locked at the hook. */
    private static List<List<String>> lockedAtMerge(
            final MmStruct mm, final List<Vma> watched, final List<String> names, final Runnable op) {
        final List<List<String>> merges = new ArrayList<>();
        LockHooks.install(point -> {
            if (point.equals("vma_merge_existing_range:locked")) {
                final List<String> locked = new ArrayList<>();
                for (int i = 0; i < watched.size(); i++) {
                    if (VmaLock.isWriteLocked(watched.get(i))) {
                        locked.add(names.get(i));
                    }
                }
                merges.add(locked);
            }
        });
        try {
            op.run();
        } finally {
            LockHooks.install(null);
        }
        return merges;
    }

    @Test
    void aThreeWayMergeLocksPrevMiddleAndNext() {
        final MmStruct mm = new MmStruct(TestArch.machine(256), LockingMode.PER_VMA);
        final long a = threeVmas(mm, PROT_READ | PROT_WRITE);
        assertEquals(
                3,
                mm.vmas().stream()
                        .filter(v -> v.vmStart >= a && v.vmEnd <= a + 3 * P)
                        .count());
        final List<Vma> vmas = List.of(mm.findVma(a), mm.findVma(a + P), mm.findVma(a + 2 * P));
        final List<List<String>> merges = lockedAtMerge(
                mm,
                vmas,
                List.of("prev", "middle", "next"),
                () -> assertEquals(0, mm.mprotect(a + P, P, PROT_READ | PROT_WRITE)));
        assertEquals(List.of(List.of("prev", "middle", "next")), merges);
        assertEquals(a, mm.findVma(a).vmStart);
        assertEquals(a + 3 * P, mm.findVma(a).vmEnd, "one VMA now");
        mm.validate();
    }

    @Test
    void aMergeWithPrevOnlyLocksPrevAndMiddleAndNotTheUnchangedNext() {
        final MmStruct mm = new MmStruct(TestArch.machine(256), LockingMode.PER_VMA);
        final long a = threeVmas(mm, PROT_READ | PROT_WRITE);
        assertEquals(0, mm.mprotect(a + 2 * P, P, PROT_READ | PROT_WRITE | Mman.PROT_EXEC)); // next cannot merge
        final List<Vma> vmas = List.of(mm.findVma(a), mm.findVma(a + P), mm.findVma(a + 2 * P));
        final List<List<String>> merges = lockedAtMerge(
                mm,
                vmas,
                List.of("prev", "middle", "next"),
                () -> assertEquals(0, mm.mprotect(a + P, P, PROT_READ | PROT_WRITE)));
        assertEquals(List.of(List.of("prev", "middle")), merges);
        assertTrue(mm.findVma(a + 2 * P).vmStart == a + 2 * P, "next is untouched");
        mm.validate();
    }
}
