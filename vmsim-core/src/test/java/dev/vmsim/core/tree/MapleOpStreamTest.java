package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TREE-17, check_erase2_sets ported in idea: replays op streams recorded from the simulator's own
 * VMA tree ({@link MapleOpStreamRecorder}) into a fresh allocation-range tree, validates it after
 * every step, compares every step with the reference map, and checks the number of entries the
 * stream ends with. The kernel's own captured sets (set1..set47) are not in the repository.
 */
class MapleOpStreamTest {
    private static List<String> read(final String name) throws IOException {
        final InputStream in = MapleOpStreamTest.class.getResourceAsStream("opstreams/" + name);
        assertNotNull(in, name);
        final List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                lines.add(l);
            }
        }
        return lines;
    }

    /** TREE-17: every recorded stream replays with validate() passing after each STORE and SNULL. */
    @ParameterizedTest
    @ValueSource(strings = {"seed-1.ops", "seed-2.ops", "seed-3.ops"})
    void checkErase2SetsReplay(final String name) throws IOException {
        final MapleTree<Long> mt = new MapleTree<>(true);
        final ReferenceRangeMap<Long> ref = new ReferenceRangeMap<>();
        int steps = 0;
        int end = -1;
        for (final String line : read(name)) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            final String[] f = line.split(" ");
            if (f[0].equals("END")) {
                end = Integer.parseInt(f[1]);
                break;
            }
            final long first = Long.parseUnsignedLong(f[1].substring(2), 16);
            final long last = Long.parseUnsignedLong(f[2].substring(2), 16);
            final Long value = f[0].equals("STORE") ? first : null;
            assertTrue(f[0].equals("STORE") || f[0].equals("SNULL"), line);
            mt.store(first, last, value);
            ref.store(first, last, value);
            steps++;
            mt.validate();
            assertEquals(ref.size(), mt.size(), name + " step " + steps + ": " + line);
            for (final long probe : new long[] {first, last, first - 1, last + 1}) {
                ref.set(probe, probe);
                assertEquals(ref.walk(), mt.walk(probe), name + " step " + steps + " load " + probe);
            }
        }
        assertTrue(steps > 100, name + ": " + steps + " steps");
        assertEquals(end, mt.size(), name + ": entries at END");
    }
}
