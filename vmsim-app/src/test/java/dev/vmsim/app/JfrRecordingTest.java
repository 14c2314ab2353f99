package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code vmsim run --jfr FILE}: the recording read back with RecordingFile, event by event. */
class JfrRecordingTest {
    private static final Set<String> PATHS = Set.of("vma_lock", "vma_lock_retry", "fallback", "mmap_lock", "none");

    private static List<RecordedEvent> run(final Path file, final String... args) throws Exception {
        final String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--jfr";
        all[args.length + 1] = file.toString();
        final CliHarness r = CliHarness.run(KernelFactory.simulator(), all);
        assertEquals(0, r.status, r.err);
        return RecordingFile.readAllEvents(file);
    }

    private static List<RecordedEvent> named(final List<RecordedEvent> events, final String name) {
        return events.stream()
                .filter(e -> e.getEventType().getName().equals(name))
                .collect(Collectors.toList());
    }

    @Test
    @Timeout(120)
    void x86FaultsCarryTheErrorCodeAndTheLockingPath(@TempDir final Path dir) throws Exception {
        final List<RecordedEvent> events = run(
                dir.resolve("x86.jfr"),
                "run",
                "stack-growth",
                "--threads",
                "2",
                "--iterations",
                "5",
                "--seed",
                "3",
                "--locking",
                "per-vma");
        assertTrue(
                events.stream().allMatch(e -> e.getEventType().getName().startsWith("vmsim.")),
                "only the simulator's events are enabled");
        final List<RecordedEvent> faults = named(events, "vmsim.mm.PageFault");
        assertFalse(faults.isEmpty());
        for (final RecordedEvent f : faults) {
            assertEquals("x86_64", f.getString("arch"));
            assertTrue(f.getLong("address") != 0, f.toString());
            assertTrue((f.getLong("errorCode") & 0x4) != 0, "a user-mode fault has the U bit: " + f);
            assertEquals(0, f.getLong("esr"));
            assertTrue(PATHS.contains(f.getString("lockPath")), f.toString());
            assertTrue(f.getString("result") != null && f.getString("vmFault") != null, f.toString());
            assertFalse(f.getDuration().isNegative());
        }
        final Set<String> paths =
                faults.stream().map(f -> f.getString("lockPath")).collect(Collectors.toSet());
        assertTrue(paths.contains("fallback"), "faults below the stack abort and fall back: " + paths);
        final long fallbacks = faults.stream()
                .filter(f -> f.getString("lockPath").equals("fallback"))
                .count();
        assertEquals(fallbacks, named(events, "vmsim.mm.VmaLockAbort").size(), "one abort per fallback");
        assertFalse(named(events, "vmsim.mm.MmapLockAcquire").isEmpty());
        assertFalse(named(events, "vmsim.mm.MmapLockRelease").isEmpty());
    }

    @Test
    @Timeout(120)
    void arm64FaultsCarryTheEsrAndMunmapShootsDownRemoteTlbs(@TempDir final Path dir) throws Exception {
        final List<RecordedEvent> events = run(
                dir.resolve("arm64.jfr"),
                "run",
                "fault-vs-munmap",
                "--arch",
                "arm64",
                "--threads",
                "3",
                "--iterations",
                "5",
                "--seed",
                "3");
        final List<RecordedEvent> faults = named(events, "vmsim.mm.PageFault");
        assertFalse(faults.isEmpty());
        for (final RecordedEvent f : faults) {
            assertEquals("arm64", f.getString("arch"));
            assertTrue(f.getLong("esr") != 0, f.toString());
            assertEquals(0, f.getLong("errorCode"));
        }
        assertTrue(
                faults.stream().anyMatch(f -> f.getString("lockPath").equals("vma_lock")),
                "the faulting tasks' faults are handled under the per-VMA lock");
        final List<RecordedEvent> shootdowns = named(events, "vmsim.tlb.Shootdown");
        assertFalse(shootdowns.isEmpty());
        assertTrue(shootdowns.stream().anyMatch(s -> s.getInt("remoteCpus") > 0), "the faulting CPUs are remote");
        assertTrue(shootdowns.stream().allMatch(s -> s.getInt("remoteCpus") < s.getInt("cpus")));
    }

    @Test
    void anUnwritableJfrFileIsAUsageError(@TempDir final Path dir) {
        final CliHarness r = CliHarness.run(
                KernelFactory.simulator(),
                "run",
                "page-fault1",
                "--iterations",
                "1",
                "--jfr",
                dir.resolve("no/such/dir/x.jfr").toString());
        assertEquals(2, r.status);
        assertTrue(r.err.contains("--jfr") && r.err.contains("directory does not exist"), r.err);
        assertFalse(r.err.contains("\tat "), "no stack trace: " + r.err);
    }
}
