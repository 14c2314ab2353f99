package dev.vmsim.core.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.trace.TraceEvent;
import dev.vmsim.core.trace.TraceRecorder;
import dev.vmsim.core.trace.jfr.JfrSites;
import dev.vmsim.core.trace.jfr.VmsimRecording;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under the virtual clock a trace shows virtual time: the trace recorder stamps a simulated CPU's
 * events with that CPU's clock, and the JFR events carry it in virtualTime and virtualDuration.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VirtualTimestampsTest {
    /**
     * Two CPUs stamping events at known clocks (a: 0, 1000, 2000; b: 500, 1500, after charges of
     * 1000 and 500 ns): the recorder's timestamps are those clocks, merged in virtual-time order.
     */
    @Test
    void traceRecorderStampsEventsWithTheRunningCpusClock() {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(2), SchedulePolicy.earliestClock());
        final TraceRecorder rec = new TraceRecorder(1_000);
        final List<Long> clocks = new ArrayList<>();
        s.spawn("a", () -> {
            for (int i = 0; i < 3; i++) {
                clocks.add(s.now());
                rec.event('i', "a", new String[0]);
                s.charge(Cost.SYSCALL_ENTRY_EXIT, 1000);
                s.preemptionPoint();
            }
        });
        s.spawn("b", () -> {
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 500);
            for (int i = 0; i < 2; i++) {
                s.preemptionPoint();
                clocks.add(s.now());
                rec.event('i', "b", new String[0]);
                s.charge(Cost.SYSCALL_ENTRY_EXIT, 1000);
            }
        });
        s.run();
        final List<String> got =
                rec.events().stream().map(e -> e.name + "@" + e.tsNs).collect(Collectors.toList());
        assertEquals(List.of("a@0", "b@500", "a@1000", "b@1500", "a@2000"), got);
        assertEquals(
                List.of(0L, 500L, 1000L, 1500L, 2000L), clocks.stream().sorted().collect(Collectors.toList()));
    }

    /**
     * A recorder made for a virtual machine stamps the events of a thread outside it (the runner's
     * set-up and tear-down) with the latest virtual stamp: 0 before the machine ran, its last CPU
     * event after, never host time.
     */
    @Test
    void aVirtualRecorderStampsOutsideEventsInVirtualTime() {
        final TraceRecorder rec = TraceRecorder.virtual(100);
        rec.event('i', "setup", new String[0]);
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(1), SchedulePolicy.earliestClock());
        s.spawn("cpu0", () -> {
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 700);
            rec.event('i', "cpu", new String[0]);
            s.charge(Cost.SYSCALL_ENTRY_EXIT, 5000); // no event after: the outside stamp is the last event's
        });
        s.run();
        rec.event('i', "teardown", new String[0]);
        final List<String> got =
                rec.events().stream().map(e -> e.name + "@" + e.tsNs).collect(Collectors.toList());
        assertEquals(List.of("setup@0", "cpu@700", "teardown@700"), got);
    }

    /** Outside a virtual machine the recorder keeps the host's clock: ns since it was created. */
    @Test
    void traceRecorderOnTheHostClockStampsHostTime() throws Exception {
        final long before = System.nanoTime();
        final TraceRecorder rec = new TraceRecorder(10);
        Thread.sleep(2);
        rec.event('i', "host", new String[0]);
        final TraceEvent e = rec.events().get(0);
        assertTrue(e.tsNs >= TimeUnit.MILLISECONDS.toNanos(2) && e.tsNs <= System.nanoTime() - before, e.toString());
    }

    /**
     * The mmap_lock acquire event of a CPU that starts locking at 300 ns of virtual time and gets the
     * lock 1000 ns later carries virtualTime 300 and virtualDuration 1000; the release at 1300 ns
     * carries virtualTime 1300. On the host clock both fields are 0.
     */
    @Test
    void jfrEventsCarryVirtualTime(@TempDir final Path dir) throws Exception {
        final Path file = dir.resolve("virtual.jfr");
        try (Recording r = VmsimRecording.create()) {
            r.start();
            final VirtualScheduler s = new VirtualScheduler(TestCosts.model(1), SchedulePolicy.earliestClock());
            s.spawn("cpu0", () -> {
                s.charge(Cost.SYSCALL_ENTRY_EXIT, 300);
                JfrSites.mmapLockStartLocking();
                s.charge(Cost.SYSCALL_ENTRY_EXIT, 1000);
                JfrSites.mmapLockAcquireReturned(true, true);
                JfrSites.mmapLockReleased(true);
            });
            s.run();
            JfrSites.mmapLockStartLocking(); // the host clock, on this thread
            JfrSites.mmapLockAcquireReturned(false, true);
            r.stop();
            r.dump(file);
        }
        final List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        final List<RecordedEvent> acquires = named(events, "vmsim.mm.MmapLockAcquire");
        assertEquals(2, acquires.size(), acquires.toString());
        final RecordedEvent virtual =
                acquires.stream().filter(e -> e.getBoolean("write")).findFirst().orElseThrow();
        assertEquals(300, virtual.getLong("virtualTime"));
        assertEquals(1000, virtual.getLong("virtualDuration"));
        final RecordedEvent host = acquires.stream()
                .filter(e -> !e.getBoolean("write"))
                .findFirst()
                .orElseThrow();
        assertEquals(0, host.getLong("virtualTime"));
        assertEquals(0, host.getLong("virtualDuration"));
        final List<RecordedEvent> releases = named(events, "vmsim.mm.MmapLockRelease");
        assertEquals(1, releases.size());
        assertEquals(1300, releases.get(0).getLong("virtualTime"));
    }

    private static List<RecordedEvent> named(final List<RecordedEvent> events, final String name) {
        return events.stream()
                .filter(e -> e.getEventType().getName().equals(name))
                .collect(Collectors.toList());
    }
}
