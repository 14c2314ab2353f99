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
        assertTrue(
                p.source().startsWith("fit: probe 1000.0 ns (median of 3 runs; min 900.0, max 5000.0) per fault"),
                p.source());
        assertTrue(p.source().endsWith("(frame_alloc_zone + atomic_local) / 31 = 22.1 ns) = 977.9 ns"), p.source());
    }

    @Test
    void theLockShareSplitsTheResidualsAndTheirSumIsTheMeasurement() {
        // Outside the lock per call: syscall_entry_exit + 2 atomic_local = 3 steps; inside: 3 maple nodes.
        final LockShare share = new LockShare(0.2, 0.3, "traced");
        final Map<String, MachineProfile.Parameter> m =
                ResidualFit.mmapOther(ones(), Spread.single(1012), share, "mmap1");
        assertEquals(0.2 * 1012 - 3, m.get("mmap_other_locked").value(), 0.051);
        assertEquals(0.3 * 1012 - 3, m.get("munmap_other_locked").value(), 0.051);
        assertEquals(0.5 * 1012 / 2 - 3, m.get("mmap_other_unlocked").value(), 0.051);
        assertEquals(m.get("mmap_other_unlocked"), m.get("munmap_other_unlocked"), "the time outside is halved");
        double sum = 0;
        for (final MachineProfile.Parameter p : m.values()) {
            sum += p.value();
        }
        final double steps = ResidualFit.modelled(ones(), ResidualFit.MMAP_UNLOCKED)
                + ResidualFit.modelled(ones(), ResidualFit.MMAP_LOCKED)
                + ResidualFit.modelled(ones(), ResidualFit.MUNMAP_UNLOCKED)
                + ResidualFit.modelled(ones(), ResidualFit.MUNMAP_LOCKED);
        assertEquals(1012, sum + steps, 0.2, "the four residuals and the modelled steps reproduce the 1-thread pair");
        assertTrue(
                m.get("munmap_other_locked")
                        .source()
                        .contains("under the mmap_lock: mmap 0.200 + munmap 0.300 = 0.500" + " of the pair (traced)"),
                m.get("munmap_other_locked").source());
    }

    @Test
    void withoutATracedShareTheWholeResidualIsChargedUnderTheLock() {
        final Map<String, MachineProfile.Parameter> m =
                ResidualFit.mmapOther(ones(), Spread.single(1012), null, "mmap1");
        assertEquals(500, m.get("mmap_other_locked").value(), 1e-9);
        assertEquals(500, m.get("munmap_other_locked").value(), 1e-9);
        assertEquals(0, m.get("mmap_other_unlocked").value());
        assertTrue(
                m.get("mmap_other_unlocked").source().contains("not traced"),
                m.get("mmap_other_unlocked").source());
    }

    @Test
    void aShareOfMoreThanThePairIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new LockShare(0.6, 0.5, "x"));
        assertThrows(IllegalArgumentException.class, () -> new LockShare(-0.1, 0.5, "x"));
    }

    @Test
    void theMedianShareIsTakenPerCall() {
        final LockShare s = LockShare.median(java.util.List.of(
                new LockShare(0.1, 0.5, "a"), new LockShare(0.2, 0.2, "b"), new LockShare(0.3, 0.3, "c")));
        assertEquals(0.2, s.mmap(), 1e-12);
        assertEquals(0.3, s.munmap(), 1e-12);
        assertTrue(
                s.source()
                        .startsWith(
                                "median of 3 traces (locked share min 0.400, median 0.600, max 0.600); the first: a"),
                s.source());
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
