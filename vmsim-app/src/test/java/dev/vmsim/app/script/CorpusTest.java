package dev.vmsim.app.script;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every recorded scenario (the project's corpus and the spec's examples) gives, on the simulator,
 * exactly the transcript Linux 6.18 printed for it, byte for byte, on both architectures and in all
 * three locking modes: locking and page-table format must not change what a process observes.
 */
class CorpusTest {
    private static final String[] ARCHES = {"x86_64", "arm64"};

    @TestFactory
    List<DynamicTest> everyRecordedScenarioOnEveryArchAndLockingMode() {
        final List<ScenarioFiles.Recorded> recorded = ScenarioFiles.all();
        assertTrue(recorded.size() >= 45, "corpus + examples: " + recorded.size());
        final List<DynamicTest> tests = new ArrayList<>();
        for (final ScenarioFiles.Recorded r : recorded) {
            for (final String archName : ARCHES) {
                for (final LockingMode mode : LockingMode.values()) {
                    tests.add(DynamicTest.dynamicTest(
                            r.name() + " [" + archName + ", " + mode.cliName() + "]", () -> check(r, archName, mode)));
                }
            }
        }
        return tests;
    }

    private static void check(final ScenarioFiles.Recorded r, final String archName, final LockingMode mode) {
        final Arch arch = ArchRegistry.find(archName);
        assertNotNull(arch, () -> "architecture " + archName + " not on the class path; found " + ArchRegistry.names());
        final String actual = VmScript.run(r.script(), arch, mode);
        final String diff = TranscriptDiff.describe(r.transcript(), actual);
        assertNull(
                diff,
                () -> r.name() + " on " + archName + " / " + mode.cliName() + "\n--- scenario\n" + r.script() + "--- "
                        + diff);
    }
}
