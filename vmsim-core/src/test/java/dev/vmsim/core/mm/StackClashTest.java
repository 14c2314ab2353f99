package dev.vmsim.core.mm;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_GROWSDOWN;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * FAULT-13, after LTP's stack_clash: a page mapped below a growing stack, then the stack grown a
 * page at a time, as a recursion would, until SIGSEGV. expand_downwards refuses the growth that
 * would bring the stack within stack_guard_gap of the mapping, so the faulting address is at least
 * (gap - 1) pages above the mapping's end (and no more than gap: every page before it was
 * granted). A non-fixed mmap asked for inside the gap is placed elsewhere (vm_start_gap).
 */
class StackClashTest {
    private static final long P = 4096;

    @ParameterizedTest
    @EnumSource(LockingMode.class)
    void theStackStopsAGuardGapAboveTheMappingBelowIt(final LockingMode mode) {
        final Machine machine = TestArch.machine(1 << 12);
        final MmStruct mm = new MmStruct(machine, mode);
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        final long gap = mm.stackGuardGap();
        final long stack = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
        assertTrue(stack > 0);
        final long below = stack - 2 * gap;
        assertEquals(below, mm.mmap(below, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
        final long belowEnd = below + P;

        long addr = stack - P;
        int sig = SigInfo.OK;
        for (int pages = 0; pages < 2 * gap / P && sig == SigInfo.OK; pages++, addr -= P) {
            sig = cpu.store(addr, (byte) 1); // the next frame of the recursion
        }
        addr += P; // the address that faulted
        assertEquals(SigInfo.SEGV_MAPERR_SIG, sig, "the recursion ends in SIGSEGV");
        assertTrue(
                addr - belowEnd >= gap - P,
                "stack_clash: faulted at 0x" + Long.toHexString(addr) + ", only " + (addr - belowEnd) / P
                        + " pages above the mapping");
        assertTrue(addr - belowEnd < gap, "every page outside the gap was granted");
        assertEquals(addr + P, mm.findVma(addr + P).vmStart, "the stack grew down to the page above the fault");

        final long stackStart = mm.findVma(addr + P).vmStart;
        final long hint = stackStart - gap / 2;
        final long placed = mm.mmap(hint, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
        assertTrue(placed > 0);
        assertTrue(
                placed + P <= stackStart - gap || placed >= stackStart,
                "a non-fixed mapping asked for inside the guard gap lands outside it: 0x" + Long.toHexString(placed));
        mm.validate();
        machine.close();
    }
}
