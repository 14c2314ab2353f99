/**
 * Machine profiles: the cost model's parameters for one machine, each with its source (a fit by
 * {@code vmsim calibrate --fit}, a published latency table, or an estimate with its reasoning), read
 * from JSON with Jackson. The virtual clock's {@code CostModel.of} takes {@link
 * dev.vmsim.bench.profile.MachineProfile#values()}.
 */
package dev.vmsim.bench.profile;
