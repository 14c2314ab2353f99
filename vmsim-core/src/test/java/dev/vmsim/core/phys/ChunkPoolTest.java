package dev.vmsim.core.phys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A closed memory's host chunks serve the next memory, which still starts out reading zero. */
class ChunkPoolTest {
    private static final long FRAMES = 3L * MemoryChunk.BLOCKS;

    /** One line written in every frame of every chunk, at offsets that differ per frame. */
    private static void scribble(final PhysicalMemory mem, final long value) {
        for (long pfn = 0; pfn < FRAMES; pfn += 97) {
            mem.putLong(Pfn.physAddr(pfn) + (pfn % 512) * 8, value ^ pfn);
        }
    }

    @Test
    void aClosedMemorysChunksAreReusedAndReadAsZero() {
        final PhysicalMemory first = new PhysicalMemory(FRAMES);
        scribble(first, 0x5a5a5a5a5a5a5a5aL);
        final int pooledBefore = ChunkPool.size();
        first.close();
        assertEquals(pooledBefore + 3, ChunkPool.size(), "all three chunks pooled");
        assertEquals(0, first.hostBytesReserved(), "the closed memory holds no chunk");
        assertEquals(0, first.getLong(Pfn.physAddr(97) + 97 * 8), "a closed memory reads zero");

        final PhysicalMemory second = new PhysicalMemory(FRAMES);
        for (long pfn = 0; pfn < FRAMES; pfn += 97) {
            second.putByte(Pfn.physAddr(pfn + 1), (byte) 1); // a neighbour frame: materialises the chunks
        }
        assertEquals(pooledBefore, ChunkPool.size(), "the second memory took the pooled chunks");
        for (long pfn = 0; pfn < FRAMES; pfn += 97) {
            assertEquals(0, second.getLong(Pfn.physAddr(pfn) + (pfn % 512) * 8), "stale bytes visible at pfn " + pfn);
        }
        assertEquals(FRAMES / 97 + 1, second.hostBytesBacked() / 64, "touched lines counted from zero");
        scribble(second, 7);
        for (long pfn = 0; pfn < FRAMES; pfn += 97) {
            assertEquals(7 ^ pfn, second.getLong(Pfn.physAddr(pfn) + (pfn % 512) * 8));
        }
        second.close();
    }

    @Test
    void thePoolKeepsNoMoreThanItsCapacity() {
        final List<PhysicalMemory> mems = new ArrayList<>();
        final int n = ChunkPool.capacity() + 2;
        for (int i = 0; i < n; i++) {
            final PhysicalMemory m = new PhysicalMemory(MemoryChunk.BLOCKS);
            m.putLong(0, i);
            mems.add(m);
        }
        for (final PhysicalMemory m : mems) {
            m.close();
        }
        assertTrue(ChunkPool.size() <= ChunkPool.capacity(), "pooled " + ChunkPool.size());
        assertEquals(ChunkPool.capacity(), ChunkPool.size(), "the pool fills up to its capacity");
    }
}
