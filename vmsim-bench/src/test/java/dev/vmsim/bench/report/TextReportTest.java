package dev.vmsim.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TextReportTest {
    @Test
    void siUsesThreeFiguresAndNoExponent() {
        assertEquals("1.23M", TextReport.si(1_234_567));
        assertEquals("708k", TextReport.si(708_123));
        assertEquals("1470", TextReport.si(1470.4));
        assertEquals("2.15", TextReport.si(2.1512));
        assertEquals("42", TextReport.si(42));
        assertEquals("n/a", TextReport.si(Double.NaN));
        assertEquals("3.00G", TextReport.si(3e9));
    }
}
