package dev.vmsim.bench.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.bench.profile.ResidualFit;
import dev.vmsim.bench.profile.Spread;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** calibrate --fit with scripted probes: the alternation, the spread and the fitted residuals. */
class HostFitTest {
    @Test
    void probesAlternateAndTheFitUsesEachMedian() throws Exception {
        final List<String> calls = new ArrayList<>();
        final Iterator<String> faults = List.of("1300", "13000", "2000").iterator();
        final Iterator<String> mmaps = List.of("4000", "3000", "9000").iterator();
        final HostFit fit = new HostFit(
                args -> {
                    calls.add("page_fault1 " + args[0]);
                    return Map.of("ns_per_fault", faults.next());
                },
                args -> {
                    calls.add("mmap1 " + args[0]);
                    return Map.of("ns_per_mmap_munmap", mmaps.next());
                });
        final MachineProfile base = MachineProfiles.shipped("host");
        final HostFit.Result r = fit.run(base, 3, "test machine", WorkloadRunner.Progress.NONE);
        assertEquals(List.of("page_fault1 2", "mmap1 2000", "page_fault1 2", "mmap1 2000", "page_fault1 2", "mmap1 2000"),
                calls, "alternating, one thread each");
        assertEquals(new Spread(1300, 2000, 13000, 3), r.faultNs());
        assertEquals(new Spread(3000, 4000, 9000, 3), r.mmapMunmapNs());
        final MachineProfile p = r.profile();
        assertEquals("host", p.name());
        assertEquals("test machine", p.description());
        assertEquals(2000 - ResidualFit.anonWriteFaultNs(base), p.value("fault_other"), 0.051);
        final double pair = ResidualFit.modelled(base, ResidualFit.MMAP) + ResidualFit.modelled(base, ResidualFit.MUNMAP);
        assertEquals((4000 - pair) / 2, p.value("mmap_other"), 0.051);
        assertEquals(p.value("mmap_other"), p.value("munmap_other"));
        assertTrue(p.parameters().get("fault_other").source().startsWith("fit: page_fault1 (native probe, 1 thread) 2000.0 ns"
                + " (median of 3 runs; min 1300.0, max 13000.0)"));
        assertEquals(base.parameters().get("c2c_llc"), p.parameters().get("c2c_llc"), "the rest is kept with its source");
        assertTrue(r.report().contains("10.00x"), r.report());
        assertEquals(p.parameters(), MachineProfiles.parse(p.toJson()).parameters(), "the written profile reads back");
    }

    @Test
    void aProbeThatPrintsNoFigureIsAnError() {
        final HostFit fit = new HostFit(args -> Map.of("pages", "1"), args -> Map.of());
        final IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> fit.run(MachineProfiles.shipped("host"), 1, "x", WorkloadRunner.Progress.NONE));
        assertTrue(e.getMessage().contains("ns_per_fault"), e.getMessage());
    }
}
