/**
 * JDK Flight Recorder events of the simulated kernel, the JFR counterpart of its tracepoints:
 * {@code vmsim.mm.PageFault} (arch, address, error code or ESR, locking path, VM_FAULT result,
 * signal, duration), {@code vmsim.mm.MmapLockAcquire} (its duration is the wait) and
 * {@code vmsim.mm.MmapLockRelease}, {@code vmsim.mm.VmaLockAbort}, {@code vmsim.tlb.Shootdown}.
 *
 * <p>Why in core: the sites are in core's fault path and the arch modules' handlers, which cannot
 * call upward into bench or app; {@code jdk.jfr} is part of the JDK, so core's dependency fence
 * (Agrona and JCTools only) is kept. Recording is the caller's business: {@link
 * dev.vmsim.core.trace.jfr.VmsimRecording} for {@code vmsim run --jfr}, or any JFR recording
 * ({@code -XX:StartFlightRecording}, Mission Control), since the events are enabled by default.
 *
 * <p>Cost when nothing records: each site reads its event type's enabled state and returns
 * ({@link dev.vmsim.core.trace.jfr.JfrSites}); no allocation, no ThreadLocal lookup.
 */
package dev.vmsim.core.trace.jfr;
