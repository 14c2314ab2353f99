package dev.vmsim.app.serve;

import dev.vmsim.bench.LockingVariant;
import dev.vmsim.bench.Workload;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.bench.workload.Workloads;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.serde.annotation.Serdeable;
import java.util.Arrays;
import java.util.List;

/** {@code GET /api/meta}: what the pages offer in their menus, and this server's limits. */
@Controller("/api/meta")
final class MetaController {
    private final ServerLimits limits;

    MetaController(final ServerLimits limits) {
        this.limits = limits;
    }

    /** The choices and the limits. */
    @Serdeable
    record Meta(
            List<String> arches,
            List<String> locking,
            List<String> workloads,
            List<String> machines,
            int scriptBytes,
            int scriptLines,
            long runDurationMs,
            int runThreads,
            int jobs) {}

    @Get
    Meta meta() {
        return new Meta(
                List.of("x86_64", "arm64"),
                Arrays.asList(LockingVariant.modeNames().split(", ")),
                Workloads.all().stream().map(Workload::name).toList(),
                MachineProfiles.SHIPPED,
                limits.scriptBytes(),
                limits.scriptLines(),
                limits.runDuration().toMillis(),
                limits.runThreads(),
                limits.jobs());
    }
}
