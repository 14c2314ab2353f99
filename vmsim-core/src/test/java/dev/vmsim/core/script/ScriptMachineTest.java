package dev.vmsim.core.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.api.Test;

/** The {@code mem} and {@code swap} lines: when they are taken, what they refuse, and the machine they boot. */
class ScriptMachineTest {
    private static ScriptSession session() {
        return ScriptSession.start(new TestArch(), LockingMode.PER_VMA, false, null);
    }

    @Test
    void memAndSwapBeforeTheFirstOperationBootAMachineOfThatSize() {
        final ScriptSession s = session();
        assertEquals(VmScript.FRAMES, s.machine().memory().frames());
        assertFalse(s.memoryLimited());
        s.step("# the machine");
        s.step("");
        assertEquals("mem 1M -> ok\n", s.step("mem 1M").text());
        assertEquals("swap 64K -> ok\n", s.step("swap 64K   # sixteen slots").text());
        assertTrue(s.memoryLimited());
        assertEquals(256, s.machine().memory().frames());
        assertNotNull(s.machine().swap());
        assertEquals(16, s.machine().swap().totalSwapPages());
        assertEquals("swap 0 -> ok\n", s.step("swap 0").text());
        assertNull(s.machine().swap());
    }

    @Test
    void afterAnOperationTheMachineIsFixed() {
        final ScriptSession s = session();
        s.step("map a 4K rw-");
        assertEquals("mem 1M -> EBUSY\n", s.step("mem 1M").text());
        assertEquals("swap 1M -> EBUSY\n", s.step("swap 1M").text());
        assertEquals(VmScript.FRAMES, s.machine().memory().frames());
        assertNull(s.machine().swap());
    }

    @Test
    void badSizesAreRefusedAndChangeNothing() {
        final ScriptSession s = session();
        assertEquals("mem 1.5M -> syntax\n", s.step("mem 1.5M").text());
        assertEquals("mem -> syntax\n", s.step("mem").text());
        assertEquals("mem 1M 2M -> syntax\n", s.step("mem 1M 2M").text());
        assertEquals("mem 16K -> EINVAL\n", s.step("mem 16K").text()); // below the boot minimum
        assertEquals("mem 1G -> EINVAL\n", s.step("mem 1G").text()); // above the script machine's 256 MiB
        assertEquals("swap 1K -> EINVAL\n", s.step("swap 1K").text()); // no slot besides the header
        assertEquals("swap 1E -> ENOMEM\n", s.step("swap 1E").text()); // more than the heap can back
        assertFalse(s.memoryLimited());
        assertEquals(VmScript.FRAMES, s.machine().memory().frames());
        // The refusals did not fix the machine.
        assertEquals("mem 1M -> ok\n", s.step("mem 1M").text());
        // A machine line takes no task prefix; like any other line, that one fixes the machine.
        assertEquals(
                "in parent: mem 2M -> syntax\n", s.step("in parent: mem 2M").text());
        assertEquals("mem 2M -> EBUSY\n", s.step("mem 2M").text());
        assertEquals(256, s.machine().memory().frames());
    }

    @Test
    void theCallersSizesAreWhereTheScriptStartsAndItsLinesWin() {
        final ScriptSession s = ScriptSession.start(
                new TestArch(),
                LockingMode.PER_VMA,
                false,
                dev.vmsim.core.KernelVariant.VANILLA,
                dev.vmsim.core.clock.HostPlatform.INSTANCE,
                2L << 20,
                1L << 20,
                null);
        assertEquals(512, s.machine().memory().frames());
        assertEquals(256, s.machine().swap().totalSwapPages());
        s.step("mem 1M");
        assertEquals(256, s.machine().memory().frames());
        assertEquals(256, s.machine().swap().totalSwapPages());
    }

    @Test
    void aScriptOnACallersMachineCannotResizeIt() {
        final String t =
                VmScript.run("mem 1M\n", new dev.vmsim.core.Machine(new TestArch(), 1024, 1), LockingMode.PER_VMA);
        assertEquals("mem 1M -> EBUSY\n", t);
    }

    @Test
    void aWorkingSetLargerThanMemoryIsSwappedOutAndReadBack() {
        final String t = VmScript.run(
                "mem 1M\nswap 4M\nmap a 8K rw-\nwrite a 7\nwrite a+4K 8\nmap b 1M rw- populate\n"
                        + "read a\nread a+4K\nvmstat\n",
                new TestArch(),
                LockingMode.PER_VMA);
        assertTrue(t.contains("read a -> ok 7\nread a+4K -> ok 8\n"), t);
        assertTrue(t.matches("(?s).*\n  pswpout [1-9][0-9]*\n.*"), t);
        assertTrue(t.matches("(?s).*\n  pswpin [1-9][0-9]*\n.*"), t);
        assertTrue(t.matches("(?s).*\n  pgscan_kswapd [1-9][0-9]*\n.*"), t); // kswapd ran, inline
    }
}
