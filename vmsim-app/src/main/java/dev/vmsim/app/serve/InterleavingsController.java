package dev.vmsim.app.serve;

import dev.vmsim.bench.profile.CostModels;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.clock.CostModel;
import dev.vmsim.core.lock.LockingMode;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

/**
 * {@code /api/interleavings}: GET lists the two-CPU scenarios; POST runs one under the virtual
 * clock with the request's seed and returns every stop of the machine ({@link Interleavings}), which
 * the page steps through forward and back. The costs are a shipped profile's, not the host's, so
 * the steps for a seed are the same on every machine.
 */
@Controller("/api/interleavings")
final class InterleavingsController {
    /** The profile whose costs the clock charges: shipped, so that no host measurement enters. */
    static final String PROFILE = "icelake-2s-64c";

    private final ServerLimits limits;

    InterleavingsController(final ServerLimits limits) {
        this.limits = limits;
    }

    @Get
    InterleavingApi.Catalogue list() {
        return new InterleavingApi.Catalogue(
                Interleavings.catalogue(), Interleavings.MAX_SEED, Interleavings.MAX_STEPS);
    }

    /** Runs on the blocking pool: the controller thread waits on the simulated CPUs. */
    @Post
    @ExecuteOn(TaskExecutors.BLOCKING)
    InterleavingApi.Response step(@Body final InterleavingApi.Request req) {
        final String scenario = Interleavings.checkScenario(req.scenario());
        final String an = req.arch() == null ? "x86_64" : req.arch();
        final Arch arch = ArchRegistry.find(an);
        if (arch == null) {
            throw ApiException.badField("arch", "unknown arch '" + an + "' (known: x86_64, arm64)");
        }
        final LockingMode mode = ScriptService.locking(req.locking());
        final long seed = req.seed() == null ? 0 : req.seed();
        if (seed < 0 || seed > Interleavings.MAX_SEED) {
            throw ApiException.badField("seed", seed + " is out of range (0 to " + Interleavings.MAX_SEED + ")");
        }
        final CostModel costs = CostModels.of(MachineProfiles.shipped(PROFILE));
        return Interleavings.run(
                scenario,
                arch,
                mode,
                seed,
                costs,
                System.nanoTime() + limits.requestTimeout().toNanos());
    }
}
