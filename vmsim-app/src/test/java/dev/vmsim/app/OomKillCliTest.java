package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * `vmsim run swap-storm` with --mem below its working set and a swap device too small to hold the
 * rest: the OOM killer kills the workload's process. The kernel's log line goes to stderr, the
 * report says which tasks the SIGKILL stopped, and the exit status is 0: the machine, like the
 * kernel, keeps running after an OOM kill (README, "Memory pressure").
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OomKillCliTest {
    @Test
    void aRunOutOfMemoryAndSwapPrintsTheOomLineReportsTheKillAndExitsZero() {
        final PrintStream stderr = System.err;
        final ByteArrayOutputStream kernelLog = new ByteArrayOutputStream();
        final CliHarness r;
        System.setErr(new PrintStream(kernelLog, true, StandardCharsets.UTF_8));
        try {
            r = CliHarness.run(
                    KernelFactory.simulator(),
                    "run",
                    "swap-storm-seq",
                    "--threads",
                    "2",
                    "--iterations",
                    "3",
                    "--mem",
                    "2M",
                    "--swap",
                    "8K",
                    "--clock",
                    "virtual");
        } finally {
            System.setErr(stderr);
        }
        final String log = kernelLog.toString(StandardCharsets.UTF_8);
        assertEquals(0, r.status, r.err + log);
        assertTrue(
                log.matches("(?s).*Out of memory: Killed process \\d+ \\(swap-storm-seq\\) total-vm:\\d+kB, "
                        + "anon-rss:\\d+kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:\\d+kB oom_score_adj:0\n.*"),
                log);
        assertTrue(log.contains("oom_reaper: reaped process"), log);
        assertTrue(
                r.out.contains("OOM: the OOM killer killed the workload's process (oom_kill 1); SIGKILL stopped task"),
                r.out);
        assertTrue(r.out.matches("(?s).*oom_kill\\s+1\n.*"), r.out);
    }
}
