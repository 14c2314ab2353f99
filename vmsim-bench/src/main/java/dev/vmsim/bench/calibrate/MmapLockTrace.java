package dev.vmsim.bench.calibrate;

import dev.vmsim.bench.profile.LockShare;
import dev.vmsim.bench.profile.Spread;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel's share of mmap1's time under the mmap_lock, traced with the lock's own tracepoints
 * (include/trace/events/mmap_lock.h, emitted by mm/mmap_lock.c: {@code mmap_lock_start_locking},
 * {@code mmap_lock_acquire_returned}, {@code mmap_lock_released}) while the native mmap1 probe runs
 * one thread. mmap holds the lock for write from acquire_returned to released; munmap holds it for
 * write until mmap_write_downgrade (a second acquire_returned, write=false) and for read until
 * released ({@code vms_complete_munmap_vmas}).
 *
 * <p>The events cost time themselves, so the measured intervals are corrected: an event's cost
 * falls mostly after its timestamp, so mmap's hold carries one event, munmap's two (the acquire and
 * the downgrade), and a whole pair seven. One event's cost is the median start_locking to
 * acquire_returned interval, where at one thread the lock is free: one event and the lock's
 * uncontended RMW (so the correction slightly overstates the event). Timestamps are the TSC
 * ({@code trace_clock} x86-tsc; the default clocks print microseconds), and only ratios of them are
 * used, so its frequency does not matter.
 *
 * <p>Needs a writable tracefs (root) with the mmap_lock events; {@link #find} says why not
 * otherwise. The tracefs settings it changes are put back after each run.
 */
public final class MmapLockTrace {
    /** Where tracefs is mounted, in the order tried. */
    static final List<Path> MOUNTS = List.of(Path.of("/sys/kernel/tracing"), Path.of("/sys/kernel/debug/tracing"));
    /** The trace clock: cycles, printed whole. */
    static final String CLOCK = "x86-tsc";
    /** Lock events per mmap+munmap pair: 3 for mmap, 4 for munmap. */
    static final int EVENTS_PER_PAIR = 7;
    /** Fewest calls of each kind a trace must hold. */
    static final int MIN_CALLS = 100;

    private static final Pattern EVENT = Pattern.compile(
            "\\s(\\d+): (mmap_lock_start_locking|mmap_lock_acquire_returned|mmap_lock_released): .*?write=(true|false)");

    private final Path tracefs;
    private final NativeProbe mmap1;

    private MmapLockTrace(final Path tracefs, final NativeProbe mmap1) {
        this.tracefs = tracefs;
        this.mmap1 = mmap1;
    }

    /** The tracer on this machine, if tracefs can trace the mmap_lock with the TSC clock. */
    public static Optional<MmapLockTrace> find(final NativeProbe mmap1) {
        for (final Path t : MOUNTS) {
            if (Files.isWritable(t.resolve("events/mmap_lock/enable")) && clockAvailable(t)) {
                return Optional.of(new MmapLockTrace(t, mmap1));
            }
        }
        return Optional.empty();
    }

    /** Why {@link #find} found nothing, for the report. */
    public static String unavailableReason() {
        return "no writable tracefs with the mmap_lock events and the " + CLOCK + " clock (tried " + MOUNTS.get(0)
                + " and " + MOUNTS.get(1) + "; needs root)";
    }

    private static boolean clockAvailable(final Path t) {
        try {
            return Arrays.asList(read(t, "trace_clock")
                            .replace("[", "")
                            .replace("]", "")
                            .split("\\s+"))
                    .contains(CLOCK);
        } catch (IOException e) {
            return false;
        }
    }

    /** One traced run of mmap1, {@code rounds} pairs on one thread: the share under the lock. */
    public LockShare run(final int rounds) throws IOException, InterruptedException {
        final String clock = selected(read(tracefs, "trace_clock"));
        final String buffer = read(tracefs, "buffer_size_kb").trim();
        final String text;
        try {
            write("tracing_on", "0");
            write("trace_clock", CLOCK);
            write("buffer_size_kb", "8192");
            write("trace", "");
            write("events/mmap_lock/enable", "1");
            mmap1.run(Integer.toString(rounds), "1", tracefs.toString());
            text = read(tracefs, "trace");
        } finally {
            write("tracing_on", "0");
            write("events/mmap_lock/enable", "0");
            write("set_event_pid", "");
            write("trace", "");
            write("trace_clock", clock);
            write("buffer_size_kb", buffer);
        }
        return parse(text, rounds);
    }

    /** The bracketed entry of trace_clock: "[local] global x86-tsc" gives "local". */
    static String selected(final String clocks) {
        final int a = clocks.indexOf('[');
        final int b = clocks.indexOf(']', a + 1);
        return a >= 0 && b > a ? clocks.substring(a + 1, b) : "local";
    }

    /** One write-locked call: timestamps of its events. */
    private static final class Call {
        final long start;
        long acquired = -1;
        long downgraded = -1;
        long released = -1;

        Call(final long start) {
            this.start = start;
        }
    }

    /**
     * The shares from a trace's text (tracefs {@code trace} with the TSC clock). Calls that take the
     * lock for read (page faults, none in mmap1's loop) are skipped.
     *
     * @throws IllegalStateException when the trace holds fewer than {@link #MIN_CALLS} calls of each kind
     */
    static LockShare parse(final String trace, final int rounds) {
        final List<Call> calls = new ArrayList<>();
        Call cur = null;
        final Matcher m = EVENT.matcher(trace);
        while (m.find()) {
            final long ts = Long.parseLong(m.group(1));
            final boolean write = m.group(3).equals("true");
            switch (m.group(2)) {
                case "mmap_lock_start_locking":
                    cur = write ? new Call(ts) : null;
                    break;
                case "mmap_lock_acquire_returned":
                    if (cur != null && cur.acquired < 0) {
                        cur.acquired = ts;
                    } else if (cur != null && !write) {
                        cur.downgraded = ts;
                    }
                    break;
                default:
                    if (cur != null && cur.acquired >= 0) {
                        cur.released = ts;
                        calls.add(cur);
                    }
                    cur = null;
            }
        }
        final List<Call> mmaps = new ArrayList<>();
        final List<Call> munmaps = new ArrayList<>();
        for (final Call c : calls) {
            (c.downgraded < 0 ? mmaps : munmaps).add(c);
        }
        if (mmaps.size() < MIN_CALLS || munmaps.size() < MIN_CALLS) {
            throw new IllegalStateException(String.format(
                    Locale.ROOT,
                    "the mmap_lock trace holds %d mmap and %d munmap calls, fewer than %d each",
                    mmaps.size(),
                    munmaps.size(),
                    MIN_CALLS));
        }
        final double event =
                median(calls.stream().mapToLong(c -> c.acquired - c.start).toArray());
        final long[] periods = new long[mmaps.size() - 1];
        for (int i = 1; i < mmaps.size(); i++) {
            periods[i - 1] = mmaps.get(i).start - mmaps.get(i - 1).start;
        }
        final double period = median(periods);
        final double holdMmap =
                median(mmaps.stream().mapToLong(c -> c.released - c.acquired).toArray());
        final double holdMunmap =
                median(munmaps.stream().mapToLong(c -> c.released - c.acquired).toArray());
        final double pair = period - EVENTS_PER_PAIR * event;
        final double mmap = Math.max(0, holdMmap - event) / pair;
        final double munmap = Math.max(0, holdMunmap - 2 * event) / pair;
        return new LockShare(
                mmap,
                munmap,
                String.format(
                        Locale.ROOT,
                        "traced with the mmap_lock tracepoints, mmap1 1 thread %d rounds, %s clock: median hold mmap %.0f,"
                                + " munmap %.0f (write, then read after mmap_write_downgrade), median pair %.0f cycles; less"
                                + " the events' own cost (1 in mmap's hold, 2 in munmap's, %d per pair; one event = the median"
                                + " start_locking to acquire_returned, %.0f cycles)",
                        rounds,
                        CLOCK,
                        holdMmap,
                        holdMunmap,
                        period,
                        EVENTS_PER_PAIR,
                        event));
    }

    private static double median(final long[] v) {
        return Spread.of(Arrays.stream(v).asDoubleStream().toArray()).median();
    }

    private void write(final String file, final String value) throws IOException {
        Files.writeString(tracefs.resolve(file), value + "\n", StandardCharsets.ISO_8859_1);
    }

    private static String read(final Path t, final String file) throws IOException {
        return Files.readString(t.resolve(file), StandardCharsets.ISO_8859_1);
    }
}
