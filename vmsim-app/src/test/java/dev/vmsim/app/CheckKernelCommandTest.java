package dev.vmsim.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.app.script.KernelOracle;
import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * {@code vmsim check-kernel} against stand-in kernels (the simulator in a variant, or a kernel that
 * prints a SIGBUS the old way), so that it runs without gcc: what it probes, counts and exits with.
 */
class CheckKernelCommandTest {
    private static UnaryOperator<String> simulatorAs(final KernelVariant v) {
        return script -> VmScript.run(script, ArchRegistry.find("x86_64"), LockingMode.MMAP_ONLY, false, v);
    }

    private static CliHarness check(final UnaryOperator<String> kernel, final String... args) {
        final String[] all = new String[args.length + 1];
        all[0] = "check-kernel";
        System.arraycopy(args, 0, all, 1, args.length);
        return CliHarness.withOracle(dir -> new KernelOracle.Built(kernel, null), all);
    }

    @Test
    void aKernelWithoutTheZeroPageIsProbedAndThenMatchesEveryScenario() {
        final CliHarness r = check(simulatorAs(KernelVariant.VANILLA.withZeroPage(false)), "--seeds", "5");
        assertEquals(0, r.status, r.out + r.err);
        assertTrue(r.out.contains("simulator: --no-zero-page"), r.out);
        assertTrue(r.out.contains("stack guard gap                      kernel: 256 pages"), r.out);
        assertTrue(r.out.contains("simulator: x86_64, per-vma, --no-zero-page\n"), r.out);
        assertTrue(r.out.matches("(?s).*recorded scenarios: (\\d+) of \\1 identical\n.*"), r.out);
        assertTrue(r.out.contains("random scenarios (seeds 1-5, 30 lines): 5 of 5 identical\nall identical\n"), r.out);
    }

    @Test
    void anotherStackGuardGapIsProbedAndConfigured() {
        final CliHarness r = check(
                simulatorAs(KernelVariant.VANILLA.withStackGuardGapPages(100)), "--seeds", "0", "--arch", "arm64");
        assertEquals(0, r.status, r.out + r.err);
        assertTrue(r.out.contains("kernel: 100 pages"), r.out);
        assertTrue(r.out.contains("simulator: arm64, per-vma, stack_guard_gap=100 pages\n"), r.out);
    }

    /** A kernel that names a SIGBUS by si_code alone, as the oracle did before: exit 1 and the diff. */
    @Test
    void aDifferenceExitsOneAndShowsTheFirstDiff() {
        final UnaryOperator<String> vanilla = simulatorAs(KernelVariant.VANILLA);
        final CliHarness r = check(s -> vanilla.apply(s).replace("SIGBUS BUS_ADRERR", "SEGV_ACCERR"), "--seeds", "0");
        assertEquals(1, r.status, r.out + r.err);
        assertTrue(r.out.contains("simulator: x86_64, per-vma\n"), r.out);
        assertFalse(r.out.contains("all identical"), r.out);
        assertTrue(r.out.contains("first difference: corpus/33-shared-grow-sigbus.vms\n--- scenario\n"), r.out);
        assertTrue(r.out.contains("- read a+20K -> SEGV_ACCERR\n+ read a+20K -> SIGBUS BUS_ADRERR\n"), r.out);
    }

    @Test
    void noOracleIsExitTwoWithOneLine() {
        final CliHarness r = CliHarness.withOracle(
                dir -> new KernelOracle.Built(null, "gcc is not installed (needed to build the kernel oracle)"),
                "check-kernel");
        assertEquals(2, r.status, r.out + r.err);
        assertEquals(
                "vmsim: cannot build the kernel oracle: gcc is not installed (needed to build the kernel oracle)\n",
                r.err);
        assertEquals("", r.out);
    }

    @Test
    void negativeSeedsAreAUsageError() {
        final CliHarness r = check(simulatorAs(KernelVariant.VANILLA), "--seeds", "-1");
        assertEquals(2, r.status);
        assertEquals("vmsim: --seeds must be at least 0, got -1\n", r.err);
    }
}
