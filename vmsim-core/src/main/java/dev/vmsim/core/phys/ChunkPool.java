package dev.vmsim.core.phys;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Host memory handed from a closed {@link PhysicalMemory} to the next one in the same process, so
 * that a new simulated machine does not pay the host for memory the last one already had backed.
 *
 * <p>Why: a fresh chunk's first write to each host page is a page fault of the host (in a virtual
 * machine, of the hypervisor too), and dropping a chunk unmaps 64 MiB, which makes the host shoot
 * down TLBs on every CPU running the JVM. Both land inside simulated faults and show up as the
 * simulator's tail latency: in back-to-back 1.2 s page-fault1 runs on new machines, p99 was about
 * 1.5 µs and p99.9 3-5 µs; on reused memory, 0.55-0.75 µs and 0.8-1.1 µs. The comparison runner
 * builds one machine per run, so every run paid it.
 *
 * <p>The pool is a LIFO (the most recently used chunk is the warmest) holding at most {@link #capacity}
 * chunks; chunks beyond it are dropped to their {@link java.lang.ref.Cleaner}, which frees them.
 */
final class ChunkPool {
    /** Chunks kept at most: {@code -Dvmsim.phys.pooledChunks} (default 32, i.e. 2 GiB of address space). */
    private static final int CAPACITY = Math.max(0, Integer.getInteger("vmsim.phys.pooledChunks", 32));

    private static final ConcurrentLinkedDeque<MemoryChunk> FREE = new ConcurrentLinkedDeque<>();
    /** Chunks in {@link #FREE}; kept beside it because ConcurrentLinkedDeque.size() is O(n). */
    private static final AtomicInteger SIZE = new AtomicInteger();

    private ChunkPool() {}

    static int capacity() {
        return CAPACITY;
    }

    /** A chunk that reads as zero everywhere: a pooled one, reset, or a new one. */
    static MemoryChunk take() {
        final MemoryChunk c = FREE.pollFirst();
        if (c == null) {
            return new MemoryChunk();
        }
        SIZE.decrementAndGet();
        c.reset();
        return c;
    }

    /**
     * Gives back a chunk nobody uses any more (its memory is closed or it lost an installation
     * race). The deque's insertion happens-before the {@link #take} that removes it, so the taker
     * sees every write the giver made.
     */
    static void give(final MemoryChunk c) {
        if (SIZE.incrementAndGet() > CAPACITY) {
            SIZE.decrementAndGet();
            c.release();
            return;
        }
        FREE.addFirst(c);
    }

    /** Chunks pooled now. */
    static int size() {
        return SIZE.get();
    }
}
