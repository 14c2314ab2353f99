package dev.vmsim.core.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vmsim.core.Machine;
import dev.vmsim.core.testing.TestArch;

/**
 * Test helper: a machine on the core test architecture that remembers how many frames it had
 * allocated at the start, so that a test can end with the machine's validate(), its process's
 * exit, and the frame balance: every frame a test took (pages, page tables) is back.
 */
final class BalancedMachine {
    final Machine machine = TestArch.machine(1024);
    private final long framesAtStart = machine.frames().allocatedFrames();

    /** validate(), exit_mmap of {@code mm} (if any), then the frame balance; closes the machine. */
    void validateExitAndBalance(final MmStruct mm) {
        try {
            machine.validate();
            if (mm != null) {
                mm.exitMmap();
            }
            assertEquals(framesAtStart, machine.frames().allocatedFrames(), "frames leaked");
        } finally {
            machine.close();
        }
    }
}
