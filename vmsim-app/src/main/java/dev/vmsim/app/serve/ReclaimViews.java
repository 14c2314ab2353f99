package dev.vmsim.app.serve;

import dev.vmsim.core.Machine;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.Ptl;
import dev.vmsim.core.phys.MemMap;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.rmap.Rmap;
import dev.vmsim.core.script.ScriptSession;
import dev.vmsim.core.swap.Swap;
import dev.vmsim.core.swap.SwapInfo;
import dev.vmsim.core.swap.SwpEntry;
import dev.vmsim.core.vmscan.Lruvec;
import dev.vmsim.core.vmscan.Vmscan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The reclaim half of a {@link ScriptApi.Snapshot}: the LRU lists with the lru_add batches, and the
 * swap device's used slots. Read between lines, when no task runs; the LRU under lru_lock, the
 * mappings by rmap walks (rmap_walk_anon) and the swap PTEs by a walk of each live task's page
 * tables. Empty unless the script gave the machine a {@code mem} or {@code swap}: a machine of the
 * default size reclaims nothing, and its lists would only make every snapshot larger.
 */
final class ReclaimViews {
    private ReclaimViews() {}

    /** The LRU lists, head to tail, and the folios in lru_add batches. */
    static ScriptApi.Lru lru(final ScriptSession s) {
        final List<ScriptApi.LruList> lists = new ArrayList<>();
        final List<ScriptApi.LruFolio> batch = new ArrayList<>();
        if (!s.memoryLimited()) {
            return new ScriptApi.Lru(lists, batch);
        }
        final Machine m = s.machine();
        final Vmscan vmscan = m.vmscan();
        final Lruvec lruvec = vmscan.lruvec();
        final Map<MmStruct, String> names = taskNames(s);
        final Ptl lock = lruvec.lruLock();
        lock.lock();
        try {
            for (int lru = 0; lru < Lruvec.NR_LRU_LISTS; lru++) {
                final List<ScriptApi.LruFolio> folios = new ArrayList<>();
                for (long pfn = lruvec.head(lru); pfn >= 0; pfn = lruvec.nextOf(pfn)) {
                    folios.add(folio(s, m, names, pfn, false));
                }
                lists.add(new ScriptApi.LruList(Lruvec.name(lru), lruvec.size(lru), folios));
            }
        } finally {
            lock.unlock();
        }
        for (int cpu = 0; cpu < vmscan.lruAddBatches(); cpu++) {
            for (final long pfn : vmscan.lruAddBatch(cpu)) {
                batch.add(folio(s, m, names, pfn, true));
            }
        }
        return new ScriptApi.Lru(lists, batch);
    }

    private static ScriptApi.LruFolio folio(
            final ScriptSession s,
            final Machine m,
            final Map<MmStruct, String> names,
            final long pfn,
            final boolean inBatch) {
        final MemMap mm = m.frames().memMap();
        final List<String> mappedBy = new ArrayList<>();
        Rmap.rmapWalkAnon(m.frames(), pfn, false, (vma, address, ptePa, pte) -> {
            mappedBy.add(names.getOrDefault(vma.vmMm, "?") + " " + s.rel(address));
            return true;
        });
        return new ScriptApi.LruFolio(
                Snapshots.hex(pfn),
                mappedBy,
                mm.test(pfn, PageFlags.PG_REFERENCED),
                mm.test(pfn, PageFlags.PG_ACTIVE),
                mm.test(pfn, PageFlags.PG_SWAPBACKED),
                mm.test(pfn, PageFlags.PG_SWAPCACHE),
                mm.test(pfn, PageFlags.PG_DIRTY),
                mm.test(pfn, PageFlags.PG_WRITEBACK),
                inBatch);
    }

    /** The swap device's used slots, each with its count, SWAP_HAS_CACHE, cached folio and swap PTEs. */
    static List<ScriptApi.SwapDevice> swap(final ScriptSession s) {
        final Swap swap = s.machine().swap();
        if (swap == null) {
            return List.of();
        }
        final SwapInfo si = swap.info();
        final Map<Long, List<String>> ptes = swapPtes(s, si.type());
        final List<ScriptApi.SwapSlot> slots = new ArrayList<>();
        for (long off = 1; off < si.pages(); off++) {
            if (si.swapMap(off) == 0) {
                continue;
            }
            final long pfn = swap.cache().lookup(off);
            slots.add(new ScriptApi.SwapSlot(
                    off,
                    si.swapCount(off),
                    si.hasCache(off),
                    pfn >= 0 ? Snapshots.hex(pfn) : null,
                    ptes.getOrDefault(off, List.of())));
        }
        return List.of(new ScriptApi.SwapDevice(si.type(), si.usablePages(), si.inusePages(), slots));
    }

    /** Offset -> the swap PTEs of device {@code type} in every live task ("TASK top-0x4000"), in task order. */
    private static Map<Long, List<String>> swapPtes(final ScriptSession s, final int type) {
        final Map<Long, List<String>> out = new HashMap<>();
        for (final String task : s.tasks()) {
            final MmStruct mm = s.mm(task);
            final PageTableFormat fmt = mm.pageTables().format();
            mm.pageTables().forEachPte(0, fmt.taskSize(), (va, pte) -> {
                if (fmt.isSwapSlotPte(pte)) {
                    final long entry = fmt.pteToSwpEntry(pte);
                    if (SwpEntry.swpType(entry) == type) {
                        out.computeIfAbsent(SwpEntry.swpOffset(entry), k -> new ArrayList<>())
                                .add(task + " " + s.rel(va));
                    }
                }
            });
        }
        return out;
    }

    private static Map<MmStruct, String> taskNames(final ScriptSession s) {
        final Map<MmStruct, String> out = new HashMap<>();
        for (final String t : s.tasks()) {
            out.put(s.mm(t), t);
        }
        return out;
    }
}
