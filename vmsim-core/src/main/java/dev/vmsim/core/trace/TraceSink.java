package dev.vmsim.core.trace;

/**
 * Receiver of the fault-path trace events (the simulator's counterpart of the kernel's tracepoints,
 * include/trace/events/exceptions.h and mmap_lock.h, plus descriptive events named after the mm
 * function they sit in). Installed with {@link FaultTrace#install}; with none installed an event
 * site costs one volatile null check and builds nothing.
 *
 * <p>{@code args} alternates keys and values ({@code "result", "locked"}); the array belongs to the
 * sink once passed. Implementations must be thread-safe: every simulated CPU thread emits.
 */
public interface TraceSink {
    /** Phase of a slice that begins (Chrome trace-event phase B). */
    char BEGIN = 'B';
    /** Phase of a slice that ends (E); pairs with the innermost open BEGIN of the same name on the thread. */
    char END = 'E';
    /** Phase of a point event (i). */
    char INSTANT = 'i';

    /** One event of {@code phase} ({@link #BEGIN}, {@link #END} or {@link #INSTANT}). */
    void event(char phase, String name, String[] args);
}
