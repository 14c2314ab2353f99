package dev.vmsim.core.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The trace-event JSON on hand-made events: slices as nested B/E pairs, mmap_lock waits as slices,
 * a flow from the waiting fault to the release that ended the wait, counters, per-CPU metadata.
 * (vmsim-app's PerfettoTraceTest decodes whole traces of real runs.)
 */
class ChromeTraceJsonTest {
    private static TraceEvent ev(final long ts, final int cpu, final char ph, final String name, final String... args) {
        return new TraceEvent(ts, 100 + cpu, cpu, ph, name, args);
    }

    private static final List<TraceRecorder.CpuStats> STATS =
            List.of(new TraceRecorder.CpuStats(0, 7, 3, 0), new TraceRecorder.CpuStats(1, 5, 0, 0));

    /** cpu 1 holds the mmap_lock for write (a system call) while a fault on cpu 0 waits for it to read. */
    private static final List<TraceEvent> CONTENDED = List.of(
            ev(500, 1, 'i', "mmap_lock_start_locking", "write", "true", "lock", "ab"),
            ev(600, 1, 'i', "mmap_lock_acquire_returned", "write", "true", "success", "true", "lock", "ab"),
            ev(1000, 0, 'B', "page_fault_user", "decode", "#PF \"x\""),
            ev(2000, 0, 'B', "lock_mm_and_find_vma"),
            ev(2500, 0, 'i', "mmap_lock_start_locking", "write", "false", "lock", "ab"),
            ev(4000, 1, 'i', "mmap_lock_released", "write", "true", "lock", "ab"),
            ev(4500, 0, 'i', "mmap_lock_acquire_returned", "write", "false", "success", "true", "lock", "ab"),
            ev(5000, 0, 'E', "lock_mm_and_find_vma", "result", "found"),
            ev(6000, 1, 'B', "page_fault_user"),
            ev(9000, 0, 'E', "page_fault_user", "signal", "ok", "rss", "12", "free_frames", "900"));

    @Test
    void slicesNestAsBeginEndPairsAndAnUnfinishedSliceIsLeftOut() {
        final String json = ChromeTraceJson.write(CONTENDED, STATS, 7);
        assertTrue(
                json.contains("{\"ph\":\"B\",\"pid\":1,\"tid\":0,\"ts\":1.000,\"name\":\"page_fault_user\","
                        + "\"args\":{\"decode\":\"#PF \\\"x\\\"\"}}"),
                json);
        assertTrue(
                json.contains("{\"ph\":\"E\",\"pid\":1,\"tid\":0,\"ts\":9.000,\"name\":\"page_fault_user\","
                        + "\"args\":{\"signal\":\"ok\",\"rss\":\"12\",\"free_frames\":\"900\"}}"),
                json);
        assertTrue(
                json.contains("\"ph\":\"B\",\"pid\":1,\"tid\":0,\"ts\":2.500,\"name\":\"mmap_lock_wait(read)\""), json);
        assertTrue(
                json.contains("\"ph\":\"E\",\"pid\":1,\"tid\":0,\"ts\":4.500,\"name\":\"mmap_lock_wait(read)\""), json);
        assertTrue(
                json.contains("\"ph\":\"B\",\"pid\":1,\"tid\":1,\"ts\":0.600,\"name\":\"mmap_lock_held(write)\""),
                json);
        assertFalse(json.contains("\"tid\":1,\"ts\":6.000"), "the unfinished slice on cpu 1 is left out: " + json);
        // Parent before child, child's E before parent's E.
        assertTrue(json.indexOf("\"ts\":1.000,\"name\":\"page_fault_user\"")
                < json.indexOf("\"ts\":2.000,\"name\":\"lock_mm_and_find_vma\""));
        assertTrue(json.indexOf("\"ts\":5.000,\"name\":\"lock_mm_and_find_vma\"")
                < json.indexOf("\"ts\":9.000,\"name\":\"page_fault_user\""));
    }

    @Test
    void aWaitGetsAFlowFromItsFaultThroughTheWaitToTheRelease() {
        final String json = ChromeTraceJson.write(CONTENDED, STATS, 7);
        assertTrue(
                json.contains("{\"ph\":\"s\",\"pid\":1,\"tid\":0,\"ts\":1.000,\"cat\":\"mmap_lock\","
                        + "\"name\":\"mmap_lock\",\"id\":1}"),
                json);
        assertTrue(
                json.contains("{\"ph\":\"t\",\"pid\":1,\"tid\":0,\"ts\":3.500,\"cat\":\"mmap_lock\","
                        + "\"name\":\"mmap_lock\",\"id\":1}"),
                json);
        // Inside the releasing task's held slice, 1 ns before it ends.
        assertTrue(
                json.contains("{\"ph\":\"f\",\"pid\":1,\"tid\":1,\"ts\":3.999,\"cat\":\"mmap_lock\","
                        + "\"name\":\"mmap_lock\",\"id\":1,\"bp\":\"e\"}"),
                json);
    }

    @Test
    void aReleaseByTheWaiterItselfOrOutsideTheWaitGetsNoFlow() {
        final List<TraceEvent> events = List.of(
                ev(1000, 0, 'B', "page_fault_user"),
                ev(2500, 0, 'i', "mmap_lock_start_locking", "write", "false", "lock", "ab"),
                ev(4500, 0, 'i', "mmap_lock_acquire_returned", "write", "false", "success", "true", "lock", "ab"),
                ev(4800, 0, 'i', "mmap_lock_released", "write", "false", "lock", "ab"),
                ev(9000, 0, 'E', "page_fault_user", "signal", "ok"));
        assertFalse(ChromeTraceJson.write(events, STATS, 7).contains("\"ph\":\"s\""));
    }

    @Test
    void countersAndPerCpuMetadata() {
        final String json = ChromeTraceJson.write(CONTENDED, STATS, 7);
        assertTrue(
                json.contains(
                        "{\"ph\":\"C\",\"pid\":1,\"tid\":0,\"ts\":9.000,\"name\":\"rss\",\"args\":{\"pages\":12}}"),
                json);
        assertTrue(json.contains("\"name\":\"nr_free_pages\",\"args\":{\"pages\":900}}"), json);
        assertTrue(json.contains("\"ts\":2.500,\"name\":\"mmap_lock\",\"args\":{\"waiters\":1}}"), json);
        assertTrue(json.contains("\"ts\":4.500,\"name\":\"mmap_lock\",\"args\":{\"waiters\":0}}"), json);
        assertTrue(json.contains("\"name\":\"thread_name\",\"args\":{\"name\":\"cpu 1\"}"), json);
        assertTrue(
                json.contains(
                        "\"cpus\":[{\"cpu\":0,\"name\":\"cpu 0\",\"entries\":7,\"dropped_events\":3,"
                                + "\"unread\":0},{\"cpu\":1,\"name\":\"cpu 1\",\"entries\":5,\"dropped_events\":0,\"unread\":0}]"),
                json);
        assertTrue(json.contains("\"lost_events\":3"), json);
    }

    @Test
    void microsecondsAreExact() {
        assertEquals("0.005", ChromeTraceJson.micros(5));
        assertEquals("12.345", ChromeTraceJson.micros(12_345));
        assertEquals("1000.000", ChromeTraceJson.micros(1_000_000));
    }
}
