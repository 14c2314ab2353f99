package dev.vmsim.core.phys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.inject.FaultAttr;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class FrameAllocatorTest {
    @Test
    void failPageAllocMakesTheChosenAllocationFailAndNothingElse() {
        final FrameAllocator fa = new FrameAllocator(new PhysicalMemory(64), 1);
        fa.setFailPageAlloc(FaultAttr.nth(2, 1));
        final long a = fa.allocZeroed(0);
        final long b = fa.allocZeroed(0);
        assertEquals(FrameAllocator.NO_FRAME, fa.allocZeroed(0), "the third allocation");
        final long c = fa.allocZeroed(0);
        assertEquals(3, fa.allocatedFrames(), "the others succeed");
        assertEquals(1, fa.allocFailures());
        fa.setFailPageAlloc(null);
        for (final long pfn : new long[] {a, b, c}) {
            fa.put(0, pfn);
        }
        assertEquals(0, fa.allocatedFrames());
    }

    @Test
    void allocatedFramesReadZeroWithRefcountOneAndNoMaps() {
        final FrameAllocator fa = new FrameAllocator(new PhysicalMemory(64), 4);
        final long pfn = fa.allocZeroed(0);
        assertNotEquals(FrameAllocator.NO_FRAME, pfn);
        assertNotEquals(fa.zeroPfn(), pfn);
        assertEquals(1, fa.refcount(pfn));
        assertEquals(0, fa.mapcount(pfn));
        fa.memory().putLong(Pfn.physAddr(pfn) + 16, 77);
        assertTrue(fa.put(0, pfn));
        // Drain so the same frame comes back, then it must read zero again.
        fa.drainAllPages();
        final Set<Long> seen = new HashSet<>();
        long again;
        while ((again = fa.allocZeroed(1)) != FrameAllocator.NO_FRAME) {
            seen.add(again);
            assertEquals(0, fa.memory().getLong(Pfn.physAddr(again) + 16));
        }
        assertTrue(seen.contains(pfn));
        assertEquals(63, seen.size(), "every frame but the zero page");
    }

    @Test
    void refcountsAndMapcounts() {
        final FrameAllocator fa = new FrameAllocator(new PhysicalMemory(16), 2);
        final long pfn = fa.allocZeroed(0);
        fa.get(pfn);
        assertEquals(2, fa.refcount(pfn));
        assertEquals(1, fa.incMapcount(pfn));
        assertEquals(2, fa.incMapcount(pfn));
        assertEquals(1, fa.decMapcount(pfn));
        assertEquals(0, fa.decMapcount(pfn));
        assertFalse(fa.put(0, pfn), "one reference left");
        assertEquals(1, fa.allocatedFrames());
        assertTrue(fa.put(0, pfn));
        assertEquals(0, fa.allocatedFrames());
        assertThrows(IllegalStateException.class, () -> fa.put(0, pfn), "double free");
    }

    @Test
    void zeroPageIsNeverFreedOrHandedOut() {
        final FrameAllocator fa = new FrameAllocator(new PhysicalMemory(8), 1);
        assertFalse(fa.put(0, fa.zeroPfn()));
        assertEquals(1, fa.refcount(fa.zeroPfn()));
        long pfn;
        while ((pfn = fa.allocZeroed(0)) != FrameAllocator.NO_FRAME) {
            assertNotEquals(fa.zeroPfn(), pfn);
        }
        assertEquals(7, fa.allocatedFrames());
    }

    @Test
    void outOfMemoryIsAResultAndRecovers() {
        final FrameAllocator fa = new FrameAllocator(new PhysicalMemory(256), 4);
        final List<Long> held = new ArrayList<>();
        long pfn;
        int cpu = 0;
        while ((pfn = fa.allocZeroed(cpu++ % 4)) != FrameAllocator.NO_FRAME) {
            held.add(pfn);
        }
        assertEquals(255, held.size());
        for (int i = 0; i < 5; i++) {
            assertEquals(FrameAllocator.NO_FRAME, fa.allocZeroed(i));
        }
        assertEquals(0, fa.freeFrames());
        assertEquals(255, fa.allocatedFrames());
        assertTrue(fa.allocFailures() >= 5);
        // Free everything on CPU 3's list; CPU 0 must still find them (drain_all_pages before OOM).
        for (final long p : held) {
            assertTrue(fa.put(3, p));
        }
        assertEquals(255, fa.freeFrames());
        int again = 0;
        while (fa.allocZeroed(0) != FrameAllocator.NO_FRAME) {
            again++;
        }
        assertEquals(255, again);
    }

    @Test
    void perCpuListsServeRepeatedAllocationsWithoutTheZone() {
        final FrameAllocator fa = new FrameAllocator(new PhysicalMemory(4096), 2);
        for (int i = 0; i < 1000; i++) {
            final long p = fa.allocZeroed(0);
            fa.put(0, p);
        }
        assertTrue(fa.pcpHits() >= 998, "hits " + fa.pcpHits());
        assertTrue(fa.pcpMisses() <= 2, "misses " + fa.pcpMisses());
        assertEquals(1, fa.pcpRefills());
        assertEquals(4095, fa.zoneFreeFrames() + fa.pcpFreeFrames());
        // A CPU number beyond the lists maps onto one of them.
        final long p = fa.allocZeroed(1_000_003);
        assertNotEquals(FrameAllocator.NO_FRAME, p);
        fa.put(1_000_003, p);
    }

    @Test
    void freeingManyFramesOnOneCpuDrainsBatchesToTheZone() {
        final FrameAllocator fa = new FrameAllocator(new PhysicalMemory(4096), 2);
        final List<Long> held = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            held.add(fa.allocZeroed(1));
        }
        for (final long p : held) {
            fa.put(0, p);
        }
        assertTrue(fa.pcpDrains() > 0);
        assertTrue(fa.pcpFreeFrames() < 200, "the list stays under its high mark: " + fa.pcpFreeFrames());
        assertEquals(4095, fa.freeFrames());
    }

    @Test
    void concurrentAllocAndFreeBalances() throws Exception {
        final FrameAllocator fa = new FrameAllocator(new PhysicalMemory(1024), 4);
        final Set<Long> live = ConcurrentHashMap.newKeySet();
        final int threads = 4;
        PhysicalMemoryTest.runConcurrently(threads, t -> {
            final List<Long> mine = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) {
                if (mine.size() < 100 && (i % 3 != 2)) {
                    final long p = fa.allocZeroed(t);
                    if (p == FrameAllocator.NO_FRAME) {
                        continue;
                    }
                    if (!live.add(p)) {
                        throw new AssertionError("frame " + p + " handed out twice");
                    }
                    fa.memory().putLong(Pfn.physAddr(p), t + 1);
                    mine.add(p);
                } else if (!mine.isEmpty()) {
                    final long p = mine.remove(mine.size() - 1);
                    if (fa.memory().getLong(Pfn.physAddr(p)) != t + 1) {
                        throw new AssertionError("frame " + p + " written by another owner");
                    }
                    live.remove(p);
                    // Free on another CPU's list sometimes: frames migrate between lists.
                    fa.put((t + i) % threads, p);
                }
            }
            for (final long p : mine) {
                live.remove(p);
                fa.put(t, p);
            }
        });
        assertEquals(0, fa.allocatedFrames());
        assertEquals(1023, fa.freeFrames());
        assertEquals(1023, fa.zoneFreeFrames() + fa.pcpFreeFrames());
    }

    @Test
    void countsPgallocAndPgfreeIntoVmstat() {
        final dev.vmsim.core.stat.VmStat vmstat = new dev.vmsim.core.stat.VmStat();
        final FrameAllocator fa = new FrameAllocator(new PhysicalMemory(64), 2, vmstat);
        final long a = fa.allocZeroed(0);
        final long b = fa.allocZeroed(1);
        fa.get(b);
        assertTrue(fa.put(0, a));
        assertFalse(fa.put(1, b), "b still has a reference");
        assertEquals(2, vmstat.get(dev.vmsim.core.stat.VmEvent.PGALLOC));
        assertEquals(1, vmstat.get(dev.vmsim.core.stat.VmEvent.PGFREE));
    }
}
