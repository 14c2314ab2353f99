package dev.vmsim.bench.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fitting arithmetic on given figures (no kernel, no gcc). */
class ResidualFitTest {
    /** Every latency 1 ns, topology counts 1: the modelled cost of a step list is its step count. */
    private static MachineProfile ones() {
        final Map<String, MachineProfile.Parameter> m = new LinkedHashMap<>();
        for (final String p : ProfileParameters.NAMES) {
            m.put(p, new MachineProfile.Parameter(1, ProfileParameters.unit(p), "test"));
        }
        return new MachineProfile("t", "all ones", m);
    }

    @Test
    void faultOtherIsTheMedianMinusTheModelledSteps() {
        // 1 + 2 + 12 + 1 + 3 + 1 + 1 + 1 = 22 steps of 1 ns, and a refill (2 steps) per 31 faults.
        assertEquals(22, ResidualFit.modelled(ones(), ResidualFit.ANON_WRITE_FAULT), 1e-9);
        assertEquals(22 + 2.0 / 31, ResidualFit.anonWriteFaultNs(ones()), 1e-9);
        final MachineProfile.Parameter p = ResidualFit.faultOther(ones(), Spread.of(900, 1000, 5000), "probe");
        assertEquals(977.9, p.value(), 1e-9, "the median (1000), not the mean or a single run");
        assertTrue(p.source().startsWith("fit: probe 1000.0 ns (median of 3 runs; min 900.0, max 5000.0) per fault"),
                p.source());
        assertTrue(p.source().endsWith("(frame_alloc_zone + atomic_local) / 31 = 22.1 ns) = 977.9 ns"), p.source());
    }

    @Test
    void mmapAndMunmapShareTheResidualOfThePair() {
        // mmap 1 + 2 + 3 = 6, munmap 6: 12 ns modelled per pair.
        final Map<String, MachineProfile.Parameter> m = ResidualFit.mmapOther(ones(), Spread.single(1012), "mmap1");
        assertEquals(500, m.get("mmap_other").value(), 1e-9);
        assertEquals(500, m.get("munmap_other").value(), 1e-9);
        assertTrue(m.get("mmap_other").source().contains("divided by 2"), m.get("mmap_other").source());
    }

    @Test
    void stepsCostingMoreThanTheMeasurementGiveZeroAndSaySo() {
        final MachineProfile.Parameter p = ResidualFit.faultOther(ones(), Spread.single(10), "probe");
        assertEquals(0, p.value());
        assertTrue(p.source().contains("the steps exceed the measurement by 12.1 ns"), p.source());
    }

    @Test
    void thePublishedProfilesFaultOtherIsTheirOneThreadPftFigureMinusTheSteps() {
        final MachineProfile a = MachineProfiles.load("icelake-2s-64c");
        assertEquals(ResidualFit.faultOther(a, Spread.single(1113), "pft").value(), a.value("fault_other"), 0.051);
        final MachineProfile b = MachineProfiles.load("zen5-2s-128c");
        assertEquals(ResidualFit.faultOther(b, Spread.single(517), "pft").value(), b.value("fault_other"), 0.051);
    }

    @Test
    void aSpreadIsMinMedianMax() {
        final Spread s = Spread.of(5, 1, 3, 2);
        assertEquals(new Spread(1, 2.5, 5, 4), s);
        assertEquals(5.0, s.ratio(), 1e-12);
        assertThrows(IllegalArgumentException.class, Spread::of);
    }
}
