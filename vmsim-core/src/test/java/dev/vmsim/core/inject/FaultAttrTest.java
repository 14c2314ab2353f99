package dev.vmsim.core.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class FaultAttrTest {
    /** The calls of size 1 that fail among the first {@code n}, as a string of '.' (pass) and 'x' (fail). */
    private static String pattern(final FaultAttr attr, final int n) {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(attr.shouldFail(1) ? 'x' : '.');
        }
        return sb.toString();
    }

    @Test
    void nthPassesTheChosenNumberOfCallsThenFailsAsManyTimesAsAsked() {
        assertEquals("x.....", pattern(FaultAttr.nth(0, 1), 6));
        assertEquals("...xx.", pattern(FaultAttr.nth(3, 2), 6));
        assertEquals("..xxxx", pattern(FaultAttr.nth(2, -1), 6));
    }

    @Test
    void intervalMakesOnlyEveryNthCallACandidate() {
        assertEquals("..x..x..x.", pattern(new FaultAttr(100, 3, -1, 0, 0), 10));
    }

    @Test
    void randomIsReproducibleFromItsSeedAndHonoursTimes() {
        final String a = pattern(FaultAttr.random(42, 30, -1), 200);
        assertEquals(a, pattern(FaultAttr.random(42, 30, -1), 200));
        final long fails = a.chars().filter(c -> c == 'x').count();
        assertEquals(60, fails, 25, "about 30% of 200");
        assertEquals(
                5,
                pattern(FaultAttr.random(42, 30, 5), 200)
                        .chars()
                        .filter(c -> c == 'x')
                        .count());
        assertEquals("..........", pattern(FaultAttr.random(42, 0, -1), 10));
    }

    @Test
    void rejectsKnobsOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> new FaultAttr(101, 1, 1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new FaultAttr(50, 0, 1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new FaultAttr(50, 1, -2, 0, 0));
    }
}
