package dev.vmsim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonWriterTest {
    @Test
    void writesNestedValuesWithCommasAndEscapesThatParseBack() {
        final JsonWriter w = new JsonWriter();
        w.beginObject()
                .name("s").value("a\"b\\c\n\u0001")
                .name("n").value(42)
                .name("d").value(1.5)
                .name("nan").value(Double.NaN)
                .name("a").beginArray().value(1).beginObject().endObject().value(true).endArray()
                .name("o").beginObject().name("x").value(false).endObject()
                .endObject();
        @SuppressWarnings("unchecked")
        final Map<String, Object> m = (Map<String, Object>) MiniJson.parse(w.toString());
        assertEquals("a\"b\\c\n\u0001", m.get("s"));
        assertEquals(42L, m.get("n"));
        assertEquals(1.5, m.get("d"));
        assertEquals(null, m.get("nan"));
        assertEquals(List.of(1L, Map.of(), true), m.get("a"));
        assertEquals(Map.of("x", false), m.get("o"));
    }
}
