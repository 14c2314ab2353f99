package dev.vmsim.core.phys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class PhysicalMemoryTest {
    private static long pa(final long pfn, final int off) {
        return Pfn.physAddr(pfn) + off;
    }

    @Test
    void freshMemoryReadsZeroAndBacksNothing() {
        final PhysicalMemory mem = new PhysicalMemory(1024);
        for (int off = 0; off < Pfn.PAGE_SIZE; off += 8) {
            assertEquals(0, mem.getLong(pa(5, off)));
            assertEquals(0, mem.getLongAcquire(pa(5, off)));
        }
        assertEquals(0, mem.getByte(pa(1023, 4095)));
        assertEquals(0, mem.hostBytesBacked());
        assertEquals(0, mem.hostBytesReserved());
    }

    /** The swap device's DMA: a whole frame out as words and back in, zero lines left unbacked. */
    @Test
    void writeFrameReplacesTheContentsAndReadFrameReturnsThem() {
        final PhysicalMemory mem = new PhysicalMemory(64);
        assertArrayEquals(new long[512], mem.readFrame(9), "an untouched frame reads as zeros");
        mem.putLong(pa(4, 0), 7);
        mem.putLong(pa(4, 640), 9); // line 10
        final long backed = mem.hostBytesBacked();
        final long[] words = new long[512];
        words[1] = 0x55; // line 0
        words[511] = -2; // line 63
        mem.writeFrame(4, words);
        assertEquals(0x55, mem.getLong(pa(4, 8)));
        assertEquals(0, mem.getLong(pa(4, 0)), "the old word is overwritten");
        assertEquals(0, mem.getLong(pa(4, 640)), "a line that is zero in the words reads zero");
        assertEquals(-2, mem.getLong(pa(4, 4088)));
        assertEquals(backed + 64, mem.hostBytesBacked(), "only line 63 is newly backed");
        assertArrayEquals(words, mem.readFrame(4));
        mem.writeFrame(4, new long[512]);
        assertArrayEquals(new long[512], mem.readFrame(4), "all zero: every line reads zero");
        assertThrows(IllegalArgumentException.class, () -> mem.writeFrame(4, new long[10]));

        final PhysicalMemory granule = new PhysicalMemory(16, 14); // 16 KiB frames: four mask blocks
        final long[] big = new long[2048];
        big[1000] = 3;
        big[2047] = 4;
        granule.writeFrame(5, big);
        assertEquals(3, granule.getLong(granule.physAddr(5) + 8000));
        assertEquals(4, granule.getLong(granule.physAddr(5) + 16376));
        assertArrayEquals(big, granule.readFrame(5));
    }

    @Test
    void readsReturnExactlyWhatWasWritten() {
        final PhysicalMemory mem = new PhysicalMemory(64);
        mem.putLong(pa(3, 0), 0x1122334455667788L);
        mem.putLongRelease(pa(3, 64), -1L);
        mem.putLongVolatile(pa(3, 4088), 42);
        mem.putByte(pa(3, 100), (byte) 0xab);
        assertEquals(0x1122334455667788L, mem.getLong(pa(3, 0)));
        assertEquals((byte) 0x88, mem.getByte(pa(3, 0)), "little-endian words");
        assertEquals(-1L, mem.getLongAcquire(pa(3, 64)));
        assertEquals(42, mem.getLongVolatile(pa(3, 4088)));
        assertEquals((byte) 0xab, mem.getByte(pa(3, 100)));
        // The rest of a materialised line is zero, not garbage.
        assertEquals(0, mem.getLong(pa(3, 8)));
        assertEquals(0, mem.getLong(pa(3, 104)));
        assertEquals(0, mem.getByte(pa(3, 101)));
    }

    @Test
    void hostBytesGrowWithWrittenLinesNotFrames() {
        final PhysicalMemory mem = new PhysicalMemory(4096);
        for (long pfn = 1; pfn < 4096; pfn++) {
            mem.zeroFrame(pfn);
        }
        assertEquals(0, mem.hostBytesBacked(), "zeroing frames touches no host memory");
        mem.putLong(pa(10, 0), 1);
        mem.putLong(pa(10, 8), 2); // same line
        assertEquals(64, mem.hostBytesBacked());
        mem.putByte(pa(11, 4095), (byte) 1);
        assertEquals(128, mem.hostBytesBacked());
        mem.zeroFrame(10);
        mem.putLong(pa(10, 0), 3); // the same host line again
        assertEquals(128, mem.hostBytesBacked());
    }

    @Test
    void zeroFrameAfterWritesReadsZero() {
        final PhysicalMemory mem = new PhysicalMemory(16);
        mem.fillFrame(2, (byte) 0x5a);
        assertEquals(0x5a5a5a5a5a5a5a5aL, mem.getLong(pa(2, 2048)));
        mem.zeroFrame(2);
        for (int off = 0; off < Pfn.PAGE_SIZE; off += 8) {
            assertEquals(0, mem.getLong(pa(2, off)));
        }
        // Writing one word after the zero re-materialises only that line, zeroed.
        mem.putLong(pa(2, 2048), 7);
        assertEquals(7, mem.getLong(pa(2, 2048)));
        assertEquals(0, mem.getLong(pa(2, 2056)));
        assertEquals(0, mem.getLong(pa(2, 2112)));
    }

    @Test
    void copyFrameCopiesContentsAndZeroesTheRest() {
        final PhysicalMemory mem = new PhysicalMemory(16);
        mem.putLong(pa(1, 128), 99);
        mem.putByte(pa(1, 4000), (byte) 3);
        mem.fillFrame(2, (byte) 0x77); // destination garbage must vanish
        mem.copyFrame(1, 2);
        assertEquals(99, mem.getLong(pa(2, 128)));
        assertEquals(3, mem.getByte(pa(2, 4000)));
        assertEquals(0, mem.getLong(pa(2, 0)));
        assertEquals(0, mem.getLong(pa(2, 2048)));
        // An unwritten source copies as zero.
        mem.fillFrame(4, (byte) 1);
        mem.copyFrame(3, 4);
        assertEquals(0, mem.getLong(pa(4, 0)));
        // Source and destination are independent afterwards.
        mem.putLong(pa(2, 128), 5);
        assertEquals(99, mem.getLong(pa(1, 128)));
    }

    @Test
    void granuleFramesAreWholePagesOfTheirSize() {
        for (final int shift : new int[] {14, 16}) {
            final long size = 1L << shift;
            final PhysicalMemory mem = new PhysicalMemory(2048, shift);
            assertEquals(size, mem.frameSize());
            assertEquals(2048 * size, mem.bytes());
            assertEquals(7 * size, mem.physAddr(7));
            assertEquals(7, mem.pfnOf(7 * size + size - 1), "the last byte of frame 7 is in frame 7");
            // Frames 5 and 6 are neighbours: a 4 KiB view of frame 5 would spill into frame 6.
            mem.fillFrame(6, (byte) 0x5a);
            mem.putByte(mem.physAddr(5), (byte) 1);
            mem.putByte(mem.physAddr(5) + size - 1, (byte) 2);
            mem.copyFrame(5, 9);
            assertEquals(1, mem.getByte(mem.physAddr(9)));
            assertEquals(2, mem.getByte(mem.physAddr(9) + size - 1), "the copy takes the whole frame");
            assertEquals(0x5a, mem.getByte(mem.physAddr(6)), "frame 6 untouched by frame 5's writes");
            assertEquals(0x5a, mem.getByte(mem.physAddr(6) + size - 1), "fillFrame fills the whole frame");
            mem.zeroFrame(5);
            assertEquals(0, mem.getByte(mem.physAddr(5) + size - 1), "clear_page clears the whole frame");
            assertEquals(0x5a, mem.getByte(mem.physAddr(6)), "and no byte of the next");
            mem.copyFrame(5, 6);
            assertEquals(0, mem.getByte(mem.physAddr(6) + size - 1), "copying a zero frame zeroes the whole target");
            assertThrows(IndexOutOfBoundsException.class, () -> mem.getLong(mem.bytes()));
        }
        assertThrows(IllegalArgumentException.class, () -> new PhysicalMemory(16, 17));
    }

    @Test
    void compareAndSetOnUntouchedAndWrittenLines() {
        final PhysicalMemory mem = new PhysicalMemory(8);
        assertFalse(mem.compareAndSetLong(pa(1, 0), 5, 6));
        assertEquals(0, mem.hostBytesBacked(), "a failing CAS on a zero line materialises nothing");
        assertTrue(mem.compareAndSetLong(pa(1, 0), 0, 6));
        assertFalse(mem.compareAndSetLong(pa(1, 0), 0, 7));
        assertTrue(mem.compareAndSetLong(pa(1, 0), 6, 7));
        assertEquals(7, mem.getLong(pa(1, 0)));
    }

    @Test
    void concurrentCasIncrementsAreNotLost() throws Exception {
        final PhysicalMemory mem = new PhysicalMemory(8);
        final int threads = 4;
        final int each = 20_000;
        final long word = pa(6, 512);
        runConcurrently(threads, t -> {
            for (int i = 0; i < each; i++) {
                long v;
                do {
                    v = mem.getLongVolatile(word);
                } while (!mem.compareAndSetLong(word, v, v + 1));
            }
        });
        assertEquals((long) threads * each, mem.getLong(word));
    }

    @Test
    void concurrentFirstWritesToOneLineAreAllKept() throws Exception {
        final PhysicalMemory mem = new PhysicalMemory(512);
        final int threads = 4;
        for (int round = 0; round < 200; round++) {
            final long pfn = 1 + round;
            // Each thread writes its own word of the same untouched line: materialising the line must
            // never zero another thread's already-written word.
            runConcurrently(threads, t -> mem.putLongVolatile(pa(pfn, 8 * t), 1000 + t));
            for (int t = 0; t < threads; t++) {
                assertEquals(1000 + t, mem.getLong(pa(pfn, 8 * t)), "round " + round + " word " + t);
            }
        }
    }

    @Test
    void chunkBoundariesAndMoreThanTwoGibibytes() {
        final long frames = 3L << (30 - Pfn.PAGE_SHIFT); // 3 GiB, lazily backed
        final PhysicalMemory mem = new PhysicalMemory(frames);
        final long lastOfChunk0 = MemoryChunk.BLOCKS - 1;
        mem.putLong(pa(lastOfChunk0, 4088), 11);
        mem.putLong(pa(lastOfChunk0 + 1, 0), 12);
        final long above2g = (2L << (30 - Pfn.PAGE_SHIFT)) + 17;
        mem.putLong(pa(above2g, 8), 13);
        mem.putLong(pa(frames - 1, 4088), 14);
        assertEquals(11, mem.getLong(pa(lastOfChunk0, 4088)));
        assertEquals(12, mem.getLong(pa(lastOfChunk0 + 1, 0)));
        assertEquals(13, mem.getLong(pa(above2g, 8)));
        assertEquals(14, mem.getLong(pa(frames - 1, 4088)));
        assertEquals(0, mem.getLong(pa(above2g + 1, 8)));
        mem.copyFrame(above2g, 1);
        assertEquals(13, mem.getLong(pa(1, 8)));
        assertEquals(4L * MemoryChunk.BYTES, mem.hostBytesReserved(), "only written chunks are reserved");
        assertThrows(IndexOutOfBoundsException.class, () -> mem.getLong(pa(frames, 0)));
    }

    interface Body {
        void run(int thread) throws Exception;
    }

    static void runConcurrently(final int threads, final Body body) throws Exception {
        final CyclicBarrier start = new CyclicBarrier(threads);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final int id = t;
            final Thread th = new Thread(() -> {
                try {
                    start.await();
                    body.run(id);
                } catch (final Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            ts.add(th);
            th.start();
        }
        for (final Thread th : ts) {
            th.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }
}
