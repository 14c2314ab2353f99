package dev.vmsim.core.vmscan;

import dev.vmsim.core.Machine;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.MemMap;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.swap.SwpEntry;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A swap device for reclaim's tests, doing what the {@link SwapBackend} contract asks and nothing
 * more: slots numbered from 1 (folio->swap is the swp_entry_t of type 0 and that offset), a
 * swap-cache reference taken by addToSwap, swap PTEs in the architecture's swap-PTE layout, and
 * a write that completes at once ({@code async == false}) or when the test calls {@link
 * #completeWrites}.
 */
final class FakeSwap implements SwapBackend {
    private final Machine machine;
    private final boolean async;
    private final AtomicLong nextSlot = new AtomicLong(1);
    /** swap_map: the references each slot has from swap PTEs. */
    final Map<Long, AtomicInteger> swapMap = new ConcurrentHashMap<>();

    final Queue<Long> writing = new ConcurrentLinkedQueue<>();
    final AtomicInteger added = new AtomicInteger();
    final AtomicInteger written = new AtomicInteger();
    final AtomicInteger deleted = new AtomicInteger();
    /** Slots left; addToSwap fails at 0. */
    final AtomicLong freeSlots;

    FakeSwap(final Machine machine, final boolean async, final long slots) {
        this.machine = machine;
        this.async = async;
        this.freeSlots = new AtomicLong(slots);
    }

    /** The swap PTE this device installs in {@code mm} for the swap entry {@code entry}. */
    static long swapPteOf(final MmStruct mm, final long entry) {
        return mm.pageTables().format().swpEntryToPte(entry);
    }

    @Override
    public boolean canReclaimAnon() {
        return freeSlots.get() > 0;
    }

    @Override
    public boolean addToSwap(final int cpu, final long pfn) {
        if (freeSlots.getAndDecrement() <= 0) {
            freeSlots.incrementAndGet();
            return false;
        }
        final long slot = SwpEntry.swpEntry(0, nextSlot.getAndIncrement());
        final FrameAllocator frames = machine.frames();
        final MemMap memMap = frames.memMap();
        frames.get(pfn); // the swap cache's reference
        memMap.setPrivateValue(pfn, slot);
        memMap.set(pfn, PageFlags.PG_SWAPCACHE);
        memMap.set(pfn, PageFlags.PG_DIRTY);
        swapMap.put(slot, new AtomicInteger());
        added.incrementAndGet();
        return true;
    }

    @Override
    public long swapPte(final MmStruct mm, final long pfn, final boolean exclusive) {
        final long slot = machine.frames().memMap().privateValue(pfn);
        swapMap.get(slot).incrementAndGet();
        return swapPteOf(mm, slot);
    }

    @Override
    public int swapDuplicate(final long entry) {
        swapMap.get(entry).incrementAndGet();
        return 0;
    }

    @Override
    public void freeSwapAndCache(final long entry) {
        swapMap.get(entry).decrementAndGet();
    }

    @Override
    public Pageout pageout(final int cpu, final long pfn) {
        final FrameAllocator frames = machine.frames();
        final MemMap memMap = frames.memMap();
        memMap.clear(pfn, PageFlags.PG_DIRTY);
        written.incrementAndGet();
        if (async) {
            memMap.set(pfn, PageFlags.PG_WRITEBACK); // folio_start_writeback
            writing.add(pfn);
        }
        frames.folioWait().unlock(pfn); // swap_writeout unlocks the folio
        return Pageout.PAGE_SUCCESS;
    }

    /** The device's completions: folio_end_writeback for every write in flight. */
    int completeWrites() {
        int n = 0;
        for (Long pfn; (pfn = writing.poll()) != null; n++) {
            machine.vmscan().folioEndWriteback(pfn);
        }
        return n;
    }

    @Override
    public void deleteFromSwapCache(final long pfn) {
        final MemMap memMap = machine.frames().memMap();
        memMap.clear(pfn, PageFlags.PG_SWAPCACHE);
        memMap.setPrivateValue(pfn, 0);
        deleted.incrementAndGet();
    }
}
