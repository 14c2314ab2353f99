package dev.vmsim.bench.profile;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vmsim.bench.Json;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One machine for the cost model: a name, a description and every parameter of {@link
 * ProfileParameters#NAMES} with its value, unit and source. Immutable; built by {@link
 * MachineProfiles} (which checks it) or by {@code calibrate --fit}.
 */
public final class MachineProfile {
    /** One parameter: its value (ns, or a count), its unit and where the figure comes from. */
    public record Parameter(double value, String unit, String source) {
        public Parameter {
            Objects.requireNonNull(unit);
            Objects.requireNonNull(source);
        }
    }

    private final String name;
    private final String description;
    private final Map<String, Parameter> parameters;

    /** {@code parameters} in {@link ProfileParameters#NAMES} order; the caller has checked them. */
    public MachineProfile(final String name, final String description, final Map<String, Parameter> parameters) {
        this.name = Objects.requireNonNull(name);
        this.description = Objects.requireNonNull(description);
        final Map<String, Parameter> ordered = new LinkedHashMap<>();
        for (final String p : ProfileParameters.NAMES) {
            ordered.put(p, Objects.requireNonNull(parameters.get(p), p));
        }
        if (parameters.size() != ordered.size()) {
            throw new IllegalArgumentException("parameters outside the cost model: " + parameters.keySet());
        }
        this.parameters = Collections.unmodifiableMap(ordered);
    }

    public String name() {
        return name;
    }

    public String description() {
        return description;
    }

    /** Every parameter with its unit and source, in {@link ProfileParameters#NAMES} order. */
    public Map<String, Parameter> parameters() {
        return parameters;
    }

    /** One parameter's value. */
    public double value(final String parameter) {
        final Parameter p = parameters.get(parameter);
        if (p == null) {
            throw new IllegalArgumentException(parameter + ": not a parameter of the cost model");
        }
        return p.value();
    }

    /** The values alone, for {@code CostModel.of}: a new ordered map. */
    public Map<String, Double> values() {
        final Map<String, Double> out = new LinkedHashMap<>();
        parameters.forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    /** The same profile with {@code changed} parameters replaced (calibrate --fit's result). */
    public MachineProfile with(
            final String newName, final String newDescription, final Map<String, Parameter> changed) {
        final Map<String, Parameter> all = new LinkedHashMap<>(parameters);
        for (final Map.Entry<String, Parameter> e : changed.entrySet()) {
            if (!all.containsKey(e.getKey())) {
                throw new IllegalArgumentException(e.getKey() + ": not a parameter of the cost model");
            }
            all.put(e.getKey(), e.getValue());
        }
        return new MachineProfile(newName, newDescription, all);
    }

    /** The profile file's form: {"name", "description", "parameters": {name: {value, unit, source}}}. */
    public ObjectNode toJsonNode() {
        final ObjectNode o = Json.object().put("name", name).put("description", description);
        final ObjectNode ps = o.putObject("parameters");
        parameters.forEach((k, p) -> {
            final ObjectNode n = ps.putObject(k);
            if (p.value() == Math.rint(p.value()) && Math.abs(p.value()) < 1e15) {
                n.put("value", (long) p.value());
            } else {
                n.put("value", p.value());
            }
            n.put("unit", p.unit()).put("source", p.source());
        });
        return o;
    }

    /** The profile file's text, pretty-printed, ending in a newline. */
    public String toJson() {
        return Json.writePretty(toJsonNode()) + "\n";
    }
}
