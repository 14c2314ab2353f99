package dev.vmsim.core.tree;

import java.util.Arrays;

/**
 * Writer scratch: an ordered run of leaf segments [start, end] -> value (null = gap), the flattened
 * contents of the subtree a store rewrites (the kernel's {@code struct maple_big_node} plays this role
 * in mas_wr_spanning_store / mas_split). Writer-only; never seen by readers. The writer reuses its
 * lists from store to store ({@link #clear}).
 */
final class SegmentList {
    long[] start = new long[32];
    long[] end = new long[32];
    Object[] value = new Object[32];
    int size;

    /** Empties the list for reuse, dropping its references to entries so they can be collected. */
    void clear() {
        Arrays.fill(value, 0, size, null);
        size = 0;
    }

    void add(final long first, final long last, final Object v) {
        if (size == start.length) {
            start = Arrays.copyOf(start, size * 2);
            end = Arrays.copyOf(end, size * 2);
            value = Arrays.copyOf(value, size * 2);
        }
        start[size] = first;
        end[size] = last;
        value[size] = v;
        size++;
    }

    /** Appends, merging with the previous segment when both are NULL (mas_wr_extend_null). */
    void addCoalescing(final long first, final long last, final Object v) {
        if (v == null && size > 0 && value[size - 1] == null) {
            end[size - 1] = last;
            return;
        }
        add(first, last, v);
    }
}
