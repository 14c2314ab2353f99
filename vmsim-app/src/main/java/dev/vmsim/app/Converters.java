package dev.vmsim.app;

import dev.vmsim.bench.Durations;
import dev.vmsim.bench.LockingVariant;
import dev.vmsim.bench.Workload;
import dev.vmsim.bench.workload.Workloads;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** picocli converters whose failures read as one line saying what is wrong (exit status 2). */
final class Converters {
    /**
     * The architectures vmsim has, whether or not their module is on the class path; a list, not
     * {@code Set.of}, whose iteration order changes from one JVM to the next and made the error
     * line differ between runs.
     */
    static final List<String> KNOWN_ARCHS = List.of("x86_64", "arm64");

    private Converters() {}

    static final class WorkloadConverter implements ITypeConverter<Workload> {
        @Override
        public Workload convert(final String value) {
            final Workload w = Workloads.find(value);
            if (w == null) {
                throw new TypeConversionException(
                        "unknown workload '" + value + "' (known: " + Workloads.names() + ")");
            }
            return w;
        }
    }

    /** The workloads' names for picocli's ${COMPLETION-CANDIDATES}, so the help lists every one. */
    static final class WorkloadNames extends java.util.ArrayList<String> {
        private static final long serialVersionUID = 1L;

        WorkloadNames() {
            super(Workloads.all().stream().map(Workload::name).toList());
        }
    }

    static final class LockingConverter implements ITypeConverter<LockingMode> {
        @Override
        public LockingMode convert(final String value) {
            final LockingMode m = LockingMode.fromCliName(value);
            if (m == null) {
                throw new TypeConversionException(
                        "unknown locking mode '" + value + "' (known: " + LockingVariant.modeNames() + ")");
            }
            return m;
        }
    }

    /** A column of compare: {@code MODE[+upgrade]}. */
    static final class VariantConverter implements ITypeConverter<LockingVariant> {
        @Override
        public LockingVariant convert(final String value) {
            try {
                return LockingVariant.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class ArchConverter implements ITypeConverter<String> {
        @Override
        public String convert(final String value) {
            final Set<String> known = new LinkedHashSet<>(KNOWN_ARCHS);
            known.addAll(ArchRegistry.names());
            if (!known.contains(value)) {
                throw new TypeConversionException(
                        "unknown arch '" + value + "' (known: " + String.join(", ", known) + ")");
            }
            return value;
        }
    }

    /** 4K, 16K or 64K (any case): the granule's size in bytes. */
    static final class GranuleConverter implements ITypeConverter<Long> {
        static final List<String> KNOWN = List.of("4K", "16K", "64K");

        @Override
        public Long convert(final String value) {
            final String v = value.toUpperCase(java.util.Locale.ROOT);
            if (!KNOWN.contains(v)) {
                throw new TypeConversionException(
                        "unknown granule '" + value + "' (known: " + String.join(", ", KNOWN) + ")");
            }
            return Long.parseLong(v.substring(0, v.length() - 1)) << 10;
        }
    }

    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(final String value) {
            try {
                return Durations.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
