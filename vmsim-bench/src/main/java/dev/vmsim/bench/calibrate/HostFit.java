package dev.vmsim.bench.calibrate;

import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.bench.profile.ResidualFit;
import dev.vmsim.bench.profile.Spread;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code vmsim calibrate --fit}: the {@code host} profile's fitted residuals from this machine's own
 * kernel, using the native page_fault1 and mmap1 probes at one thread only. The probes run in
 * alternating repeats (page_fault1, mmap1, page_fault1, ...) so that the drift of a VM's costs
 * (1.3 to 13 us per fault within an hour here) reaches both, and each figure is reported as its
 * spread; the fit uses the medians ({@link ResidualFit}). Every other parameter is kept from the
 * base profile with its source.
 */
public final class HostFit {
    /** A native probe: runs with its arguments and returns its key=value output. */
    @FunctionalInterface
    public interface Probe {
        Map<String, String> run(String... args) throws IOException, InterruptedException;
    }

    /** The fitted profile and the spreads it came from. */
    public record Result(MachineProfile profile, Spread faultNs, Spread mmapMunmapNs) {
        /** The spreads and the fitted values, for the terminal. */
        public String report() {
            final StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "calibrate --fit: native probes, 1 thread, %d alternating runs each%n%n",
                    faultNs.n()));
            b.append(String.format(Locale.ROOT, "%-30s %10s %10s %10s %8s%n", "", "min", "median", "max", "max/min"));
            row(b, "ns per fault (page_fault1)", faultNs);
            row(b, "ns per mmap+munmap (mmap1)", mmapMunmapNs);
            b.append('\n');
            for (final String p : new String[] {"fault_other", "mmap_other", "munmap_other"}) {
                b.append(String.format(Locale.ROOT, "%-14s %8.1f ns   %s%n", p, profile.value(p),
                        profile.parameters().get(p).source()));
            }
            return b.toString();
        }

        private static void row(final StringBuilder b, final String label, final Spread s) {
            b.append(String.format(Locale.ROOT, "%-30s %10.1f %10.1f %10.1f %7.2fx%n",
                    label, s.min(), s.median(), s.max(), s.ratio()));
        }
    }

    private final Probe pageFault1;
    private final Probe mmap1;

    public HostFit(final Probe pageFault1, final Probe mmap1) {
        this.pageFault1 = pageFault1;
        this.mmap1 = mmap1;
    }

    /** Runs both probes {@code repeat} times, alternately, and fits {@code base}'s residuals. */
    public Result run(final MachineProfile base, final int repeat, final String description,
            final WorkloadRunner.Progress progress) throws IOException, InterruptedException {
        final double[] fault = new double[repeat];
        final double[] mmap = new double[repeat];
        for (int i = 0; i < repeat; i++) {
            fault[i] = number(pageFault1.run(Integer.toString(Calibration.NATIVE_PF_ROUNDS)), "ns_per_fault");
            progress.update((2.0 * i + 1) / (2.0 * repeat));
            mmap[i] = number(mmap1.run(Integer.toString(Calibration.NATIVE_MMAP_ROUNDS)), "ns_per_mmap_munmap");
            progress.update((2.0 * i + 2) / (2.0 * repeat));
        }
        final Spread f = Spread.of(fault);
        final Spread m = Spread.of(mmap);
        return new Result(fit(base, f, m, description), f, m);
    }

    /** The arithmetic alone: {@code base} with fault_other, mmap_other and munmap_other fitted to the figures. */
    public static MachineProfile fit(final MachineProfile base, final Spread faultNs, final Spread mmapMunmapNs,
            final String description) {
        final Map<String, MachineProfile.Parameter> fitted = new LinkedHashMap<>();
        fitted.put("fault_other", ResidualFit.faultOther(base, faultNs, "page_fault1 (native probe, 1 thread)"));
        fitted.putAll(ResidualFit.mmapOther(base, mmapMunmapNs, "mmap1 (native probe, 1 thread)"));
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
