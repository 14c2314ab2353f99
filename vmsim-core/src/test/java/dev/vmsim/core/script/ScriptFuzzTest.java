package dev.vmsim.core.script;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vmsim.core.Machine;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.testing.TestArch;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzzing of the vmscript parser and interpreter (Jazzer). Any text is a script: a
 * line the interpreter does not accept must become an error line in the transcript, never an
 * exception, and whatever the script did to the process, validate() must pass afterwards.
 *
 * <p>In {@code mvn test} it replays the corpus in {@code src/test/resources/dev/vmsim/core/script/
 * ScriptFuzzTestInputs/fuzzScript/} (every crash found is added there as a regression input); the
 * {@code fuzz} execution of vmsim-core's pom fuzzes it for a bounded time with JAZZER_FUZZ=1.
 */
class ScriptFuzzTest {
    @FuzzTest(maxDuration = "25s")
    void fuzzScript(final byte[] data) {
        final String script = new String(data, StandardCharsets.ISO_8859_1);
        final Machine machine = TestArch.machine(2048);
        try {
            final MmStruct mm = new MmStruct(machine, LockingMode.values()[script.length() % 3]);
            final Cpu cpu = machine.newCpu();
            cpu.switchMm(mm);
            VmScript.run(script, mm, cpu);
            mm.validate();
        } finally {
            machine.close();
        }
    }
}
