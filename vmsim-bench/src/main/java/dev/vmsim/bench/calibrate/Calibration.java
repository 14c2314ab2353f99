package dev.vmsim.bench.calibrate;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.KernelCounters;
import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.SimKernel;
import dev.vmsim.bench.SimTask;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.bench.profile.Spread;
import dev.vmsim.bench.workload.Mmap1;
import dev.vmsim.bench.workload.PageFault1;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.Mman;
import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Calibration of the simulator against the real kernel: the native probes (page_fault1, mmap1, one
 * thread) and the same workloads in the simulator, run alternately {@code repeat} times so that
 * drift of the host hits both; then the medians side by side with their ratio, and the event counts
 * (minor faults vs pgfault, VmPTE vs page-table frames) that say whether both did the same work.
 * Then mmap1's gain from a second thread, the kernel's beside the model's on the virtual clock: the
 * prediction the host profile is tested on (fitted at one thread only). The kernel's is given by the
 * wall clock, which on a shared VM also measures how often both threads got a CPU, and by the
 * threads' CPU time (two threads at the CPU cost per pair they had), which does not.
 */
public final class Calibration {
    /** page_fault1 rounds per native probe run (each 32768 faults). */
    static final int NATIVE_PF_ROUNDS = 2;
    /** mmap1 rounds per native probe run. */
    public static final int NATIVE_MMAP_ROUNDS = 2000;
    /**
     * mmap1 rounds per simulated run: ten times the native probe's, because a simulated round is
     * about ten times shorter, so both means cover a similar stretch of wall-clock time and take a
     * similar share of the host's preemptions and pauses (with 200 rounds one host time slice lost
     * to another process decided the whole mean).
     */
    static final int SIM_MMAP_ROUNDS = 10 * NATIVE_MMAP_ROUNDS;
    /**
     * Discarded simulated runs before the first measured one. The real kernel's code is compiled
     * before the probe starts; the simulator's is interpreted until the JIT has seen it run, and a
     * mean over a cold run measures the JIT (a cold 200-round mmap1 run was ~30x slower than a warm
     * one). The warm-up runs the same workloads with the same configuration and is not recorded.
     */
    static final int SIM_WARMUP_RUNS = 3;

    /** mmap1 rounds per thread of each run of the 2-thread comparison, model and kernel alike. */
    public static final int MMAP1_SCALING_ROUNDS = NATIVE_MMAP_ROUNDS;

    private final KernelFactory factory;
    private final NativeProbe pf1;
    private final NativeProbe mmap1;
    private final String arch;
    private final LockingMode mode;
    private final MachineProfile machine;

    /**
     * @param machine the profile whose cost model the virtual clock charges in the mmap1 2-thread
     *     comparison
     */
    public Calibration(
            final KernelFactory factory,
            final NativeProbe pf1,
            final NativeProbe mmap1,
            final String arch,
            final LockingMode mode,
            final MachineProfile machine) {
        this.factory = factory;
        this.pf1 = pf1;
        this.mmap1 = mmap1;
        this.arch = arch;
        this.mode = mode;
        this.machine = machine;
    }

    /**
     * mmap1's rate at 2 threads over its rate at 1 thread in the model: both on the virtual clock
     * charging {@code machine}, {@code rounds} per thread. Deterministic for a seed.
     */
    public static double modelMmap1Scaling(
            final KernelFactory factory,
            final MachineProfile machine,
            final String arch,
            final LockingMode mode,
            final int rounds,
            final long seed) {
        final WorkloadRunner runner = new WorkloadRunner(factory);
        final double[] rate = new double[3];
        for (final int t : new int[] {1, 2}) {
            final RunConfig c = RunConfig.rounds(new Mmap1(), arch, mode, t, rounds, seed)
                    .withClock(ClockKind.VIRTUAL)
                    .withMachine(machine);
            rate[t] = runner.run(c, WorkloadRunner.Progress.NONE).syscallsPerSec();
        }
        return rate[2] / rate[1];
    }

    /** Runs everything {@code repeat} times alternately; {@code progress} sees the completed fraction. */
    public String run(final int repeat, final long seed, final WorkloadRunner.Progress progress)
            throws IOException, InterruptedException {
        pf1.binary();
        mmap1.binary();
        final WorkloadRunner runner = new WorkloadRunner(factory);
        for (int i = 0; i < SIM_WARMUP_RUNS; i++) {
            runner.run(
                    RunConfig.rounds(new PageFault1(), arch, mode, 1, NATIVE_PF_ROUNDS, seed),
                    WorkloadRunner.Progress.NONE);
            runner.run(
                    RunConfig.rounds(new Mmap1(), arch, mode, 1, SIM_MMAP_ROUNDS, seed), WorkloadRunner.Progress.NONE);
        }
        final double[] kernelWall = new double[repeat];
        final double[] kernelCpu = new double[repeat];
        // The model's ratio is deterministic (virtual clock, one seed): computed once, reported beside
        // each of the kernel's alternating runs.
        final double[] model = new double[repeat];
        Arrays.fill(model, modelMmap1Scaling(factory, machine, arch, mode, MMAP1_SCALING_ROUNDS, seed));
        final double[] realFault = new double[repeat];
        final double[] simFault = new double[repeat];
        final double[] realMmap = new double[repeat];
        final double[] simMmap = new double[repeat];
        long realMinflt = 0;
        long realPages = 0;
        long simPgfault = 0;
        long simTouches = 0;
        long vmpteBefore = 0;
        long vmptePeak = 0;
        long peakAddr = 0;
        for (int i = 0; i < repeat; i++) {
            final Map<String, String> pf = pf1.run(Integer.toString(NATIVE_PF_ROUNDS));
            realFault[i] = Double.parseDouble(pf.get("ns_per_fault"));
            realMinflt = Long.parseLong(pf.get("minflt"));
            realPages = Long.parseLong(pf.get("pages"));
            vmpteBefore = Long.parseLong(pf.get("vmpte_before_kb"));
            vmptePeak = Long.parseLong(pf.get("vmpte_peak_kb"));
            peakAddr = peakAddress(pf.get("peak_addr"));
            progress.update((4.0 * i + 1) / (4.0 * repeat));

            final RunResult sp = runner.run(
                    RunConfig.rounds(new PageFault1(), arch, mode, 1, NATIVE_PF_ROUNDS, seed),
                    WorkloadRunner.Progress.NONE);
            simFault[i] = sp.faultLatency().mean();
            simPgfault = sp.faults();
            simTouches = sp.touches();
            progress.update((4.0 * i + 2) / (4.0 * repeat));

            final Map<String, String> one = mmap1.run(Integer.toString(NATIVE_MMAP_ROUNDS));
            realMmap[i] = Double.parseDouble(one.get("ns_per_mmap_munmap"));
            final Map<String, String> two = mmap1.run(Integer.toString(MMAP1_SCALING_ROUNDS), "2");
            kernelWall[i] = realMmap[i] / Double.parseDouble(two.get("ns_per_mmap_munmap"));
            kernelCpu[i] = 2
                    * Double.parseDouble(one.get(HostFit.MMAP1_CPU_NS))
                    / Double.parseDouble(two.get(HostFit.MMAP1_CPU_NS));
            progress.update((4.0 * i + 3) / (4.0 * repeat));

            final RunResult sm = runner.run(
                    RunConfig.rounds(new Mmap1(), arch, mode, 1, SIM_MMAP_ROUNDS, seed), WorkloadRunner.Progress.NONE);
            simMmap[i] = sm.syscallLatency().mean() * 2;
            progress.update((4.0 * i + 4) / (4.0 * repeat));
        }
        final long simPt = simPeakPageTableFrames(peakAddr);
        final StringBuilder b = new StringBuilder();
        b.append(String.format(
                Locale.ROOT,
                "calibration: %d alternating runs each; simulator arch=%s locking=%s; medians%n%n",
                repeat,
                arch,
                mode.cliName()));
        b.append(String.format(Locale.ROOT, "%-28s %14s %14s %10s%n", "", "real kernel", "simulator", "sim/real"));
        line(b, "ns per fault (page-fault1)", median(realFault), median(simFault));
        line(b, "ns per mmap+munmap (mmap1)", median(realMmap), median(simMmap));
        b.append(String.format(
                Locale.ROOT,
                "%nmmap1, 2 threads / 1 thread (rate ratio; kernel and model alternating, %d rounds per thread)%n",
                MMAP1_SCALING_ROUNDS));
        b.append(String.format(Locale.ROOT, "%-44s %8s %8s %8s%n", "", "min", "median", "max"));
        scaling(b, "kernel, wall clock", kernelWall);
        scaling(b, "kernel, CPU time (2 x cpu/pair 1T / 2T)", kernelCpu);
        scaling(b, "model, virtual clock, machine " + machine.name(), model);
        b.append(String.format(
                Locale.ROOT, "%nevent counts for %d page-fault1 rounds (%d pages)%n", NATIVE_PF_ROUNDS, realPages));
        b.append(String.format(
                Locale.ROOT,
                "%-28s %14d %14d   (real: ru_minflt delta; sim: pgfault, %d touches)%n",
                "minor faults",
                realMinflt,
                simPgfault,
                simTouches));
        b.append(String.format(
                Locale.ROOT,
                "%-28s %14d %14s   (real: VmPTE at peak minus before, in pages; sim: table frames%s)%n",
                "page-table pages",
                (vmptePeak - vmpteBefore) * 1024 / NATIVE_PAGE_SIZE,
                simPt == KernelCounters.UNAVAILABLE ? "n/a" : Long.toString(simPt),
                peakAddr != 0 ? String.format(Locale.ROOT, "; both at %#x", peakAddr) : ""));
        return b.toString();
    }

    /**
     * Page-table frames added to a simulated mm by 128 MiB mapped with every page touched, counted as
     * the probe counts VmPTE: at peak minus before. The probe is a running process whose libraries
     * sit just above its mapping (top-down, just below mmap_base), already faulted in, so the
     * page-table pages that cover the lowest library exist before it starts; the simulated process is
     * brought to the same state by touching one page directly above the mapping first.
     *
     * <p>How many tables 128 MiB needs depends on where it lies: one PTE table per 2 MiB region it
     * touches, less the one it may share with that library page, plus a PMD table when it reaches into
     * a 1 GiB region with nothing in it yet. So the simulated mapping is placed where the probe's was
     * ({@code realAddr}, from the probe; MAP_FIXED_NOREPLACE), and both counts are made under the same
     * boundaries. Where the simulated task size cannot hold that address (or the probe did not say),
     * the mapping goes where the simulator's own get_unmapped_area puts it, below a page at the top.
     */
    long simPeakPageTableFrames(final long realAddr) {
        if (realAddr != 0) {
            final long replayed = simPageTableFrames(realAddr + PageFault1.MEMSIZE, realAddr);
            if (replayed != NO_ROOM) {
                return replayed;
            }
        }
        return simPageTableFrames(0, 0);
    }

    /**
     * The host kernel's PAGE_SIZE, which the probes' VmPTE (in kB) is divided by: calibrate compares
     * with a 4 KiB-page kernel and builds 4K simulated machines to match (the 4-argument factory call).
     */
    private static final long NATIVE_PAGE_SIZE = 4096;

    /** {@link #simPeakPageTableFrames}'s result when the simulated mm has no room at the probe's address. */
    private static final long NO_ROOM = Long.MIN_VALUE;

    /**
     * Touches one page at {@code libAddr}, then maps and touches 128 MiB at {@code addr} (both
     * MAP_FIXED_NOREPLACE; both 0 for wherever get_unmapped_area puts them) in a fresh simulated mm;
     * returns the page-table frames the 128 MiB added, or {@link #NO_ROOM} if a fixed mapping failed.
     */
    private long simPageTableFrames(final long libAddr, final long addr) {
        final PageFault1 w = new PageFault1();
        final SimKernel k = factory.create(arch, mode, w.frames(1, NATIVE_PAGE_SIZE), 1);
        final SimTask t = k.newTask();
        final int prot = Mman.PROT_READ | Mman.PROT_WRITE;
        final int flags = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | (addr != 0 ? Mman.MAP_FIXED_NOREPLACE : 0);
        final long page = k.pageSize();
        final long lib = k.mmap(libAddr, page, prot, flags);
        if (Errno.isError(lib)) {
            return addr != 0 ? NO_ROOM : checked(lib);
        }
        t.store(lib, (byte) 1);
        final long before = k.counters().pageTableFrames();
        final long at = k.mmap(addr, PageFault1.MEMSIZE, prot, flags);
        if (Errno.isError(at)) {
            return addr != 0 ? NO_ROOM : checked(at);
        }
        for (long va = at; va < at + PageFault1.MEMSIZE; va += page) {
            t.store(va, (byte) 1);
        }
        final long peak = k.counters().pageTableFrames();
        k.munmap(at, PageFault1.MEMSIZE);
        k.munmap(lib, page);
        k.close();
        return peak == KernelCounters.UNAVAILABLE ? peak : peak - Math.max(0, before);
    }

    private static long checked(final long mmapResult) {
        if (Errno.isError(mmapResult)) {
            throw new IllegalStateException("mmap failed: " + Errno.name(mmapResult));
        }
        return mmapResult;
    }

    /** The probe's {@code peak_addr} ("0x..."), or 0 when it is missing or unreadable. */
    static long peakAddress(final String value) {
        if (value == null) {
            return 0;
        }
        try {
            return Long.decode(value.trim());
        } catch (final NumberFormatException e) {
            return 0;
        }
    }

    private static void line(final StringBuilder b, final String label, final double real, final double sim) {
        b.append(String.format(Locale.ROOT, "%-28s %14.1f %14.1f %9.2fx%n", label, real, sim, sim / real));
    }

    private static void scaling(final StringBuilder b, final String label, final double[] v) {
        final Spread s = Spread.of(v);
        b.append(String.format(Locale.ROOT, "%-44s %7.2fx %7.2fx %7.2fx%n", label, s.min(), s.median(), s.max()));
    }

    static double median(final double[] v) {
        final double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
