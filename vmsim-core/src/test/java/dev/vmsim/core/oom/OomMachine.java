package dev.vmsim.core.oom;

import dev.vmsim.core.Machine;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.testing.TestArch;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;

/** The OOM tests' machine: 512 frames, the OOM killer installed with its log kept, one CPU. */
abstract class OomMachine {
    static final int PAGE = 4096;
    static final int FRAMES = 512;

    final Machine machine = TestArch.machine(FRAMES);
    final List<String> log = new CopyOnWriteArrayList<>();
    final OomKiller killer = machine.enableOomKiller();
    final Cpu cpu = machine.newCpu();

    OomMachine() {
        killer.setLog(log::add);
    }

    @AfterEach
    void close() {
        machine.close();
    }
}
