package dev.vmsim.bench.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.profile.LockShare;
import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.bench.profile.ResidualFit;
import dev.vmsim.bench.profile.Spread;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** calibrate --fit with scripted probes: the alternation, the spread and the fitted residuals. */
class HostFitTest {
    @Test
    void probesAlternateAndTheFitUsesEachMedian() throws Exception {
        final List<String> calls = new ArrayList<>();
        final Iterator<String> faults = List.of("1300", "13000", "2000").iterator();
        final Iterator<String> mmaps = List.of("4000", "3000", "9000").iterator();
        final Iterator<LockShare> shares = List.of(
                        new LockShare(0.2, 0.2, "t1"), new LockShare(0.1, 0.3, "t2"), new LockShare(0.3, 0.25, "t3"))
                .iterator();
        final HostFit fit = new HostFit(
                args -> {
                    calls.add("page_fault1 " + args[0]);
                    return Map.of("ns_per_fault", faults.next());
                },
                args -> {
                    calls.add("mmap1 " + args[0]);
                    return Map.of("ns_per_mmap_munmap", "99999", HostFit.MMAP1_CPU_NS, mmaps.next());
                },
                () -> {
                    calls.add("mmap1 traced");
                    return Optional.of(shares.next());
                });
        final MachineProfile base = MachineProfiles.shipped("host");
        final HostFit.Result r = fit.run(base, 3, "test machine", WorkloadRunner.Progress.NONE);
        assertEquals(
                List.of(
                        "page_fault1 2",
                        "mmap1 2000",
                        "mmap1 traced",
                        "page_fault1 2",
                        "mmap1 2000",
                        "mmap1 traced",
                        "page_fault1 2",
                        "mmap1 2000",
                        "mmap1 traced"),
                calls,
                "alternating, one thread each");
        assertEquals(new Spread(1300, 2000, 13000, 3), r.faultNs());
        assertEquals(new Spread(3000, 4000, 9000, 3), r.mmapMunmapNs(), "the CPU time, not the wall time");
        assertEquals(0.2, r.share().mmap(), 1e-12);
        assertEquals(0.25, r.share().munmap(), 1e-12);
        final MachineProfile p = r.profile();
        assertEquals("host", p.name());
        assertEquals("test machine", p.description());
        assertEquals(2000 - ResidualFit.anonWriteFaultNs(base), p.value("fault_other"), 0.051);
        assertEquals(
                0.2 * 4000 - ResidualFit.modelled(base, ResidualFit.MMAP_LOCKED), p.value("mmap_other_locked"), 0.051);
        assertEquals(
                0.25 * 4000 - ResidualFit.modelled(base, ResidualFit.MUNMAP_LOCKED),
                p.value("munmap_other_locked"),
                0.051);
        assertEquals(
                0.55 * 4000 / 2 - ResidualFit.modelled(base, ResidualFit.MMAP_UNLOCKED),
                p.value("mmap_other_unlocked"),
                0.051);
        assertTrue(p.parameters()
                .get("fault_other")
                .source()
                .startsWith("fit: page_fault1 (native probe, 1 thread) 2000.0 ns"
                        + " (median of 3 runs; min 1300.0, max 13000.0)"));
        assertEquals(
                base.parameters().get("c2c_llc"), p.parameters().get("c2c_llc"), "the rest is kept with its source");
        assertTrue(r.report().contains("10.00x"), r.report());
        assertTrue(r.report().contains("mmap_lock share of mmap1: mmap 0.200 + munmap 0.250 = 0.450"), r.report());
        assertEquals(p.parameters(), MachineProfiles.parse(p.toJson()).parameters(), "the written profile reads back");
    }

    @Test
    void theC2cProbeRunsInTheAlternationAndSetsTheTransferLatencyToItsMedian() throws Exception {
        final List<String> calls = new ArrayList<>();
        final Iterator<String> transfers = List.of("190", "400", "180").iterator();
        final HostFit.Result r = new HostFit(
                        args -> {
                            calls.add("page_fault1");
                            return Map.of("ns_per_fault", "2000");
                        },
                        args -> {
                            calls.add("mmap1");
                            return Map.of(HostFit.MMAP1_CPU_NS, "4000");
                        },
                        Optional::empty,
                        args -> {
                            calls.add("c2c");
                            return Map.of(HostFit.C2C_NS, transfers.next());
                        })
                .run(MachineProfiles.shipped("host"), 3, "x", WorkloadRunner.Progress.NONE);
        assertEquals(
                List.of("page_fault1", "mmap1", "c2c", "page_fault1", "mmap1", "c2c", "page_fault1", "mmap1", "c2c"),
                calls);
        assertEquals(new Spread(180, 190, 400, 3), r.c2cNs());
        assertEquals(190, r.profile().value("c2c_llc"), 1e-9);
        assertEquals(190, r.profile().value("c2c_smt"), 1e-9, "host has no SMT: the sibling figure follows");
        assertTrue(
                r.profile().parameters().get("c2c_llc").source().startsWith("measured: c2c (native probe"),
                r.profile().parameters().get("c2c_llc").source());
        assertTrue(r.report().contains("ns per line transfer (c2c)"), r.report());
    }

    @Test
    void aMachineWithoutASecondCpuKeepsTheBaseTransferLatency() throws Exception {
        final MachineProfile base = MachineProfiles.shipped("host");
        final HostFit.Result r = new HostFit(
                        args -> Map.of("ns_per_fault", "2000"),
                        args -> Map.of(HostFit.MMAP1_CPU_NS, "4000"),
                        Optional::empty,
                        args -> Map.of("skipped", "CPUs 0 and 1 are not both available"))
                .run(base, 1, "x", WorkloadRunner.Progress.NONE);
        assertEquals(null, r.c2cNs());
        assertEquals(base.parameters().get("c2c_llc"), r.profile().parameters().get("c2c_llc"));
        assertTrue(r.report().contains("c2c_llc kept"), r.report());
    }

    @Test
    void withoutATraceTheFitSaysSo() throws Exception {
        final HostFit.Result r = new HostFit(
                        args -> Map.of("ns_per_fault", "2000"),
                        args -> Map.of(HostFit.MMAP1_CPU_NS, "4000"),
                        Optional::empty)
                .run(MachineProfiles.shipped("host"), 1, "x", WorkloadRunner.Progress.NONE);
        assertEquals(null, r.share());
        assertEquals(0, r.profile().value("mmap_other_unlocked"));
        assertTrue(r.report().contains("mmap_lock share of mmap1: not traced"), r.report());
    }

    @Test
    void aProbeThatPrintsNoFigureIsAnError() {
        final HostFit fit = new HostFit(args -> Map.of("pages", "1"), args -> Map.of(), Optional::empty);
        final IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> fit.run(MachineProfiles.shipped("host"), 1, "x", WorkloadRunner.Progress.NONE));
        assertTrue(e.getMessage().contains("ns_per_fault"), e.getMessage());
    }
}
