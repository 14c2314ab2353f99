package dev.vmsim.core.clock;

import java.util.Arrays;

/**
 * The runnable CPUs other than the running one, as a binary min-heap ordered by (clock, id): the
 * earliest-clock policy reads the top in O(1) and requeues in O(log n), so a 1024-CPU machine pays
 * no scan per preemption point. The heap's array order depends only on the sequence of operations,
 * so the random and PCT policies may index it and stay deterministic.
 */
final class RunQueue {
    private VirtualCpu[] heap = new VirtualCpu[16];
    private int size;

    int size() {
        return size;
    }

    VirtualCpu get(final int i) {
        return heap[i];
    }

    VirtualCpu peek() {
        return size == 0 ? null : heap[0];
    }

    /** (clock, id) order: does {@code a} run before {@code b}? */
    static boolean before(final VirtualCpu a, final VirtualCpu b) {
        return a.clockPs < b.clockPs || (a.clockPs == b.clockPs && a.id < b.id);
    }

    void add(final VirtualCpu c) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        heap[size] = c;
        c.heapIndex = size;
        size++;
        up(c.heapIndex);
    }

    void remove(final VirtualCpu c) {
        final int i = c.heapIndex;
        if (i < 0) {
            return;
        }
        c.heapIndex = -1;
        size--;
        if (i == size) {
            heap[size] = null;
            return;
        }
        final VirtualCpu last = heap[size];
        heap[size] = null;
        heap[i] = last;
        last.heapIndex = i;
        down(i);
        up(last.heapIndex);
    }

    private void up(int i) {
        final VirtualCpu c = heap[i];
        while (i > 0) {
            final int p = (i - 1) >>> 1;
            if (!before(c, heap[p])) {
                break;
            }
            heap[i] = heap[p];
            heap[i].heapIndex = i;
            i = p;
        }
        heap[i] = c;
        c.heapIndex = i;
    }

    private void down(int i) {
        final VirtualCpu c = heap[i];
        for (; ; ) {
            int l = 2 * i + 1;
            if (l >= size) {
                break;
            }
            if (l + 1 < size && before(heap[l + 1], heap[l])) {
                l++;
            }
            if (!before(heap[l], c)) {
                break;
            }
            heap[i] = heap[l];
            heap[i].heapIndex = i;
            i = l;
        }
        heap[i] = c;
        c.heapIndex = i;
    }
}
