package dev.vmsim.app.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A vmscript under memory pressure on the real architectures: the transcript does not depend on host
 * timing (kswapd runs at its wakeup, swap I/O completes in its submitter), and a page swapped out
 * reads back with its data, the swap PTE decoded in the --trace lines.
 */
class ScriptMemoryPressureTest {
    /** Two pages with data, then more than the machine holds: kswapd swaps out, reads swap back in. */
    static final String PRESSURE = "mem 1M\nswap 4M\nmap a 8K rw-\nwrite a 7\nwrite a+4K 8\nmap b 1M rw- populate\n"
            + "fork child\nin child: write b 3\nread a\nread a+4K\ndontneed b 512K\nmap c 512K rw- populate\nread b+4K\n"
            + "meminfo\nvmstat\n";

    private static Arch arch(final String name) {
        final Arch a = ArchRegistry.find(name);
        assertNotNull(a, name);
        return a;
    }

    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "arm64"})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void theSameScriptGivesTheSameTranscriptEveryTime(final String name) throws Exception {
        final Arch a = arch(name);
        final String first = VmScript.run(PRESSURE, a, LockingMode.PER_VMA);
        // Again, on another thread and while the host is busy with a third run: nothing may depend on timing.
        final CompletableFuture<String> busy =
                CompletableFuture.supplyAsync(() -> VmScript.run(PRESSURE, a, LockingMode.MMAP_ONLY));
        final String second = CompletableFuture.supplyAsync(() -> VmScript.run(PRESSURE, a, LockingMode.PER_VMA))
                .get();
        busy.get();
        assertEquals(first, second);
        assertTrue(first.matches("(?s).*\n  pswpout [1-9][0-9]*\n.*"), first);
        assertTrue(first.matches("(?s).*\n  pgmajfault [1-9][0-9]*\n.*"), first);
        assertTrue(first.contains("read a -> ok 7\nread a+4K -> ok 8\n"), first);
        assertTrue(first.contains("read b+4K -> ok 0\n"), first); // discarded by MADV_DONTNEED
    }

    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "arm64"})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aSwappedOutPageReadsBackItsDataWithTheSwapPteInTheTrace(final String name) {
        final String t = VmScript.runTraced(
                "mem 1M\nswap 4M\nmap a 4K rw-\nwrite a 0x5a\nmap b 1M rw- populate\nread a\n",
                arch(name),
                LockingMode.PER_VMA,
                1 << 16);
        final List<String> lines = t.lines().toList();
        final int read = lines.indexOf("read a -> ok 90");
        assertTrue(read > 0, t);
        final String trace = lines.get(read + 1);
        assertTrue(trace.startsWith("  # "), t);
        assertTrue(trace.matches(".*do_swap_page swap type=0 offset=0x[0-9a-f]+ exclusive, swap cache miss.*"), trace);
        assertTrue(trace.contains("MAJOR"), trace);
    }

    /** No swap and no OOM killer in a script: an access reclaim cannot make room for answers OOM, and the script goes on. */
    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "arm64"})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void withoutSwapAnAccessBeyondMemoryAnswersOom(final String name) {
        final String t =
                VmScript.run("mem 1M\nmap b 2M rw- populate\nwrite b+1M 5\nmaps\n", arch(name), LockingMode.PER_VMA);
        assertTrue(t.contains("\nwrite b+1M 5 -> OOM\nmaps ->\n"), t);
    }
}
