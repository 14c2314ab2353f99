package dev.vmsim.app.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class TranscriptDiffTest {
    @Test
    void equalTranscriptsHaveNoDiff() {
        assertNull(TranscriptDiff.describe("map a 4K rw- -> ok top-0x1000\n", "map a 4K rw- -> ok top-0x1000\n"));
    }

    @Test
    void marksTheFirstDifferingLineAndTheExtraLines() {
        final String kernel = "map a 4K rw- -> ok top-0x1000\nmaps ->\n  top-0x1000 top+0x0 rw-p\n";
        final String sim = "map a 4K rw- -> ok top-0x1000\nmaps ->\n";
        assertEquals(
                "first difference at transcript line 3 (- kernel, + simulator):\n"
                        + "  map a 4K rw- -> ok top-0x1000\n"
                        + "  maps ->\n"
                        + "-   top-0x1000 top+0x0 rw-p\n"
                        + "+ \n"
                        + "- \n",
                TranscriptDiff.describe(kernel, sim));
    }
}
