package dev.vmsim.app.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ScenarioGeneratorTest {
    private static final Pattern OPERATION = Pattern.compile(
            "(map|unmap|protect|remap|dontneed|guard|unguard|populate_read|populate_write|wipeonfork|keeponfork|read|write|maps)( [^ #]+)*");

    @Test
    void sameSeedGivesTheSameScenario() {
        for (long seed = 0; seed < 50; seed++) {
            assertEquals(ScenarioGenerator.generate(seed, 30), ScenarioGenerator.generate(seed, 30));
        }
    }

    @Test
    void differentSeedsGiveDifferentScenarios() {
        final Set<String> seen = new HashSet<>();
        for (long seed = 0; seed < 200; seed++) {
            assertTrue(seen.add(ScenarioGenerator.generate(seed, 30)), "seed " + seed + " repeats a scenario");
        }
        assertNotEquals(ScenarioGenerator.generate(1, 30), ScenarioGenerator.generate(2, 30));
    }

    @Test
    void scenarioHasTheRequestedLinesAndEndsWithMaps() {
        final String s = ScenarioGenerator.generate(7, 30);
        final String[] lines = s.split("\n");
        assertEquals(31, lines.length, s); // the seed comment + 30 operations
        assertTrue(lines[0].startsWith("# generated"), s);
        assertEquals("maps", lines[30]);
        for (int i = 1; i < lines.length; i++) {
            assertTrue(OPERATION.matcher(lines[i]).matches(), "not an operation: " + lines[i]);
        }
    }

    @Test
    void everyOperationKindAppearsAcrossSeeds() {
        final Set<String> kinds = new HashSet<>();
        final Set<String> options = new HashSet<>();
        for (long seed = 0; seed < 200; seed++) {
            for (final String line : ScenarioGenerator.generate(seed, 30).split("\n")) {
                final String[] tok = line.split(" ");
                kinds.add(tok[0]);
                for (final String t : tok) {
                    if (t.matches("shared|growsdown|populate|fixed|noreplace|maymove|at")) {
                        options.add(t);
                    }
                }
            }
        }
        assertEquals(
                Set.of(
                        "#",
                        "map",
                        "unmap",
                        "protect",
                        "remap",
                        "dontneed",
                        "guard",
                        "unguard",
                        "populate_read",
                        "populate_write",
                        "wipeonfork",
                        "keeponfork",
                        "read",
                        "write",
                        "maps"),
                kinds);
        assertEquals(Set.of("shared", "growsdown", "populate", "fixed", "noreplace", "maymove", "at"), options);
    }
}
