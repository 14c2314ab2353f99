package dev.vmsim.core.arch;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds {@link Arch} implementations on the class path with {@link ServiceLoader}. */
public final class ArchRegistry {
    private ArchRegistry() {}

    /** Every architecture on the class path. */
    public static List<Arch> all() {
        final List<Arch> out = new ArrayList<>();
        for (final Arch a : ServiceLoader.load(Arch.class)) {
            out.add(a);
        }
        return out;
    }

    /** The architecture named {@code name}, or null. */
    public static Arch find(final String name) {
        for (final Arch a : ServiceLoader.load(Arch.class)) {
            if (a.name().equals(name)) {
                return a;
            }
        }
        return null;
    }

    /** Names of every architecture found, for error messages. */
    public static List<String> names() {
        final List<String> out = new ArrayList<>();
        for (final Arch a : all()) {
            out.add(a.name());
        }
        return out;
    }
}
