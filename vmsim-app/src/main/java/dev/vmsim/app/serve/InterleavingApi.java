package dev.vmsim.app.serve;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;

/**
 * The JSON of {@code /api/interleavings}: a two-CPU scenario run under the virtual clock and held at
 * each event ({@link dev.vmsim.core.clock.Stepper}), with the machine's state at every stop.
 * Addresses are strings ("0x7f..."), as a JavaScript number cannot hold 64 bits.
 */
public final class InterleavingApi {
    private InterleavingApi() {}

    /**
     * @param scenario fault-vs-munmap or stack-expansion-vs-fault
     * @param arch     x86_64 or arm64 (default x86_64)
     * @param locking  mmap-only, per-vma or per-vma-wait (default per-vma)
     * @param seed     the schedule's seed, 0 to {@link Interleavings#MAX_SEED} (default 0); the same
     *                 seed gives the same steps
     */
    @Serdeable
    public record Request(
            @Nullable String scenario,
            @Nullable String arch,
            @Nullable String locking,
            @Nullable Long seed) {}

    /** A scenario the endpoint runs: its name, what each CPU does. */
    @Serdeable
    public record Scenario(String name, String description, List<String> cpus) {}

    /** {@code GET /api/interleavings}: the scenarios, and the limits a request runs under. */
    @Serdeable
    public record Catalogue(List<Scenario> scenarios, long maxSeed, int maxSteps) {}

    /**
     * @param schedule  the policy that replays it ("random(seed=7)")
     * @param steps     the stops, in order
     * @param truncated true when the run had more events than the step cap (it was run to its end unseen)
     * @param outcome   "done", or what ended the run otherwise (a deadlock's report)
     * @param results   per CPU, what its operations returned
     */
    @Serdeable
    public record Response(
            String scenario,
            String arch,
            String locking,
            long seed,
            String schedule,
            List<Step> steps,
            boolean truncated,
            String outcome,
            List<String> results) {}

    /**
     * One stop of the machine: which CPU is at which event, and the state every CPU and lock is in.
     *
     * @param index  0, 1, ...
     * @param cpu    the CPU about to run the event
     * @param kind   POINT, HOOK, LINE, SPIN, PARK or DONE ({@link dev.vmsim.core.clock.Stepper.Kind})
     * @param what   the event: a lock hook ("vma_start_read:after_inc"), a cache line, a wait
     * @param clockNs the CPU's virtual clock
     */
    @Serdeable
    public record Step(
            int index,
            String cpu,
            String kind,
            String what,
            long clockNs,
            List<Lane> lanes,
            List<Lock> locks,
            List<String> maps,
            List<CpuTlb> tlbs) {}

    /**
     * One CPU: RUNNABLE, PARKED or DONE, its clock, the wait it is parked on and the last event it
     * passed.
     */
    @Serdeable
    public record Lane(
            String cpu,
            String state,
            long clockNs,
            @Nullable String waitingOn,
            String lastEvent) {}

    /**
     * A lock: mmap_lock (an rwsem) or a VMA's lock (vm_refcnt). {@code holders} names the CPUs that
     * hold it where that is known (the writer; readers of the rwsem are counted, not named: the
     * kernel's owner field names only one), {@code waiters} the CPUs queued on it, in queue order.
     */
    @Serdeable
    public record Lock(String name, String state, List<String> holders, int readers, List<String> waiters) {}

    @Serdeable
    public record CpuTlb(String cpu, List<String> entries) {}
}
