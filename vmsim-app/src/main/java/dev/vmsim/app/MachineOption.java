package dev.vmsim.app;

import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.bench.profile.MachineProfiles;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --machine NAME|FILE}: the machine profile whose cost model the virtual clock charges (a
 * picocli mixin). Read and checked before anything runs, so a bad profile is a usage error whatever
 * the clock.
 */
final class MachineOption {
    @Option(
            names = "--machine",
            paramLabel = "NAME|FILE",
            defaultValue = MachineProfiles.DEFAULT,
            description = "Machine profile for the cost model: host, icelake-2s-64c, zen5-2s-128c, or a profile's"
                    + " JSON file, e.g. one written by `calibrate --fit` (default: ${DEFAULT-VALUE}).")
    String machine;

    /**
     * The profile.
     *
     * @throws CommandLine.ParameterException one line naming the field at fault (exit status 2)
     */
    MachineProfile load(final CommandLine cl) {
        try {
            return MachineProfiles.load(machine);
        } catch (MachineProfiles.ProfileException e) {
            throw new CommandLine.ParameterException(cl, "--machine " + machine + ": " + e.getMessage());
        }
    }
}
