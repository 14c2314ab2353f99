package dev.vmsim.core.phys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemparseTest {
    @Test
    void suffixesArePowersOf1024EitherCase() {
        assertEquals(4096, Memparse.parse("4096"));
        assertEquals(65536L * 1024, Memparse.parse("65536K"));
        assertEquals(512L << 20, Memparse.parse("512M"));
        assertEquals(512L << 20, Memparse.parse("512m"));
        assertEquals(2L << 30, Memparse.parse("2G"));
        assertEquals(1L << 40, Memparse.parse("1T"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "M", "12Q", "1.5G", "-1M", "0x10", "5MB", "9223372036854775808", "9000000000000P"})
    void malformedOrTooLargeIsOneLine(final String text) {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Memparse.parse(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }
}
