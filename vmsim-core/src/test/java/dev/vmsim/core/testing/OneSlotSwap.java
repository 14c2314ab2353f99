package dev.vmsim.core.testing;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.vmscan.SwapBackend;
import java.util.List;

/**
 * A swap device for tests that look at PTEs only: every folio gets slot 7 of type 0 (the swap cache
 * takes its reference and PG_swapcache), every swap PTE is that entry (with bit 1 for an exclusive
 * page), pageout keeps the page, and no slot counts are kept.
 */
public final class OneSlotSwap implements SwapBackend {
    private final FrameAllocator frames;
    private final List<Long> installed;

    /**
     * @param installed where each swap PTE handed out is recorded, or null
     */
    public OneSlotSwap(final FrameAllocator frames, final List<Long> installed) {
        this.frames = frames;
        this.installed = installed;
    }

    @Override
    public boolean canReclaimAnon() {
        return true;
    }

    @Override
    public boolean addToSwap(final int cpu, final long pfn) {
        frames.get(pfn);
        frames.memMap().setPrivateValue(pfn, 7);
        frames.memMap().set(pfn, PageFlags.PG_SWAPCACHE);
        return true;
    }

    @Override
    public long swapPte(final MmStruct mm, final long pfn, final boolean exclusive) {
        final long e = (frames.memMap().privateValue(pfn) << 12) | (exclusive ? 2 : 0);
        if (installed != null) {
            installed.add(e);
        }
        return e;
    }

    @Override
    public Pageout pageout(final int cpu, final long pfn) {
        return Pageout.PAGE_KEEP;
    }

    @Override
    public void deleteFromSwapCache(final long pfn) {
        frames.memMap().clear(pfn, PageFlags.PG_SWAPCACHE);
    }

    @Override
    public int swapDuplicate(final long entry) {
        return 0;
    }

    @Override
    public void freeSwapAndCache(final long entry) {}
}
