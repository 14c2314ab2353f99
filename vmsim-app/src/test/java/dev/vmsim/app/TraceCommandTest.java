package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.app.script.ScenarioFiles;
import dev.vmsim.app.trace.TraceStructure;
import dev.vmsim.bench.KernelFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vmsim script --trace} and {@code vmsim run --trace FILE.json}. */
class TraceCommandTest {
    private static String script(final String vms, final String... args) throws Exception {
        final Path f = Files.createTempFile("trace", ".vms");
        try {
            Files.writeString(f, vms);
            final String[] all = new String[args.length + 2];
            all[0] = "script";
            System.arraycopy(args, 0, all, 1, args.length);
            all[all.length - 1] = f.toString();
            final CliHarness r = CliHarness.run(KernelFactory.simulator(), all);
            assertEquals(0, r.status, r.err);
            return r.out;
        } finally {
            Files.delete(f);
        }
    }

    private static String withoutTrace(final String out) {
        return out.lines().filter(l -> !l.startsWith("  # ")).map(l -> l + "\n").collect(Collectors.joining());
    }

    @Test
    void x86TraceShowsEachFaultsPath() throws Exception {
        final String out = script(
                "map a 16K rw-\nread a\nwrite a\nwrite a+4K\nmap s 16K rw- growsdown\nwrite s-4K\n"
                        + "map r 4K r--\nwrite r\n",
                "--trace");
        assertEquals(
                String.join(
                        "\n",
                        "map a 16K rw- -> ok top-0x4000",
                        "read a -> ok 0",
                        "  # #PF err=0x4 [U] cr2=top-0x4000 at PML4 -> lock_vma_under_rcu: locked"
                                + " -> handle_mm_fault(USER|VMA_LOCK): do_anonymous_page zero page -> 0",
                        "write a -> ok",
                        "  # #PF err=0x7 [P W U] cr2=top-0x4000 at PT -> lock_vma_under_rcu: locked"
                                + " -> handle_mm_fault(WRITE|USER|VMA_LOCK): do_wp_page copy of zero page -> 0",
                        "write a+4K -> ok",
                        "  # #PF err=0x6 [W U] cr2=top-0x3000 at PT -> lock_vma_under_rcu: locked"
                                + " -> handle_mm_fault(WRITE|USER|VMA_LOCK): do_anonymous_page new page -> 0",
                        "map s 16K rw- growsdown -> ok top-0x8000",
                        "write s-4K -> ok",
                        "  # #PF err=0x6 [W U] cr2=top-0x9000 at PT -> lock_vma_under_rcu: abort"
                                + " -> lock_mm_and_find_vma: found (read lock dropped, write lock taken, stack expanded)"
                                + " -> handle_mm_fault(WRITE|USER): do_anonymous_page new page -> 0",
                        "map r 4K r-- -> ok top-0x10a000",
                        "write r -> SEGV_ACCERR",
                        "  # #PF err=0x6 [W U] cr2=top-0x10a000 at PT -> lock_vma_under_rcu: locked -> signal SEGV_ACCERR",
                        ""),
                out);
    }

    /** Beyond the shmem object of a shared mapping grown by mremap: a SIGBUS, in the transcript and in the trace. */
    @Test
    void aSigbusIsNamedAsASigbusInTheTranscriptAndTheTrace() throws Exception {
        final String out = script("map a 4K rw- shared at top-0x100000 fixed\nremap g a 4K 8K\nread a+4K\n", "--trace");
        assertTrue(out.contains("read a+4K -> SIGBUS BUS_ADRERR\n  # #PF err=0x4 [U] cr2=top-0xff000"), out);
        assertTrue(out.contains(" -> signal SIGBUS BUS_ADRERR\n"), out);
        assertFalse(out.contains("SEGV"), out);
    }

    /** --mmap-upgrade: the stack grows under the write lock reached by the simulator's atomic upgrade. */
    @Test
    void withMmapUpgradeTheStackGrowsUnderTheUpgradedLock() throws Exception {
        final String vms = "map s 16K rw- growsdown\nread s-4K\n";
        final String out = script(vms, "--trace", "--mmap-upgrade");
        assertTrue(out.contains(" -> lock_mm_and_find_vma: found (write lock by upgrade, stack expanded) -> "), out);
        assertEquals(withoutTrace(script(vms, "--trace")), withoutTrace(out), "the transcript does not change");
    }

    @Test
    void arm64TraceDecodesTheEsrAndFar() throws Exception {
        final String out = script("map r 4K r--\nwrite r\n", "--trace", "--arch", "arm64");
        assertTrue(
                out.contains(
                        "write r -> SEGV_ACCERR\n  # ESR=0x92000044 EC=0x24 DABT_LOW IL WnR DFSC=0x04"
                                + " (level 0 translation fault) FAR=top-0x1000 -> lock_vma_under_rcu: locked -> signal SEGV_ACCERR\n"),
                out);
    }

    /** The canonical transcript is byte-identical with and without --trace, for every recorded scenario. */
    @Test
    void traceLeavesTheTranscriptLinesUnchanged() throws Exception {
        final List<ScenarioFiles.Recorded> all = ScenarioFiles.all();
        assertTrue(all.size() > 5);
        int traced = 0;
        for (final String arch : List.of("x86_64", "arm64")) {
            for (final ScenarioFiles.Recorded s : all) {
                final String plain = script(s.script(), "--arch", arch);
                final String withTrace = script(s.script(), "--arch", arch, "--trace");
                assertFalse(plain.contains("  # "), s.name());
                assertEquals(plain, withoutTrace(withTrace), s.name() + " on " + arch);
                if (arch.equals("x86_64")) {
                    assertEquals(s.transcript(), plain, s.name());
                }
                traced += withTrace.length() > plain.length() ? 1 : 0;
            }
        }
        assertTrue(traced > 0, "no scenario faulted");
    }

    @Test
    void runWritesAPerfettoTraceAndReportsEachCpusRing(@TempDir final Path dir) throws Exception {
        final Path json = dir.resolve("trace.json");
        final CliHarness r = CliHarness.run(
                KernelFactory.simulator(),
                "run",
                "stack-growth",
                "--threads",
                "2",
                "--iterations",
                "20",
                "--seed",
                "3",
                "--trace",
                json.toString());
        assertEquals(0, r.status, r.err);
        final TraceStructure t = TraceStructure.check(Files.readString(json));
        assertEquals(((Number) t.otherData.get("capacity")).longValue(), (long) RunCommand.TRACE_CAPACITY);
        assertEquals(2, t.cpuTracks.size(), "one track per simulated CPU: " + t.cpuTracks);
        for (final String n :
                List.of("page_fault_user", "lock_mm_and_find_vma", "handle_mm_fault", "mmap_lock_wait(read)")) {
            assertTrue(t.slices.containsKey(n), n + " missing from " + t.slices);
        }
        for (final String n : List.of("lock_vma_under_rcu", "mmap_lock_released", "expand_downwards")) {
            assertTrue(t.instants.contains(n), n + " missing from " + t.instants);
        }
        for (final String c : List.of("rss pages", "nr_free_pages pages", "mmap_lock waiters")) {
            assertTrue(t.counters.containsKey(c), c + " missing from " + t.counters.keySet());
        }
        assertTrue(r.out.contains("trace: entries-in-buffer/entries-written: "), r.out);
        assertTrue(r.out.contains("  cpu0    entries: "), r.out);
    }

    @Test
    void traceIsOffAfterTheRun() throws Exception {
        assertFalse(dev.vmsim.core.trace.FaultTrace.enabled());
        script("map a 4K rw-\nread a\n", "--trace");
        assertFalse(dev.vmsim.core.trace.FaultTrace.enabled());
    }
}
