package dev.vmsim.bench.profile;

import dev.vmsim.core.clock.CostModel;

/** A machine profile as the virtual clock's {@link CostModel}: the profile's values, their sources stay in the file. */
public final class CostModels {
    private CostModels() {}

    /** The cost model of {@code profile}. */
    public static CostModel of(final MachineProfile profile) {
        return new CostModel(profile.values());
    }
}
