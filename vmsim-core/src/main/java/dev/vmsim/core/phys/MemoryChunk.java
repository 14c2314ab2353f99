package dev.vmsim.core.phys;

import dev.vmsim.core.clock.Platform;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import org.agrona.UnsafeAccess;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One 64 MiB chunk of simulated physical memory in off-heap memory from {@code
 * Unsafe.allocateMemory} (not zeroed, so the host touches a page only when a line in it is
 * written), with the line masks that implement sparse zeroing for {@link PhysicalMemory}.
 *
 * <p>The masks are kept per 4 KiB <i>block</i> (64 lines, one {@code long} per mask), whatever the
 * machine's page size: a 4K frame is one block, a 16K frame four, a 64K frame sixteen. Frames are
 * aligned to their size, so a frame never straddles two chunks.
 *
 * <p><b>Line states</b> (bit {@code l} of a block's masks, line {@code l} = bytes 64l..64l+63):
 * <ul>
 *   <li>valid clear, busy clear: the line reads as zero; its bytes are garbage.
 *   <li>valid clear, busy set: one writer is zeroing the line; other writers spin until valid.
 *   <li>valid set: the bytes are the line's contents.
 * </ul>
 * The valid bit is published with release after the line is zeroed and read with acquire before
 * the bytes are read, so a reader that sees the bit sees the zeroed bytes.
 *
 * <p>The memory is freed by a {@link Cleaner} when the chunk becomes unreachable (a machine is
 * dropped, or the {@link ChunkPool} is full) or at once by {@link #release}. A closed machine's
 * chunks go to the {@link ChunkPool} and are {@link #reset} for the next one.
 */
final class MemoryChunk {
    /** log2 of a mask block: 4 KiB, 64 lines of 64 bytes. */
    static final int BLOCK_SHIFT = 12;

    static final int BLOCK_SIZE = 1 << BLOCK_SHIFT;
    /** log2 of the chunk size (64 MiB). */
    static final int CHUNK_SHIFT = 26;

    static final int BLOCKS = 1 << (CHUNK_SHIFT - BLOCK_SHIFT);
    static final int BYTES = 1 << CHUNK_SHIFT;
    static final int LINE_SHIFT = 6;
    static final int LINE_SIZE = 1 << LINE_SHIFT;

    private static final Cleaner CLEANER = Cleaner.create();
    private static final VarHandle MASK = MethodHandles.arrayElementVarHandle(long[].class);

    private final UnsafeBuffer buffer;
    /** Lines whose bytes are meaningful. Release on publish, acquire on read. */
    private final long[] valid = new long[BLOCKS];
    /** Lines being materialised, claimed by CAS. */
    private final long[] busy = new long[BLOCKS];
    /** Lines ever materialised (never cleared): what the host has backed. */
    private final long[] touched = new long[BLOCKS];

    private final Cleaner.Cleanable cleanable;

    MemoryChunk() {
        final long address = UnsafeAccess.UNSAFE.allocateMemory(BYTES);
        this.buffer = new UnsafeBuffer(address, BYTES);
        this.cleanable = CLEANER.register(this, new Free(address));
    }

    /** Frees the memory now (a chunk that was never published). */
    void release() {
        cleanable.clean();
    }

    /**
     * Makes every line read as zero again and forgets which lines were touched, for a new owner. Only
     * for a chunk no thread uses (one taken from the {@link ChunkPool}); the bytes stay as they were,
     * garbage behind clear valid bits, and the host pages under them stay backed.
     */
    void reset() {
        Arrays.fill(valid, 0L);
        Arrays.fill(busy, 0L);
        Arrays.fill(touched, 0L);
    }

    UnsafeBuffer buffer() {
        return buffer;
    }

    /** Byte offset of {@code pa} in its chunk. */
    static int offset(final long pa) {
        return (int) (pa & (BYTES - 1));
    }

    private static int block(final long pa) {
        return (int) ((pa >>> BLOCK_SHIFT) & (BLOCKS - 1));
    }

    private static long bit(final long pa) {
        return 1L << ((pa >>> LINE_SHIFT) & 63);
    }

    /** Acquire; pairs with the release in {@link #materialiseLine} / {@link #publishLines}. */
    boolean lineValid(final long pa) {
        return ((long) MASK.getAcquire(valid, block(pa)) & bit(pa)) != 0;
    }

    long validMask(final long pa) {
        return (long) MASK.getAcquire(valid, block(pa));
    }

    /**
     * Makes the line of {@code pa} valid, zeroing it first if it was not. Returns true if this call
     * materialised a line the host had never backed before.
     */
    boolean materialiseLine(final long pa) {
        final int f = block(pa);
        final long b = bit(pa);
        if (((long) MASK.getAcquire(valid, f) & b) != 0) {
            return false;
        }
        for (; ; ) {
            final long claimed = (long) MASK.getAndBitwiseOr(busy, f, b);
            if ((claimed & b) == 0) {
                break;
            }
            // Another writer is zeroing this line: wait for its valid bit.
            final Platform p = Platform.current();
            while (((long) MASK.getAcquire(valid, f) & b) == 0) {
                p.spinWait();
                if (((long) MASK.getVolatile(busy, f) & b) == 0) {
                    break;
                }
            }
            if (((long) MASK.getAcquire(valid, f) & b) != 0) {
                return false;
            }
        }
        // We own the busy bit. Re-check: a writer may have published and released between our
        // first check and our claim (it sets valid before clearing busy, so we see it here).
        if (((long) MASK.getVolatile(valid, f) & b) == 0) {
            buffer.setMemory(offset(pa) & ~(LINE_SIZE - 1), LINE_SIZE, (byte) 0);
            MASK.getAndBitwiseOrRelease(valid, f, b);
        }
        MASK.getAndBitwiseAndRelease(busy, f, ~b);
        return ((long) MASK.getAndBitwiseOr(touched, f, b) & b) == 0;
    }

    /** Clears every valid bit of the block holding {@code pa} (an O(1) clear of 4 KiB). */
    void clearLines(final long pa) {
        MASK.setRelease(valid, block(pa), 0L);
    }

    /** Publishes every line of the block (after a whole-block fill). Returns lines newly touched. */
    int publishAllLines(final long pa) {
        return publishLines(pa, -1L);
    }

    /**
     * Publishes {@code lines} of the block holding {@code pa} as valid and the rest as zero, after
     * their bytes were written by the caller, who owns the block. Returns lines newly touched.
     */
    int publishLines(final long pa, final long lines) {
        final int f = block(pa);
        MASK.setRelease(valid, f, lines);
        final long before = (long) MASK.getAndBitwiseOr(touched, f, lines);
        return Long.bitCount(lines & ~before);
    }

    /** The cleaning action: must not reference the chunk. */
    private static final class Free implements Runnable {
        private final long address;

        Free(final long address) {
            this.address = address;
        }

        @Override
        public void run() {
            UnsafeAccess.UNSAFE.freeMemory(address);
        }
    }
}
