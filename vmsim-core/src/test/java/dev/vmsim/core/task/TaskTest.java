package dev.vmsim.core.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@code current}: one Task per thread, stable, never another thread's, even when cache slots collide. */
class TaskTest {
    @Test
    void eachThreadHasItsOwnStableTask() throws Exception {
        final Task mine = Task.current();
        assertSame(mine, Task.current());
        final AtomicReference<Task> other = new AtomicReference<>();
        final Thread t = new Thread(() -> other.set(Task.current()));
        t.start();
        t.join();
        assertNotSame(mine, other.get());
        assertSame(mine, Task.current(), "the other thread's lookup did not displace ours");
    }

    /** More threads than cache slots: ids collide modulo the table size, yet each sees its own task. */
    // Thread.yield invites the host to interleave the threads between the write and the read-back.
    @SuppressWarnings("ThreadPriorityCheck")
    @Test
    void collidingCacheSlotsFallBackToTheThreadsOwnTask() throws Exception {
        final int n = 1100;
        final List<Thread> threads = new ArrayList<>();
        final long[] seen = new long[n];
        for (int i = 0; i < n; i++) {
            final int k = i;
            threads.add(new Thread(() -> {
                final Task t = Task.current();
                t.minFlt = k + 1;
                Thread.yield();
                seen[k] = Task.current().minFlt;
            }));
        }
        for (final Thread t : threads) {
            t.start();
        }
        for (final Thread t : threads) {
            t.join();
        }
        for (int i = 0; i < n; i++) {
            assertEquals(i + 1, seen[i], "thread " + i + " saw another task");
        }
    }
}
