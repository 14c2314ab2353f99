package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

/**
 * RCU-mode reads (check_rcu_threaded idea): lockless readers walk random indices while one writer stores
 * and erases. Every value a reader sees must cover the index it was read at and must still have been
 * current there when the read began (it is retired per cell, after the store that replaced it, and
 * before the writer's completed sequence is published). Guard cells are never erased, so a NULL there
 * is a torn read.
 */
class MapleTreeRcuTest {
    private static final int CELLS = 4096;
    private static final long CELL = 16;
    /** Writes per run: a fixed budget, so the run does the same work on any machine. */
    private static final long WRITES = 20_000;

    /** A stored value: its range in cells, and the writer sequence at which each cell stopped holding it. */
    static final class Val {
        final int firstCell;
        final int lastCell;
        final AtomicLongArray retiredAt;

        Val(final int firstCell, final int lastCell) {
            this.firstCell = firstCell;
            this.lastCell = lastCell;
            this.retiredAt = new AtomicLongArray(lastCell - firstCell + 1);
            for (int i = 0; i < retiredAt.length(); i++) {
                retiredAt.set(i, Long.MAX_VALUE);
            }
        }
    }

    @Test
    void readersSeeOnlyValuesCurrentDuringTheirWalk() throws Exception {
        final MapleTree<Val> mt = new MapleTree<>(true);
        final Val[] model = new Val[CELLS];
        for (int c = 0; c < CELLS; c++) {
            model[c] = new Val(c, c);
            mt.store(c * CELL, c * CELL + CELL - 1, model[c]);
        }
        final AtomicLong completed = new AtomicLong(); // release by the writer; acquire by readers
        final AtomicBoolean stop = new AtomicBoolean();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        final AtomicLong reads = new AtomicLong();
        final int readers = 2;
        final CyclicBarrier start = new CyclicBarrier(readers + 1);
        final Thread[] threads = new Thread[readers];
        for (int r = 0; r < readers; r++) {
            final long seed = r;
            threads[r] = new Thread(() -> read(mt, completed, stop, errors, reads, start, seed));
            threads[r].start();
        }
        start.await();
        final SplittableRandom rnd = new SplittableRandom(42);
        long seq = 0;
        while (seq < WRITES && errors.isEmpty()) {
            seq++;
            final int op = rnd.nextInt(3);
            final int first;
            final int last;
            final Val v;
            if (op == 0) { // a spanning store over a group of 1..64 cells
                first = rnd.nextInt(CELLS - 64);
                last = first + rnd.nextInt(64);
                v = new Val(first, last);
            } else if (op == 1) {
                first = rnd.nextInt(CELLS);
                last = first;
                v = new Val(first, last);
            } else { // erase a run of non-guard cells
                first = rnd.nextInt(CELLS - 1) | 1;
                last = first + Math.min(rnd.nextInt(3), 3 - (first & 3));
                v = null;
            }
            mt.store(first * CELL, last * CELL + CELL - 1, v);
            for (int c = first; c <= last; c++) {
                final Val old = model[c];
                if (old != null) {
                    old.retiredAt.set(c - old.firstCell, seq);
                }
                model[c] = v;
            }
            completed.set(seq);
        }
        stop.set(true);
        for (final Thread t : threads) {
            t.join();
        }
        mt.validate();
        assertTrue(errors.isEmpty(), () -> errors.size() + " bad reads, first: " + errors.peek());
        assertTrue(reads.get() > 0, "the readers ran beside the writer");
        assertEquals(WRITES, seq);
        for (int c = 0; c < CELLS; c++) {
            assertEquals(model[c], mt.walk(c * CELL + 3));
        }
    }

    private static void read(
            final MapleTree<Val> mt,
            final AtomicLong completed,
            final AtomicBoolean stop,
            final ConcurrentLinkedQueue<String> errors,
            final AtomicLong reads,
            final CyclicBarrier start,
            final long seed) {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final MaState<Val> mas = new MaState<>(mt, 0, 0);
        try {
            start.await();
        } catch (final Exception e) {
            errors.add(e.toString());
            return;
        }
        long n = 0;
        while (!stop.get()) {
            final long index = rnd.nextLong(CELLS * CELL);
            final int cell = (int) (index / CELL);
            final long before = completed.get();
            final Val v;
            if ((n & 1) == 0) {
                v = mt.walk(index);
            } else {
                mas.set(index, index);
                v = mas.walk();
                // The range a value still holds is a cell-aligned part of what it was stored over.
                if (v != null
                        && (mas.index < v.firstCell * CELL
                                || mas.last > v.lastCell * CELL + CELL - 1
                                || mas.index > index
                                || mas.last < index
                                || mas.index % CELL != 0
                                || mas.last % CELL != CELL - 1)) {
                    errors.add("range " + mas.index + ".." + mas.last + " for value over cells " + v.firstCell + ".."
                            + v.lastCell);
                }
            }
            n++;
            if (v == null) {
                if ((cell & 3) == 0) {
                    errors.add("NULL at guard cell " + cell);
                }
                continue;
            }
            if (cell < v.firstCell || cell > v.lastCell) {
                errors.add("value over cells " + v.firstCell + ".." + v.lastCell + " read at cell " + cell);
            } else if (v.retiredAt.get(cell - v.firstCell) <= before) {
                errors.add("value retired at " + v.retiredAt.get(cell - v.firstCell) + " read at cell " + cell
                        + " by a walk that began after " + before);
            }
        }
        reads.addAndGet(n);
    }
}
