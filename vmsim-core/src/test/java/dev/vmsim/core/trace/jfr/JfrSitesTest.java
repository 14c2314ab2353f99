package dev.vmsim.core.trace.jfr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import dev.vmsim.core.testing.Allocations;
import dev.vmsim.core.testing.TestArch;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JFR events core commits (the page fault itself is begun and ended by the arch handlers:
 * vmsim-app's JfrRecordingTest), read back from a recording, and their cost when nothing records.
 */
class JfrSitesTest {
    private static List<RecordedEvent> record(final Path dir, final String vms) throws Exception {
        final Path file = dir.resolve("core.jfr");
        try (Recording r = VmsimRecording.create()) {
            r.start();
            VmScript.run(vms, new TestArch(), LockingMode.PER_VMA);
            r.stop();
            r.dump(file);
        }
        return RecordingFile.readAllEvents(file);
    }

    private static List<RecordedEvent> named(final List<RecordedEvent> events, final String name) {
        return events.stream()
                .filter(e -> e.getEventType().getName().equals(name))
                .collect(Collectors.toList());
    }

    @Test
    @Timeout(60)
    void mmapLockVmaLockAbortAndShootdownEventsCarryTheirFields(@TempDir final Path dir) throws Exception {
        // map and unmap take the mmap_lock for write; the unmap shoots down the TLB; the read of the
        // unmapped page finds no VMA under RCU (VMA_LOCK_ABORT).
        final List<RecordedEvent> events = record(dir, "map a 16K rw-\nwrite a\nunmap a 16K\nread a\n");

        final List<RecordedEvent> acquires = named(events, "vmsim.mm.MmapLockAcquire");
        assertTrue(
                acquires.stream().anyMatch(e -> e.getBoolean("write") && e.getBoolean("success")), acquires.toString());
        assertTrue(acquires.stream().anyMatch(e -> !e.getBoolean("write")), "the fault's fallback read lock");
        assertTrue(acquires.stream().allMatch(e -> !e.getDuration().isNegative()));
        final List<RecordedEvent> releases = named(events, "vmsim.mm.MmapLockRelease");
        assertEquals(
                acquires.stream().filter(e -> e.getBoolean("success")).count(),
                releases.size(),
                "one release per successful acquisition");

        final List<RecordedEvent> aborts = named(events, "vmsim.mm.VmaLockAbort");
        assertEquals(1, aborts.size(), aborts.toString());
        assertTrue(aborts.get(0).getLong("address") != 0);

        final List<RecordedEvent> shootdowns = named(events, "vmsim.tlb.Shootdown");
        assertFalse(shootdowns.isEmpty());
        final RecordedEvent sd = shootdowns.get(0);
        assertEquals(1, sd.getInt("cpus"), "the one CPU that ran the mm");
        assertEquals(0, sd.getInt("remoteCpus"));
        if (sd.getLong("pages") < 0) {
            assertTrue(
                    sd.getLong("endAddress") == -1 || sd.getLong("endAddress") - sd.getLong("startAddress") > 33 * 4096,
                    "a whole-mm flush, or a range above the ceiling: " + sd);
        } else {
            assertEquals(
                    sd.getLong("pages") * 4096, sd.getLong("endAddress") - sd.getLong("startAddress"), sd.toString());
        }
        assertTrue(sd.getThread() != null && sd.getStackTrace() == null, "no stack traces on hot events");
    }

    @Test
    void withoutARecordingNoEventIsWritten(@TempDir final Path dir) throws Exception {
        VmScript.run("map a 16K rw-\nwrite a\nunmap a 16K\nread a\n", new TestArch(), LockingMode.PER_VMA);
        final Path file = dir.resolve("empty.jfr");
        try (Recording r = VmsimRecording.create()) {
            r.start();
            r.stop();
            r.dump(file);
        }
        assertTrue(RecordingFile.readAllEvents(file).stream()
                .noneMatch(e -> e.getEventType().getName().startsWith("vmsim.")));
    }

    /** With no recording the sites allocate nothing: 100,000 rounds of every site stay under 64 KiB. */
    @Test
    void disabledSitesAllocateNothing() {
        final long allocated = Allocations.ofHundredThousandRounds(JfrSitesTest::everySite);
        assertTrue(allocated < 64 * 1024, allocated + " bytes allocated by disabled JFR sites");
    }

    private static void everySite(final int n) {
        for (int i = 0; i < n; i++) {
            if (JfrSites.pageFaultEnabled()) {
                JfrSites.pageFaultBegin();
            }
            JfrSites.lockVmaUnderRcu(i, "abort");
            JfrSites.lockMmAndFindVma();
            JfrSites.mmapLockStartLocking();
            JfrSites.mmapLockAcquireReturned(false, true);
            JfrSites.mmapLockReleased(false);
            JfrSites.handleMmFaultReturned(i);
            JfrSites.tlbShootdownEnd(JfrSites.tlbShootdownBegin(), i, i + 4096, 1, 1, 0);
            JfrSites.pageFaultEnd("x86_64", i, 4, 0, true, 0);
        }
    }
}
