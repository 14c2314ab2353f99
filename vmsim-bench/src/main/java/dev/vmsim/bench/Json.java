package dev.vmsim.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The one Jackson {@link ObjectMapper} the tool writes and reads its JSON with (run and compare
 * results, machine profiles). Results are built as trees whose members keep the order they were put
 * in ({@link ObjectNode} is backed by a LinkedHashMap), so the same run writes the same bytes.
 *
 * <p>Thread-safety: an ObjectMapper is safe for concurrent use once configured, and this one is
 * never reconfigured after class initialisation.
 */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    /** The shared mapper (configured once; do not reconfigure). */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    /** Puts {@code d}, or null when it is NaN or infinite (neither is a JSON number). */
    public static ObjectNode putFinite(final ObjectNode o, final String name, final double d) {
        if (Double.isFinite(d)) {
            o.put(name, d);
        } else {
            o.putNull(name);
        }
        return o;
    }

    /** The compact JSON text of {@code node}. */
    public static String write(final JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            // A tree of plain nodes always serialises; this would be a Jackson bug.
            throw new IllegalStateException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The pretty-printed JSON text of {@code node} (two-space indent), for files people read. */
    public static String writePretty(final JsonNode node) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }
}
