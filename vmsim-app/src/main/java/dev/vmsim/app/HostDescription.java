package dev.vmsim.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Optional;

/** The one-line description a fitted host profile carries: which machine, kernel and day it came from. */
final class HostDescription {
    private HostDescription() {}

    static String now() {
        return "This machine, fitted by vmsim calibrate --fit on " + LocalDate.now(ZoneOffset.UTC) + ": "
                + cpuModel().orElse("unknown CPU") + ", " + Runtime.getRuntime().availableProcessors()
                + " CPUs, Linux " + System.getProperty("os.version")
                + ". Only fault_other and the four mmap residuals (mmap_other_locked, ...) are fitted; the other"
                + " parameters keep the"
                + " sources of the shipped host profile.";
    }

    /** The first "model name" of /proc/cpuinfo, if there is one. */
    private static Optional<String> cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
