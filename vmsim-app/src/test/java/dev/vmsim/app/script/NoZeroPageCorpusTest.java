package dev.vmsim.app.script;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The scenarios recorded on a Linux 6.18 kernel that never maps the zero page reproduce, byte for
 * byte, on the simulator's --no-zero-page variant, on both architectures and in every locking mode;
 * and they are not what the vanilla kernel prints.
 */
class NoZeroPageCorpusTest {
    private static final KernelVariant NO_ZERO_PAGE = KernelVariant.VANILLA.withZeroPage(false);

    @TestFactory
    List<DynamicTest> everyNoZeroPageScenarioOnEveryArchAndLockingMode() {
        final List<ScenarioFiles.Recorded> recorded = ScenarioFiles.in(ScenarioFiles.NO_ZERO_PAGE);
        assertTrue(recorded.size() >= 2, "recorded: " + recorded.size());
        final List<DynamicTest> tests = new ArrayList<>();
        for (final ScenarioFiles.Recorded r : recorded) {
            for (final String arch : new String[] {"x86_64", "arm64"}) {
                for (final LockingMode mode : LockingMode.values()) {
                    tests.add(DynamicTest.dynamicTest(r.name() + " [" + arch + ", " + mode.cliName() + "]", () -> {
                        final String sim = VmScript.run(r.script(), ArchRegistry.find(arch), mode, false, NO_ZERO_PAGE);
                        final String diff = TranscriptDiff.describe(r.transcript(), sim);
                        assertNull(diff, () -> r.name() + " --no-zero-page on " + arch + ": " + diff);
                    }));
                }
            }
        }
        return tests;
    }

    @Test
    void theVanillaKernelPrintsSomethingElse() {
        for (final ScenarioFiles.Recorded r : ScenarioFiles.in(ScenarioFiles.NO_ZERO_PAGE)) {
            assertNotEquals(
                    r.transcript(),
                    VmScript.run(r.script(), ArchRegistry.find("x86_64"), LockingMode.PER_VMA),
                    r.name());
        }
    }
}
