package dev.vmsim.core.debug;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The switches themselves: off by default, scoped by try-with-resources, one bit each. */
class BugSwitchesTest {
    @Test
    void everySwitchStartsOffAndReintroduceRestoresIt() {
        assertTrue(BugSwitches.AVAILABLE, "surefire runs the debug build");
        assertEquals(14, Bug.values().length);
        for (final Bug b : Bug.values()) {
            assertFalse(BugSwitches.on(b), b.id() + " is off by default");
        }
        try (var outer = BugSwitches.reintroduce(Bug.BUG_03)) {
            assertTrue(BugSwitches.on(Bug.BUG_03));
            assertFalse(BugSwitches.on(Bug.BUG_04), "one bit per bug");
            try (var inner = BugSwitches.reintroduce(Bug.BUG_03)) {
                assertTrue(BugSwitches.on(Bug.BUG_03));
            }
            assertTrue(BugSwitches.on(Bug.BUG_03), "the inner scope restored what it found");
        }
        assertFalse(BugSwitches.on(Bug.BUG_03));
    }

    @Test
    void everyBugCanBeReintroducedBug09Included() {
        for (final Bug b : Bug.values()) {
            assertTrue(b.replayable(), b.id());
        }
        try (var bug = BugSwitches.reintroduce(Bug.BUG_09)) {
            assertTrue(BugSwitches.on(Bug.BUG_09), "swapoff is modelled, so BUG-09's switch is accepted");
        }
        assertFalse(BugSwitches.on(Bug.BUG_09));
        assertEquals("BUG-09", Bug.BUG_09.id());
    }
}
