package dev.vmsim.bench.profile;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.vmsim.bench.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads machine profiles: a shipped one by name (resources {@code dev/vmsim/bench/profiles/NAME.json})
 * or a file, checked field by field so that a bad file is refused with one line naming the field
 * ({@code parameters.c2c_smt: must be >= 0, got -1}).
 *
 * <p>The rules: the document is an object with a non-empty string {@code name}, a string {@code
 * description} and an object {@code parameters} that holds exactly the cost model's parameters
 * ({@link ProfileParameters#NAMES}); each is an object with a finite number {@code value} (>= 0; a
 * topology count is a whole number >= 1), its {@code unit} ("ns", or "count" for the topology) and a
 * non-empty {@code source}. Nothing else is allowed, so a misspelt name is an error rather than a
 * silently missing value.
 */
public final class MachineProfiles {
    /** The profiles shipped with vmsim, in the order they are listed. */
    public static final List<String> SHIPPED = List.of("host", "icelake-2s-64c", "zen5-2s-128c");

    /** The profile {@code --machine} defaults to. */
    public static final String DEFAULT = "host";

    private static final String RESOURCE_DIR = "/dev/vmsim/bench/profiles/";

    /** Strict reading: a duplicate key is an error too, and so is anything after the document. */
    private static final ObjectReader READER = Json.mapper()
            .reader()
            .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private MachineProfiles() {}

    /** A profile that cannot be used: the message is one line, starting with the field at fault. */
    public static final class ProfileException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public ProfileException(final String message) {
            super(message);
        }
    }

    /**
     * A shipped profile by name, else the JSON file at that path.
     *
     * @throws ProfileException for an unknown name, an unreadable file or a bad profile
     */
    public static MachineProfile load(final String nameOrFile) {
        if (SHIPPED.contains(nameOrFile)) {
            return shipped(nameOrFile);
        }
        final Path p = Path.of(nameOrFile);
        if (!Files.exists(p) && !nameOrFile.contains("/") && !nameOrFile.endsWith(".json")) {
            throw new ProfileException(
                    "unknown machine profile (known: " + String.join(", ", SHIPPED) + "; or a profile's JSON file)");
        }
        final String text;
        try {
            if (Files.isDirectory(p)) {
                throw new ProfileException("is a directory");
            }
            text = Files.readString(p, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ProfileException("no such file");
        } catch (IOException e) {
            throw new ProfileException("cannot read: " + e.getClass().getSimpleName()
                    + (e.getMessage() != null ? " " + e.getMessage() : ""));
        }
        return parse(text);
    }

    /** The shipped {@link #DEFAULT} profile, read once (profiles are immutable). */
    public static MachineProfile defaultProfile() {
        return DefaultHolder.PROFILE;
    }

    /** Lazy holder: the default profile is parsed on first use, by the JVM's class initialisation lock. */
    private static final class DefaultHolder {
        static final MachineProfile PROFILE = shipped(DEFAULT);
    }

    /** A profile shipped as a resource. */
    public static MachineProfile shipped(final String name) {
        try (InputStream in = MachineProfiles.class.getResourceAsStream(RESOURCE_DIR + name + ".json")) {
            if (in == null) {
                throw new IllegalStateException("shipped profile " + name + " is missing from the class path");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read shipped profile " + name, e);
        }
    }

    /** Parses and checks a profile's JSON text. */
    public static MachineProfile parse(final String json) {
        final JsonNode root;
        try {
            root = READER.readTree(json);
        } catch (JsonProcessingException e) {
            final JsonLocation at = e.getLocation();
            final String msg = e.getOriginalMessage() == null
                    ? ""
                    : e.getOriginalMessage().lines().findFirst().orElse("");
            throw new ProfileException("malformed JSON"
                    + (at != null ? " at line " + at.getLineNr() + ", column " + at.getColumnNr() : "") + ": " + msg);
        }
        if (root == null || root.isMissingNode()) {
            throw new ProfileException("malformed JSON: empty document");
        }
        if (!root.isObject()) {
            throw new ProfileException("the profile must be a JSON object, got " + kind(root));
        }
        for (final Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            final String f = it.next();
            if (!List.of("name", "description", "parameters").contains(f)) {
                throw new ProfileException(f + ": unknown field (a profile has name, description, parameters)");
            }
        }
        final String name = text(root, "name", "name", true);
        final String description = text(root, "description", "description", false);
        final JsonNode ps = root.get("parameters");
        if (ps == null) {
            throw new ProfileException("parameters: missing");
        }
        if (!ps.isObject()) {
            throw new ProfileException("parameters: must be an object, got " + kind(ps));
        }
        for (final Iterator<String> it = ps.fieldNames(); it.hasNext(); ) {
            final String f = it.next();
            if (!ProfileParameters.NAMES.contains(f)) {
                throw new ProfileException("parameters." + f + ": not a parameter of the cost model");
            }
        }
        final Map<String, MachineProfile.Parameter> out = new LinkedHashMap<>();
        for (final String p : ProfileParameters.NAMES) {
            out.put(p, parameter(ps, p));
        }
        final MachineProfile profile = new MachineProfile(name, description, out);
        try {
            CostModels.of(profile); // the topology must nest (CostModel names the count that does not)
        } catch (final IllegalArgumentException e) {
            throw new ProfileException(e.getMessage());
        }
        return profile;
    }

    private static MachineProfile.Parameter parameter(final JsonNode ps, final String p) {
        final String field = "parameters." + p;
        final JsonNode n = ps.get(p);
        if (n == null) {
            throw new ProfileException(field + ": missing");
        }
        if (!n.isObject()) {
            throw new ProfileException(field + ": must be an object {value, unit, source}, got " + kind(n));
        }
        for (final Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            final String f = it.next();
            if (!List.of("value", "unit", "source").contains(f)) {
                throw new ProfileException(field + "." + f + ": unknown field (a parameter has value, unit, source)");
            }
        }
        final JsonNode v = n.get("value");
        if (v == null) {
            throw new ProfileException(field + ".value: missing");
        }
        if (!v.isNumber()) {
            throw new ProfileException(field + ": must be a number, got " + kind(v) + " " + v);
        }
        final double value = v.asDouble();
        final String unit = ProfileParameters.unit(p);
        if (unit.equals("count")) {
            if (!v.isIntegralNumber() || value < 1) {
                throw new ProfileException(field + ": must be a whole number >= 1, got " + v.asText());
            }
        } else if (!(value >= 0) || Double.isInfinite(value)) {
            throw new ProfileException(field + ": must be >= 0, got " + v.asText());
        }
        final String u = text(n, "unit", field + ".unit", true);
        if (!u.equals(unit)) {
            throw new ProfileException(field + ".unit: must be \"" + unit + "\", got \"" + u + "\"");
        }
        return new MachineProfile.Parameter(value, unit, text(n, "source", field + ".source", true));
    }

    /** A string member; {@code nonEmpty} refuses "" and blanks. */
    private static String text(final JsonNode o, final String member, final String field, final boolean nonEmpty) {
        final JsonNode n = o.get(member);
        if (n == null) {
            throw new ProfileException(field + ": missing");
        }
        if (!n.isTextual()) {
            throw new ProfileException(field + ": must be a string, got " + kind(n));
        }
        if (nonEmpty && n.asText().isBlank()) {
            throw new ProfileException(field + ": must not be empty");
        }
        return n.asText();
    }

    private static String kind(final JsonNode n) {
        return switch (n.getNodeType()) {
            case OBJECT -> "an object";
            case ARRAY -> "an array";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
