package dev.vmsim.app.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.MmStructKernel;
import dev.vmsim.bench.SimTask;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.lock.MmapLock;
import dev.vmsim.core.lock.Schedule;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.phys.Pfn;
import dev.vmsim.core.trace.ChromeTraceJson;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.TraceRecorder;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Perfetto structure of a real trace: a fault that waits for the mmap_lock a system call holds
 * for write gets a flow from the fault, through its wait, to the writer's release on the writer's
 * CPU track; the whole file passes {@link TraceStructure}.
 */
class PerfettoTraceTest {
    @AfterEach
    void off() {
        FaultTrace.install(null);
    }

    @Test
    @Timeout(60)
    void aFaultWaitingForAWriterGetsAFlowToTheWritersRelease() throws Exception {
        final MmStructKernel k = MmStructKernel.create("x86_64", 4096, LockingMode.MMAP_ONLY, 4096, 2);
        final long a = k.mmap(0, 1 << 20, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        final SimTask writerTask = k.newTask(); // cpu 0
        final SimTask faultTask = k.newTask(); // cpu 1
        final MmapLock lock = k.mm().mmapLock();
        lock.rwsem().setOptimisticSpinTries(0); // the fault queues at once
        final TraceRecorder rec = new TraceRecorder(100_000);
        rec.start();
        FaultTrace.install(rec);
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger faultResult = new AtomicInteger(-1);
        final Thread writer = new Thread(
                () -> {
                    writerTask.store(a + Pfn.PAGE_SIZE, (byte) 1); // runs cpu 0 (and faults once)
                    lock.writeLock(); // as a system call takes it
                    held.countDown();
                    Schedule.await(release);
                    lock.writeUnlock();
                },
                "writer");
        final Thread faulter = new Thread(
                () -> {
                    Schedule.await(held);
                    faultResult.set(faultTask.store(a, (byte) 2));
                },
                "faulter");
        writer.start();
        faulter.start();
        Schedule.until("fault queued on the mmap_lock", () -> lock.rwsem().waiterCount() == 1);
        release.countDown();
        writer.join(30_000);
        faulter.join(30_000);
        FaultTrace.install(null);
        rec.close();
        assertEquals(SigInfo.OK, faultResult.get());

        final TraceStructure t = TraceStructure.check(ChromeTraceJson.write(rec.events(), rec.stats(), rec.capacity()));
        assertEquals(List.of(0L, 1L), List.copyOf(t.cpuTracks));
        for (final String s : List.of(
                "page_fault_user",
                "lock_mm_and_find_vma",
                "handle_mm_fault",
                "mmap_lock_wait(read)",
                "mmap_lock_wait(write)",
                "mmap_lock_held(write)")) {
            assertTrue(t.slices.containsKey(s), s + " missing from " + t.slices);
        }
        boolean faultToWriter = false;
        for (final long id : t.flows.keySet()) {
            faultToWriter |= t.flowTids(id, "s").equals(java.util.Set.of(1L))
                    && t.flowTids(id, "t").equals(java.util.Set.of(1L))
                    && t.flowTids(id, "f").equals(java.util.Set.of(0L));
        }
        assertTrue(faultToWriter, "no flow from cpu 1's fault to cpu 0's release: " + t.flows.keySet());
        assertEquals(1L, Collections.max(t.counters.get("mmap_lock waiters")), "the queued fault is the one waiter");
        assertEquals(0L, last(t.counters.get("mmap_lock waiters")));
        assertEquals(2L, last(t.counters.get("rss pages")), "two pages touched");
        assertTrue(
                t.counters.containsKey("nr_free_pages pages"),
                t.counters.keySet().toString());
        final Map<String, Object> other = t.otherData;
        assertEquals(0L, ((Number) other.get("lost_events")).longValue());
        k.close();
    }

    private static long last(final List<Long> values) {
        return values.get(values.size() - 1);
    }
}
