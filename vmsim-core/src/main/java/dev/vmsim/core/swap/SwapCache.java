package dev.vmsim.core.swap;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The swap cache of one swap type (swap_address_space(entry), mm/swap_state.c): which folio holds
 * each slot's page while it is being written out or read in, or stays after either. Keyed by the
 * entry's offset (swap_cache_index).
 *
 * <p>Departure: an array of slots (pfn + 1, 0 for none) changed with compare-and-set, standing in
 * for the address space's xarray under its xa_lock; one order-0 folio per slot, so no multi-index
 * entries. Shadow entries (workingset refault distances) are not kept.
 */
public final class SwapCache {
    private final AtomicLongArray slots;

    public SwapCache(final long pages) {
        this.slots = new AtomicLongArray((int) pages);
    }

    /** filemap_get_folio(swap_address_space(entry), offset) without the reference: the pfn, or -1. */
    public long lookup(final long offset) {
        return slots.get((int) offset) - 1;
    }

    /** The xas_store of add_to_swap_cache: false if the slot already has a folio (-EEXIST). */
    boolean insert(final long offset, final long pfn) {
        return slots.compareAndSet((int) offset, 0, pfn + 1);
    }

    /** The xas_store(NULL) of __delete_from_swap_cache: the slot must hold {@code pfn}. */
    void remove(final long offset, final long pfn) {
        if (!slots.compareAndSet((int) offset, pfn + 1, 0)) {
            throw new IllegalStateException(
                    "swap cache slot " + offset + " holds pfn " + lookup(offset) + ", not " + pfn);
        }
    }

    /** Slots with a folio (for checks; not a snapshot under concurrent change). */
    public long nrFolios() {
        long n = 0;
        for (int i = 0; i < slots.length(); i++) {
            if (slots.get(i) != 0) {
                n++;
            }
        }
        return n;
    }
}
