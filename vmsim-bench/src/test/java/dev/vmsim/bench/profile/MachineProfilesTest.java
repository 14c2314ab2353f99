package dev.vmsim.bench.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MachineProfilesTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"host", "icelake-2s-64c", "zen5-2s-128c"})
    void everyShippedProfileHasEveryParameterWithASource(final String name) {
        final MachineProfile p = MachineProfiles.load(name);
        assertEquals(name, p.name());
        assertEquals(ProfileParameters.NAMES, p.parameters().keySet().stream().toList(), "all, in order");
        p.parameters().forEach((k, v) -> {
            assertFalse(v.source().isBlank(), k);
            assertFalse(v.source().contains("placeholder"), k + ": " + v.source());
            assertEquals(ProfileParameters.unit(k), v.unit(), k);
        });
        assertEquals(ProfileParameters.NAMES.size(), p.values().size());
    }

    @Test
    void thePublishedMachinesHaveTheirTopology() {
        final MachineProfile a = MachineProfiles.load("icelake-2s-64c");
        assertEquals(2 * 32 * 2, a.value("sockets") * a.value("cores_per_socket") * a.value("threads_per_core"));
        final MachineProfile b = MachineProfiles.load("zen5-2s-128c");
        assertEquals(128, b.value("sockets") * b.value("cores_per_socket"));
        assertEquals(4, b.value("numa_nodes"));
    }

    @Test
    void aProfileWrittenOutReadsBackEqual() throws Exception {
        final MachineProfile p = MachineProfiles.load("icelake-2s-64c");
        final Path f = dir.resolve("copy.json");
        Files.writeString(f, p.toJson());
        final MachineProfile q = MachineProfiles.load(f.toString());
        assertEquals(p.parameters(), q.parameters());
        assertEquals(p.description(), q.description());
    }

    /** Each bad file and the one line naming the field. */
    static Stream<Arguments> badProfiles() {
        return Stream.of(
                Arguments.of(
                        edit(o -> param(o, "c2c_smt").put("value", -1)), "parameters.c2c_smt: must be >= 0, got -1"),
                Arguments.of(
                        edit(o -> param(o, "dram_local").put("value", "fast")),
                        "parameters.dram_local: must be a number, got a string \"fast\""),
                Arguments.of(
                        edit(o -> ((ObjectNode) o.get("parameters")).remove("tlb_hit")), "parameters.tlb_hit: missing"),
                Arguments.of(edit(o -> param(o, "walk_level").remove("value")), "parameters.walk_level.value: missing"),
                Arguments.of(
                        edit(o -> param(o, "sockets").put("value", 1.5)),
                        "parameters.sockets: must be a whole number >= 1, got 1.5"),
                Arguments.of(
                        edit(o -> param(o, "numa_nodes").put("value", 0)),
                        "parameters.numa_nodes: must be a whole number >= 1, got 0"),
                Arguments.of(
                        edit(o -> param(o, "cores_per_llc").put("value", 5)),
                        "parameter cores_per_llc must divide the 32 cores of a NUMA node"),
                Arguments.of(
                        edit(o -> param(o, "numa_nodes").put("value", 3)),
                        "parameter numa_nodes must divide the 64 cores"),
                Arguments.of(
                        edit(o -> param(o, "ipi_send").put("unit", "us")),
                        "parameters.ipi_send.unit: must be \"ns\", got \"us\""),
                Arguments.of(
                        edit(o -> param(o, "ipi_send").put("source", " ")),
                        "parameters.ipi_send.source: must not be empty"),
                Arguments.of(
                        edit(o -> param(o, "ipi_send").putNull("source")),
                        "parameters.ipi_send.source: must be a string, got null"),
                Arguments.of(
                        edit(o -> ((ObjectNode) o.get("parameters")).putObject("c2c_moon")),
                        "parameters.c2c_moon: not a parameter of the cost model"),
                Arguments.of(edit(o -> o.put("colour", "red")), "colour: unknown field"),
                Arguments.of(edit(o -> o.remove("name")), "name: missing"),
                Arguments.of(edit(o -> o.putArray("parameters")), "parameters: must be an object, got an array"),
                Arguments.of("{\"name\": \"x\",", "malformed JSON at line 1, column 14"),
                Arguments.of("[1, 2]", "the profile must be a JSON object, got an array"),
                Arguments.of("", "malformed JSON: empty document"),
                Arguments.of("{\"name\":\"a\",\"name\":\"b\"}", "malformed JSON at line 1"));
    }

    @ParameterizedTest
    @MethodSource("badProfiles")
    void aBadProfileIsRefusedWithOneLineNamingTheField(final String json, final String expected) throws Exception {
        final Path f = dir.resolve("bad.json");
        Files.writeString(f, json);
        final MachineProfiles.ProfileException e =
                assertThrows(MachineProfiles.ProfileException.class, () -> MachineProfiles.load(f.toString()));
        assertTrue(e.getMessage().startsWith(expected), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void anUnknownNameAndAMissingFileSaySo() {
        assertTrue(assertThrows(MachineProfiles.ProfileException.class, () -> MachineProfiles.load("cray-1"))
                .getMessage()
                .startsWith("unknown machine profile (known: host, icelake-2s-64c, zen5-2s-128c"));
        assertEquals(
                "no such file",
                assertThrows(
                                MachineProfiles.ProfileException.class,
                                () -> MachineProfiles.load(
                                        dir.resolve("none.json").toString()))
                        .getMessage());
        assertEquals(
                "is a directory",
                assertThrows(MachineProfiles.ProfileException.class, () -> MachineProfiles.load(dir.toString()))
                        .getMessage());
    }

    private static ObjectNode param(final ObjectNode profile, final String name) {
        return (ObjectNode) profile.get("parameters").get(name);
    }

    /** The shipped icelake profile's JSON with {@code change} applied. */
    private static String edit(final Consumer<ObjectNode> change) {
        final ObjectNode o = MachineProfiles.load("icelake-2s-64c").toJsonNode();
        change.accept(o);
        return o.toString();
    }
}
