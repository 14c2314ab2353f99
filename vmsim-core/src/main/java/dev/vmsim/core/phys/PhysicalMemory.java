package dev.vmsim.core.phys;

import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.Platform;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Simulated physical memory: {@code frames} frames of the machine's page size (PAGE_SIZE: 4 KiB on
 * x86-64, the translation granule on arm64: 4, 16 or 64 KiB), addressed by physical address, held
 * off-heap in lazily allocated {@link MemoryChunk chunks} of 64 MiB (so more than 2 GiB works and a
 * large, mostly idle machine costs nothing). A frame number is {@code pa >> PAGE_SHIFT}, as the
 * kernel's pfn is, and one frame is one struct page.
 *
 * <p><b>Sparse zeroing.</b> The kernel hands out zeroed pages ({@code clear_page()} in
 * {@code alloc_zeroed_user_highpage_movable()}); a 4 KiB memset per fault would make the host's
 * memory bandwidth, not the modelled locking, dominate fault cost. Instead every frame has a mask of
 * 64 "valid lines" (64 bytes each): {@link #zeroFrame} clears the mask in O(1), a read of a line
 * whose bit is clear returns zero, and the first write to a line zeroes only that line and then
 * publishes its bit. Host memory therefore grows with lines actually written, not with frames
 * handed out. Reads always return exactly what was written. This is a departure from the kernel
 * (which clears the whole page) made for the simulator's cost model; it is invisible to callers.
 *
 * <p><b>Thread safety.</b> Every method may be called from any thread. Word accesses must be
 * 8-byte aligned (they then never straddle a line). Plain, acquire/release, volatile and
 * compare-and-set forms are provided because page-table entries live here and are read by
 * hardware walkers without locks. {@code sun.misc.Unsafe} has no acquire load, so the acquire
 * forms use volatile loads (stronger, still correct).
 *
 * <pre>{@code
 * final PhysicalMemory mem = new PhysicalMemory(1024, 14);  // 1024 frames of 16 KiB
 * mem.putLong(mem.physAddr(7) + 8, 42);
 * mem.zeroFrame(7);                 // frame 7 reads as zero again
 * assert mem.getLong(mem.physAddr(7) + 8) == 0;
 * }</pre>
 */
public final class PhysicalMemory {
    /** 4 KiB base pages: the smallest PAGE_SHIFT an architecture here has. */
    public static final int MIN_PAGE_SHIFT = MemoryChunk.BLOCK_SHIFT;
    /** 64 KiB: arm64's largest translation granule. */
    public static final int MAX_PAGE_SHIFT = 16;

    private static final int WORDS_PER_LINE = MemoryChunk.LINE_SIZE / 8;

    private final long frames;
    /** PAGE_SHIFT of this machine: log2 of a frame's size. */
    private final int pageShift;
    /** Chunks, installed once by CAS (a racing allocator frees its spare); null until first written. */
    private final AtomicReferenceArray<MemoryChunk> chunks;
    /** 64 bytes per line ever materialised: the host memory this simulation has touched. */
    private final LongAdder linesTouched = new LongAdder();

    /** {@code frames} frames of 4 KiB. */
    public PhysicalMemory(final long frames) {
        this(frames, MIN_PAGE_SHIFT);
    }

    /** {@code frames} frames of {@code 1 << pageShift} bytes ({@code pageShift} 12..16). */
    public PhysicalMemory(final long frames, final int pageShift) {
        if (frames <= 0 || frames > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("frames out of range: " + frames);
        }
        if (pageShift < MIN_PAGE_SHIFT || pageShift > MAX_PAGE_SHIFT) {
            throw new IllegalArgumentException("page shift out of range: " + pageShift);
        }
        this.frames = frames;
        this.pageShift = pageShift;
        final long bytes = frames << pageShift;
        this.chunks = new AtomicReferenceArray<>((int) ((bytes + MemoryChunk.BYTES - 1) >>> MemoryChunk.CHUNK_SHIFT));
    }

    public long frames() {
        return frames;
    }

    /** PAGE_SHIFT: log2 of a frame's size. */
    public int pageShift() {
        return pageShift;
    }

    /** PAGE_SIZE: bytes in one frame. */
    public long frameSize() {
        return 1L << pageShift;
    }

    /** Bytes of simulated memory: physical addresses at or above this are outside it. */
    public long bytes() {
        return frames << pageShift;
    }

    /** PFN_PHYS: the physical address of frame {@code pfn}. */
    public long physAddr(final long pfn) {
        return pfn << pageShift;
    }

    /** PHYS_PFN: the frame holding physical address {@code pa}. */
    public long pfnOf(final long pa) {
        return pa >>> pageShift;
    }

    private void check(final long pa) {
        if (pa < 0 || (pa >>> pageShift) >= frames) {
            throw new IndexOutOfBoundsException("physical address 0x" + Long.toHexString(pa));
        }
    }

    /** The chunk holding {@code pa}, or null if nothing in it was ever written (it then reads as zero). */
    private MemoryChunk chunkForRead(final long pa) {
        check(pa);
        return chunks.get((int) (pa >>> MemoryChunk.CHUNK_SHIFT));
    }

    /** The chunk holding {@code pa}, allocated on first use and installed with CAS. */
    private MemoryChunk chunkForWrite(final long pa) {
        check(pa);
        final int ci = (int) (pa >>> MemoryChunk.CHUNK_SHIFT);
        final MemoryChunk c = chunks.get(ci);
        if (c != null) {
            return c;
        }
        final MemoryChunk fresh = ChunkPool.take();
        final MemoryChunk won = chunks.compareAndExchange(ci, null, fresh);
        if (won != null) {
            ChunkPool.give(fresh);
            return won;
        }
        return fresh;
    }

    /**
     * Hands this memory's host chunks to the next {@link PhysicalMemory} of the process (see
     * {@link ChunkPool}): for a machine whose run is over. The caller guarantees that no thread uses
     * this memory any more (the runner joins its tasks first). Each chunk is unlinked before it is
     * pooled, so a stray access afterwards reads zeros or allocates a chunk of its own; it can never
     * reach memory that another machine owns.
     */
    public void close() {
        for (int i = 0; i < chunks.length(); i++) {
            final MemoryChunk c = chunks.getAndSet(i, null);
            if (c != null) {
                ChunkPool.give(c);
            }
        }
    }

    /** The chunk holding {@code pa} with the line of {@code pa} materialised (zeroed and valid). */
    private MemoryChunk writable(final long pa) {
        final MemoryChunk c = chunkForWrite(pa);
        if (c.materialiseLine(pa)) {
            linesTouched.increment();
        }
        return c;
    }

    public long getLong(final long pa) {
        final MemoryChunk c = chunkForRead(pa);
        return c == null || !c.lineValid(pa) ? 0 : c.buffer().getLong(MemoryChunk.offset(pa));
    }

    public void putLong(final long pa, final long value) {
        writable(pa).buffer().putLong(MemoryChunk.offset(pa), value);
    }

    /** Acquire load (implemented as a volatile load). */
    public long getLongAcquire(final long pa) {
        final MemoryChunk c = chunkForRead(pa);
        return c == null || !c.lineValid(pa) ? 0 : c.buffer().getLongVolatile(MemoryChunk.offset(pa));
    }

    /** Release store (an ordered store). */
    public void putLongRelease(final long pa, final long value) {
        writable(pa).buffer().putLongOrdered(MemoryChunk.offset(pa), value);
    }

    public long getLongVolatile(final long pa) {
        final MemoryChunk c = chunkForRead(pa);
        return c == null || !c.lineValid(pa) ? 0 : c.buffer().getLongVolatile(MemoryChunk.offset(pa));
    }

    public void putLongVolatile(final long pa, final long value) {
        writable(pa).buffer().putLongVolatile(MemoryChunk.offset(pa), value);
    }

    public boolean compareAndSetLong(final long pa, final long expected, final long update) {
        if (expected != 0) {
            // An untouched line reads as zero, so it cannot match: fail without materialising it.
            final MemoryChunk c = chunkForRead(pa);
            if (c == null || !c.lineValid(pa)) {
                return false;
            }
        }
        return writable(pa).buffer().compareAndSetLong(MemoryChunk.offset(pa), expected, update);
    }

    public byte getByte(final long pa) {
        final MemoryChunk c = chunkForRead(pa);
        return c == null || !c.lineValid(pa) ? 0 : c.buffer().getByte(MemoryChunk.offset(pa));
    }

    public void putByte(final long pa, final byte value) {
        writable(pa).buffer().putByte(MemoryChunk.offset(pa), value);
    }

    /**
     * clear_page(): makes the frame read as zero without writing a byte (each 4 KiB block's
     * valid-line mask is cleared). <b>Context:</b> the caller owns the frame (no concurrent writer).
     */
    public void zeroFrame(final long pfn) {
        final long pa = physAddr(pfn);
        final MemoryChunk c = chunkForRead(pa);
        if (c != null) {
            for (long b = pa; b < pa + frameSize(); b += MemoryChunk.BLOCK_SIZE) {
                c.clearLines(b);
            }
        }
    }

    /**
     * Fills a whole frame with {@code value} (memset of a page). <b>Context:</b> the caller owns the
     * frame.
     */
    public void fillFrame(final long pfn, final byte value) {
        final long pa = physAddr(pfn);
        if (value == 0) {
            zeroFrame(pfn);
            return;
        }
        final MemoryChunk c = chunkForWrite(pa);
        c.buffer().setMemory(MemoryChunk.offset(pa), (int) frameSize(), value);
        for (long b = pa; b < pa + frameSize(); b += MemoryChunk.BLOCK_SIZE) {
            linesTouched.add(c.publishAllLines(b));
        }
    }

    /**
     * copy_user_highpage(): copies one whole frame, touching only the source's valid lines.
     * <b>Context:</b> the caller owns {@code dstPfn}; the source may be written concurrently (the
     * copy of each line is then racy, as in the kernel).
     */
    public void copyFrame(final long srcPfn, final long dstPfn) {
        Platform.current().charge(Cost.COPY_PAGE_4K, Math.max(1, frameSize() >> 12));
        final long srcPa = physAddr(srcPfn);
        final long dstPa = physAddr(dstPfn);
        check(dstPa);
        final MemoryChunk src = chunkForRead(srcPa);
        for (long off = 0; off < frameSize(); off += MemoryChunk.BLOCK_SIZE) {
            final long srcMask = src == null ? 0 : src.validMask(srcPa + off);
            if (srcMask == 0) {
                final MemoryChunk d = chunkForRead(dstPa + off);
                if (d != null) {
                    d.clearLines(dstPa + off);
                }
                continue;
            }
            final MemoryChunk dst = chunkForWrite(dstPa + off);
            final int srcOff = MemoryChunk.offset(srcPa + off);
            final int dstOff = MemoryChunk.offset(dstPa + off);
            for (long m = srcMask; m != 0; m &= m - 1) {
                final int line = Long.numberOfTrailingZeros(m) * MemoryChunk.LINE_SIZE;
                dst.buffer().putBytes(dstOff + line, src.buffer(), srcOff + line, MemoryChunk.LINE_SIZE);
            }
            linesTouched.add(dst.publishLines(dstPa + off, srcMask));
        }
    }

    /**
     * The whole frame as words (frameSize / 8 longs, word {@code i} at byte 8i, as {@link #getLong}
     * reads it): the DMA of a write from the frame (a swap-out). Lines that read as zero are not
     * read. <b>Context:</b> no CPU writes the frame meanwhile (it is unmapped and flushed).
     */
    public long[] readFrame(final long pfn) {
        final long pa = physAddr(pfn);
        check(pa);
        final long[] words = new long[(int) (frameSize() >>> 3)];
        for (long off = 0; off < frameSize(); off += MemoryChunk.BLOCK_SIZE) {
            final MemoryChunk c = chunkForRead(pa + off);
            final long mask = c == null ? 0 : c.validMask(pa + off);
            final int base = MemoryChunk.offset(pa + off);
            final int w0 = (int) (off >>> 3);
            for (long m = mask; m != 0; m &= m - 1) {
                final int line = Long.numberOfTrailingZeros(m);
                for (int i = 0; i < WORDS_PER_LINE; i++) {
                    words[w0 + line * WORDS_PER_LINE + i] =
                            c.buffer().getLong(base + line * MemoryChunk.LINE_SIZE + 8 * i);
                }
            }
        }
        return words;
    }

    /**
     * The frame's contents become {@code words} (as {@link #readFrame} returns them): the DMA of a
     * read into the frame (a swap-in). One pass per 4 KiB block, each line's valid bit published
     * once for the block, where a {@link #putLong} per word would materialise each line by itself;
     * lines that are all zero are left unbacked and read as zero, as {@link #copyFrame} leaves the
     * source's zero lines. <b>Context:</b> the caller owns the frame (nobody reads or writes it
     * meanwhile: a new, locked swap-cache folio).
     */
    public void writeFrame(final long pfn, final long[] words) {
        final long pa = physAddr(pfn);
        check(pa);
        if (words.length != (int) (frameSize() >>> 3)) {
            throw new IllegalArgumentException(words.length + " words for a frame of " + frameSize() + " bytes");
        }
        for (long off = 0; off < frameSize(); off += MemoryChunk.BLOCK_SIZE) {
            final int w0 = (int) (off >>> 3);
            long lines = 0;
            for (int line = 0; line < Long.SIZE; line++) {
                for (int i = 0; i < WORDS_PER_LINE; i++) {
                    if (words[w0 + line * WORDS_PER_LINE + i] != 0) {
                        lines |= 1L << line;
                        break;
                    }
                }
            }
            if (lines == 0) {
                final MemoryChunk c = chunkForRead(pa + off);
                if (c != null) {
                    c.clearLines(pa + off);
                }
                continue;
            }
            final MemoryChunk c = chunkForWrite(pa + off);
            final int base = MemoryChunk.offset(pa + off);
            for (long m = lines; m != 0; m &= m - 1) {
                final int line = Long.numberOfTrailingZeros(m);
                for (int i = 0; i < WORDS_PER_LINE; i++) {
                    c.buffer()
                            .putLong(
                                    base + line * MemoryChunk.LINE_SIZE + 8 * i, words[w0 + line * WORDS_PER_LINE + i]);
                }
            }
            linesTouched.add(c.publishLines(pa + off, lines));
        }
    }

    /**
     * Host bytes this simulation has touched: 64 bytes per line ever written (lines re-zeroed by
     * {@link #zeroFrame} stay counted, as their host pages stay resident). Grows with written
     * lines, not with frames handed out.
     */
    public long hostBytesBacked() {
        return linesTouched.sum() * MemoryChunk.LINE_SIZE;
    }

    /** Host bytes reserved (virtual, not necessarily resident) by the chunks allocated so far. */
    public long hostBytesReserved() {
        long n = 0;
        for (int i = 0; i < chunks.length(); i++) {
            if (chunks.get(i) != null) {
                n += MemoryChunk.BYTES;
            }
        }
        return n;
    }
}
