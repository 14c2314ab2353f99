package dev.vmsim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
    @Test
    void parsesSecondsMillisecondsAndMinutes() {
        assertEquals(Duration.ofSeconds(5), Durations.parse("5s"));
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofMinutes(2), Durations.parse("2m"));
        assertEquals(Duration.ofMillis(1500), Durations.parse("1.5s"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "", "5", "s", "-1s", "0s", "5h", "5 s x", "1e3s"})
    void rejectsWhatIsNotAPositiveNumberAndUnit(final String text) {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertTrue(e.getMessage().startsWith("invalid duration"), e.getMessage());
    }

    @Test
    void formatsBackInTheLargestWholeUnit() {
        assertEquals("2m", Durations.format(Duration.ofMinutes(2)));
        assertEquals("5s", Durations.format(Duration.ofSeconds(5)));
        assertEquals("500ms", Durations.format(Duration.ofMillis(500)));
    }
}
