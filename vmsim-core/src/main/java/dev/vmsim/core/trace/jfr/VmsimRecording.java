package dev.vmsim.core.trace.jfr;

import java.time.Duration;
import java.util.List;
import jdk.jfr.Event;
import jdk.jfr.Recording;

/**
 * A JFR recording of the simulator's events and nothing else, for {@code vmsim run --jfr FILE}: every
 * vmsim event enabled with no threshold and no stack trace, the JVM's own events left off (the
 * file then holds the simulated kernel, not the host). {@code -XX:StartFlightRecording} and Mission
 * Control record the same events with their own settings: the events are enabled by default.
 */
public final class VmsimRecording {
    /** The event classes, one per kernel mechanism. */
    public static final List<Class<? extends Event>> EVENTS = List.of(
            PageFaultEvent.class,
            MmapLockAcquireEvent.class,
            MmapLockReleaseEvent.class,
            VmaLockAbortEvent.class,
            TlbShootdownEvent.class);

    private VmsimRecording() {}

    /** A new recording, not started, with only the vmsim events enabled. */
    public static Recording create() {
        final Recording r = new Recording();
        r.setName("vmsim");
        r.setToDisk(true);
        for (final Class<? extends Event> e : EVENTS) {
            r.enable(e).withThreshold(Duration.ZERO).withoutStackTrace();
        }
        return r;
    }
}
