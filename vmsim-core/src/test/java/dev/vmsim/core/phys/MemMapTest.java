package dev.vmsim.core.phys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MemMapTest {
    @Test
    void testAndSetReturnsTheOldBitAndLeavesTheOthers() {
        final MemMap map = new MemMap(4);
        map.set(2, PageFlags.PG_LRU);
        assertFalse(map.testAndSet(2, PageFlags.PG_LOCKED));
        assertTrue(map.testAndSet(2, PageFlags.PG_LOCKED));
        assertTrue(map.testAndClear(2, PageFlags.PG_LOCKED));
        assertFalse(map.test(2, PageFlags.PG_LOCKED));
        assertTrue(map.test(2, PageFlags.PG_LRU));
        assertEquals("lru", PageFlags.format(map.flags(2)));
        assertEquals(0, map.flags(1));
    }

    @Test
    void anAllocatedFrameStartsWithAClearStructPage() {
        final PhysicalMemory memory = new PhysicalMemory(16);
        final FrameAllocator frames = new FrameAllocator(memory, 1);
        final long pfn = frames.allocZeroed(0);
        final MemMap map = frames.memMap();
        map.set(pfn, PageFlags.PG_SWAPBACKED);
        map.setMapping(pfn, "anon_vma");
        map.setIndex(pfn, 7);
        map.setPrivateValue(pfn, 99);
        frames.put(0, pfn);
        long again;
        do {
            again = frames.allocZeroed(0);
        } while (again != pfn && again != FrameAllocator.NO_FRAME);
        assertEquals(pfn, again);
        assertEquals(0, map.flags(pfn));
        assertNull(map.mapping(pfn));
        assertEquals(0, map.index(pfn));
        assertEquals(0, map.privateValue(pfn));
        memory.close();
    }

    @Test
    void aFrameOnAnLruCannotBeFreed() {
        final PhysicalMemory memory = new PhysicalMemory(16);
        final FrameAllocator frames = new FrameAllocator(memory, 1);
        final long pfn = frames.allocZeroed(0);
        frames.memMap().set(pfn, PageFlags.PG_LRU);
        assertThrows(AssertionError.class, () -> frames.put(0, pfn));
        memory.close();
    }
}
