package dev.vmsim.core.phys;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The frame allocator (mm/page_alloc.c): hands out single zeroed frames, keeps a per-frame
 * reference count ({@code page_ref_count}) and map count ({@code page_mapcount}), and reserves the
 * shared zero page (frame 0 is never handed out; it is {@link #zeroPfn()}).
 *
 * <p>Out of memory is a result, not an exception: {@link #allocZeroed} returns {@link #NO_FRAME}.
 *
 * <p>SKELETON implementation (one shared queue); [1/6] adds the per-CPU (PCP) caches and counters.
 */
public final class FrameAllocator {
    /** Returned by {@link #allocZeroed} when no frame is free (the caller turns it into VM_FAULT_OOM / -ENOMEM). */
    public static final long NO_FRAME = -1;

    private final PhysicalMemory memory;
    private final ConcurrentLinkedQueue<Long> free = new ConcurrentLinkedQueue<>();
    private final AtomicIntegerArray refcount;
    private final AtomicIntegerArray mapcount;
    private final AtomicLong allocated = new AtomicLong();

    public FrameAllocator(final PhysicalMemory memory, final int cpus) {
        this.memory = memory;
        final int n = (int) memory.frames();
        this.refcount = new AtomicIntegerArray(n);
        this.mapcount = new AtomicIntegerArray(n);
        refcount.set(0, 1); // the zero page is pinned forever
        for (long pfn = 1; pfn < n; pfn++) {
            free.add(pfn);
        }
    }

    public PhysicalMemory memory() {
        return memory;
    }

    /** The shared zero page (ZERO_PAGE(0)). Never freed. */
    public long zeroPfn() {
        return 0;
    }

    /** Allocates a frame that reads as zero, with refcount 1 and mapcount 0, or returns {@link #NO_FRAME}. */
    public long allocZeroed(final int cpu) {
        final Long pfn = free.poll();
        if (pfn == null) {
            return NO_FRAME;
        }
        memory.zeroFrame(pfn);
        refcount.set(pfn.intValue(), 1);
        mapcount.set(pfn.intValue(), 0);
        allocated.incrementAndGet();
        return pfn;
    }

    /** get_page. */
    public void get(final long pfn) {
        refcount.incrementAndGet((int) pfn);
    }

    /** put_page: drops a reference and frees the frame when it was the last. Returns true if freed. */
    public boolean put(final int cpu, final long pfn) {
        if (pfn == zeroPfn()) {
            return false;
        }
        final int r = refcount.decrementAndGet((int) pfn);
        if (r < 0) {
            throw new IllegalStateException("refcount underflow on pfn " + pfn);
        }
        if (r == 0) {
            allocated.decrementAndGet();
            free.add(pfn);
            return true;
        }
        return false;
    }

    public int refcount(final long pfn) {
        return refcount.get((int) pfn);
    }

    public int mapcount(final long pfn) {
        return mapcount.get((int) pfn);
    }

    public int incMapcount(final long pfn) {
        return mapcount.incrementAndGet((int) pfn);
    }

    public int decMapcount(final long pfn) {
        return mapcount.decrementAndGet((int) pfn);
    }

    public long allocatedFrames() {
        return allocated.get();
    }

    public long freeFrames() {
        return memory.frames() - 1 - allocated.get();
    }
}
