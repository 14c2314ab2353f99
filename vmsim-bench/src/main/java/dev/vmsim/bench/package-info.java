/**
 * Benchmarks of the simulated kernel: workloads run by simulated tasks of one mm, each on its own
 * CPU and platform thread ({@link dev.vmsim.bench.WorkloadRunner}), per-task latency histograms
 * merged at the end, the interleaved side-by-side comparison of the locking modes
 * ({@link dev.vmsim.bench.Comparison}), and calibration against the real kernel
 * ({@link dev.vmsim.bench.calibrate}).
 *
 * <p>The workloads reach the kernel only through {@link dev.vmsim.bench.SimKernel}, an adapter over
 * {@link dev.vmsim.core.mm.MmStruct}, so that the runner can be tested without the kernel and the
 * kernel can be measured without the runner adding a lock of its own to the measured paths.
 */
package dev.vmsim.bench;
