package dev.vmsim.core.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The trace-event JSON: mmap_lock waits become slices, slices nest, a truncated slice is left out. */
class ChromeTraceJsonTest {
    private static TraceEvent ev(final long ts, final int cpu, final char ph, final String name, final String... args) {
        return new TraceEvent(ts, 100 + cpu, cpu, ph, name, args);
    }

    @Test
    void writesNestedCompleteEventsAndWaitSlices() {
        final List<TraceEvent> events = List.of(
                ev(1000, 0, 'B', "page_fault_user", "decode", "#PF \"x\""),
                ev(2000, 0, 'B', "lock_mm_and_find_vma"),
                ev(2500, 0, 'i', "mmap_lock_start_locking", "write", "false"),
                ev(4500, 0, 'i', "mmap_lock_acquire_returned", "write", "false", "success", "true"),
                ev(5000, 0, 'E', "lock_mm_and_find_vma", "result", "found"),
                ev(6000, 1, 'B', "page_fault_user"),
                ev(9000, 0, 'E', "page_fault_user", "signal", "ok"));
        final String json = ChromeTraceJson.write(events, 7, 7);
        assertTrue(json.contains("{\"ph\":\"X\",\"pid\":1,\"tid\":0,\"ts\":1.000,\"dur\":8.000,\"name\":\"page_fault_user\","
                + "\"args\":{\"decode\":\"#PF \\\"x\\\"\",\"signal\":\"ok\"}}"), json);
        assertTrue(json.contains("\"ts\":2.000,\"dur\":3.000,\"name\":\"lock_mm_and_find_vma\""), json);
        assertTrue(json.contains("\"ts\":2.500,\"dur\":2.000,\"name\":\"mmap_lock_wait(read)\""), json);
        assertTrue(json.contains("\"name\":\"thread_name\",\"args\":{\"name\":\"cpu 1\"}"), json);
        assertFalse(json.contains("\"tid\":1,\"ts\""), "the unfinished slice on cpu 1 is left out: " + json);
        assertTrue(json.contains("\"dropped_events\":7"), json);
        // Parent before child in the file.
        assertTrue(json.indexOf("\"page_fault_user\"") < json.indexOf("\"lock_mm_and_find_vma\""));
    }

    @Test
    void microsecondsAreExact() {
        assertEquals("0.005", ChromeTraceJson.micros(5));
        assertEquals("12.345", ChromeTraceJson.micros(12_345));
        assertEquals("1000.000", ChromeTraceJson.micros(1_000_000));
    }
}
