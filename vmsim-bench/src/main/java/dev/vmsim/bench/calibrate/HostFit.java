package dev.vmsim.bench.calibrate;

import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.profile.LockShare;
import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.bench.profile.ResidualFit;
import dev.vmsim.bench.profile.Spread;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code vmsim calibrate --fit}: the {@code host} profile's fitted residuals from this machine's own
 * kernel, using the native page_fault1 and mmap1 probes at one thread only. The probes run in
 * alternating repeats (page_fault1, mmap1, mmap1 traced, page_fault1, ...) so that the drift of a
 * VM's costs (1.3 to 13 us per fault within an hour here) reaches all, and each figure is reported
 * as its spread; the fit uses the medians ({@link ResidualFit}). The traced run measures the share
 * of mmap1's time under the mmap_lock ({@link MmapLockTrace}), which splits the mmap residuals. mmap1
 * is fitted to its CPU time per pair: on a shared VM the wall time also holds other tasks' slices,
 * which the lock's other users would not wait for. The c2c probe, run in the same alternation,
 * measures the cache-line transfer between the two CPUs the threads run on ({@code c2c_llc}): on a
 * VM it is the host's placement of the vCPUs, not the CPU model's figure (about 190 ns here, where
 * Zen 5's same-CCD figure is 21.9 ns). It is a hardware latency, like the published machines'
 * core-to-core tables, not a kernel figure at two threads. Every other parameter is kept from the
 * base profile with its source.
 */
public final class HostFit {
    /** A native probe: runs with its arguments and returns its key=value output. */
    @FunctionalInterface
    public interface Probe {
        Map<String, String> run(String... args) throws IOException, InterruptedException;
    }

    /** The parameters a fit sets. */
    static final String[] FITTED = {
        "fault_other", "mmap_other_unlocked", "mmap_other_locked", "munmap_other_unlocked", "munmap_other_locked"
    };

    /**
     * The fitted profile and the spreads it came from; {@code share} null where the lock was not
     * traced, {@code c2cNs} null where the transfer was not measured.
     */
    public record Result(MachineProfile profile, Spread faultNs, Spread mmapMunmapNs, LockShare share, Spread c2cNs) {
        /** The spreads and the fitted values, for the terminal. */
        public String report() {
            final StringBuilder b = new StringBuilder();
            b.append(String.format(
                    Locale.ROOT,
                    "calibrate --fit: native probes, 1 thread, %d alternating runs each%n%n",
                    faultNs.n()));
            b.append(String.format(Locale.ROOT, "%-30s %10s %10s %10s %8s%n", "", "min", "median", "max", "max/min"));
            row(b, "ns per fault (page_fault1)", faultNs);
            row(b, "CPU ns per mmap+munmap (mmap1)", mmapMunmapNs);
            if (c2cNs != null) {
                row(b, "ns per line transfer (c2c)", c2cNs);
            } else {
                b.append("line transfer (c2c): not measured (no second CPU); c2c_llc kept\n");
            }
            b.append(
                    share == null
                            ? "mmap_lock share of mmap1: not traced\n"
                            : String.format(Locale.ROOT, "mmap_lock share of mmap1: %s%n", share));
            b.append('\n');
            for (final String p : fittedNames(c2cNs != null)) {
                b.append(String.format(
                        Locale.ROOT,
                        "%-21s %8.1f ns   %s%n",
                        p,
                        profile.value(p),
                        profile.parameters().get(p).source()));
            }
            return b.toString();
        }

        private static void row(final StringBuilder b, final String label, final Spread s) {
            b.append(String.format(
                    Locale.ROOT,
                    "%-30s %10.1f %10.1f %10.1f %7.2fx%n",
                    label,
                    s.min(),
                    s.median(),
                    s.max(),
                    s.ratio()));
        }
    }

    /** One traced mmap1 run: the share under the mmap_lock, or empty where the lock cannot be traced. */
    @FunctionalInterface
    public interface ShareProbe {
        Optional<LockShare> run() throws IOException, InterruptedException;
    }

    private static List<String> fittedNames(final boolean c2c) {
        final List<String> names = new ArrayList<>(List.of(FITTED));
        if (c2c) {
            names.add("c2c_llc");
        }
        return names;
    }

    /** The c2c probe's key: the half round trip of the fastest batch. */
    static final String C2C_NS = "c2c_ns";

    /** The probe's key for mmap1's CPU time per mmap+munmap pair, which the fit uses. */
    static final String MMAP1_CPU_NS = "cpu_ns_per_mmap_munmap";

    private final Probe pageFault1;
    private final Probe mmap1;
    private final ShareProbe lockShare;
    private final Probe c2c;

    /** Without the c2c probe: the base profile's transfer latencies are kept. */
    public HostFit(final Probe pageFault1, final Probe mmap1, final ShareProbe lockShare) {
        this(pageFault1, mmap1, lockShare, null);
    }

    /** With the c2c probe ({@code c2c} null: not run). */
    public HostFit(final Probe pageFault1, final Probe mmap1, final ShareProbe lockShare, final Probe c2c) {
        this.pageFault1 = pageFault1;
        this.mmap1 = mmap1;
        this.lockShare = lockShare;
        this.c2c = c2c;
    }

    /** Runs both probes {@code repeat} times, alternately, and fits {@code base}'s residuals. */
    public Result run(
            final MachineProfile base,
            final int repeat,
            final String description,
            final WorkloadRunner.Progress progress)
            throws IOException, InterruptedException {
        final double[] fault = new double[repeat];
        final double[] mmap = new double[repeat];
        final List<LockShare> shares = new ArrayList<>();
        final List<Double> transfers = new ArrayList<>();
        for (int i = 0; i < repeat; i++) {
            fault[i] = number(pageFault1.run(Integer.toString(Calibration.NATIVE_PF_ROUNDS)), "ns_per_fault");
            progress.update((3.0 * i + 1) / (3.0 * repeat));
            mmap[i] = number(mmap1.run(Integer.toString(Calibration.NATIVE_MMAP_ROUNDS)), MMAP1_CPU_NS);
            progress.update((3.0 * i + 2) / (3.0 * repeat));
            lockShare.run().ifPresent(shares::add);
            if (c2c != null) {
                final Map<String, String> out = c2c.run();
                if (!out.containsKey("skipped")) {
                    transfers.add(number(out, C2C_NS));
                }
            }
            progress.update((3.0 * i + 3) / (3.0 * repeat));
        }
        final Spread f = Spread.of(fault);
        final Spread m = Spread.of(mmap);
        final LockShare share = shares.isEmpty() ? null : LockShare.median(shares);
        final Spread t = transfers.isEmpty()
                ? null
                : Spread.of(transfers.stream().mapToDouble(Double::doubleValue).toArray());
        return new Result(fit(base, f, m, share, t, description), f, m, share, t);
    }

    /** {@link #fit(MachineProfile, Spread, Spread, LockShare, Spread, String)} without a c2c figure. */
    public static MachineProfile fit(
            final MachineProfile base,
            final Spread faultNs,
            final Spread mmapMunmapNs,
            final LockShare share,
            final String description) {
        return fit(base, faultNs, mmapMunmapNs, share, null, description);
    }

    /**
     * The arithmetic alone: {@code base} with fault_other and the four mmap residuals fitted to the
     * figures; {@code share} null where the lock was not traced; with {@code c2cNs}, c2c_llc (and
     * c2c_smt, which a machine without SMT siblings never uses) set to its median.
     */
    public static MachineProfile fit(
            final MachineProfile base,
            final Spread faultNs,
            final Spread mmapMunmapNs,
            final LockShare share,
            final Spread c2cNs,
            final String description) {
        final Map<String, MachineProfile.Parameter> fitted = new LinkedHashMap<>();
        fitted.put("fault_other", ResidualFit.faultOther(base, faultNs, "page_fault1 (native probe, 1 thread)"));
        fitted.putAll(ResidualFit.mmapOther(base, mmapMunmapNs, share, "mmap1 (native probe, 1 thread, CPU time)"));
        if (c2cNs != null) {
            final MachineProfile.Parameter p = new MachineProfile.Parameter(
                    Math.round(c2cNs.median() * 10) / 10.0,
                    "ns",
                    String.format(
                            Locale.ROOT,
                            "measured: c2c (native probe: two threads pinned to CPUs 0 and 1 pass one line back and"
                                    + " forth; half the round trip of the fastest of 2000 batches of 2000) %.1f ns"
                                    + " (median of %d runs; min %.1f, max %.1f)",
                            c2cNs.median(),
                            c2cNs.n(),
                            c2cNs.min(),
                            c2cNs.max()));
            fitted.put("c2c_llc", p);
            if (base.value("threads_per_core") == 1) {
                fitted.put("c2c_smt", p); // defined, never used: no CPU has a sibling
            }
        }
        return base.with("host", description, fitted);
    }

    private static double number(final Map<String, String> out, final String key) {
        final String v = out.get(key);
        if (v == null) {
            throw new IllegalStateException("the probe printed no " + key + " (output: " + out + ")");
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException("the probe's " + key + " is not a number: " + v, e);
        }
    }
}
