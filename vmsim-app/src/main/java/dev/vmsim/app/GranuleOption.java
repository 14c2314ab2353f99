package dev.vmsim.app;

import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --granule 4K|16K|64K}: the arm64 translation granule, which is the machine's PAGE_SIZE
 * (CONFIG_ARM64_{4K,16K,64K}_PAGES). x86_64 has 4K pages only, so the option is refused there.
 */
final class GranuleOption {
    @Option(
            names = "--granule",
            paramLabel = "4K|16K|64K",
            converter = Converters.GranuleConverter.class,
            description = "arm64 only: the translation granule, i.e. the page size: 4K, 16K or 64K (default: 4K).")
    Long bytes;

    /** PAGE_SIZE for a machine of {@code arch}; a granule given for another architecture is a usage error. */
    long pageSize(final CommandLine cl, final String arch) {
        if (bytes == null) {
            return 4096;
        }
        if (!arch.equals("arm64")) {
            throw new CommandLine.ParameterException(cl, "--granule applies to arm64 only; " + arch + " has 4K pages");
        }
        return bytes;
    }
}
