package dev.vmsim.core.clock;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The host threads that carry a {@link VirtualScheduler}'s simulated CPUs. Every hand-over of the
 * baton is a park of one thread and an unpark of another; on platform threads each is a futex wait
 * and wake and a host context switch (about 10 µs on a loaded 2-core VM, 85% of a 128-CPU run's
 * host time). On a Java 21+ runtime the CPUs run on virtual threads instead: a park yields the
 * continuation and an unpark queues it on the carrier pool, about 2 µs on the same host. The
 * schedule does not depend on the kind (the baton decides who runs), so the results are the same
 * byte for byte.
 *
 * <p>The project targets Java 17, where {@code Thread.ofVirtual} does not exist; it is looked up
 * reflectively once. System property {@code vmsim.carriers=platform} forces platform threads.
 *
 * <p>Virtual threads rely on an invariant the scheduler already has: no preemption point (hence no
 * park) falls inside a Java monitor ({@link Platform}), so a parked CPU never pins a carrier thread
 * (Java 21-23 pin a virtual thread that parks inside {@code synchronized}).
 */
final class Carriers {
    /** {@code Thread.ofVirtual()}, or null before Java 21 or when platform threads are asked for. */
    private static final MethodHandle OF_VIRTUAL = lookUpOfVirtual();

    private static final MethodHandle NAME;
    private static final MethodHandle UNSTARTED;

    static {
        MethodHandle name = null;
        MethodHandle unstarted = null;
        if (OF_VIRTUAL != null) {
            try {
                final Class<?> builder = Class.forName("java.lang.Thread$Builder");
                final MethodHandles.Lookup l = MethodHandles.publicLookup();
                name = l.findVirtual(builder, "name", MethodType.methodType(builder, String.class));
                unstarted = l.findVirtual(builder, "unstarted", MethodType.methodType(Thread.class, Runnable.class));
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
        NAME = name;
        UNSTARTED = unstarted;
    }

    private Carriers() {}

    private static MethodHandle lookUpOfVirtual() {
        if ("platform".equals(System.getProperty("vmsim.carriers"))) {
            return null;
        }
        try {
            final Class<?> builder = Class.forName("java.lang.Thread$Builder$OfVirtual");
            return MethodHandles.publicLookup().findStatic(Thread.class, "ofVirtual", MethodType.methodType(builder));
        } catch (ReflectiveOperationException e) {
            return null; // before Java 21
        }
    }

    /** Do simulated CPUs run on virtual threads here? */
    static boolean virtual() {
        return OF_VIRTUAL != null;
    }

    /** "virtual threads" or "platform threads", for reports. */
    static String describe() {
        return virtual() ? "virtual threads" : "platform threads";
    }

    /** An unstarted thread named {@code name} running {@code body}; a daemon either way. */
    static Thread unstarted(final String name, final Runnable body) {
        if (OF_VIRTUAL == null) {
            final Thread t = new Thread(body, name);
            t.setDaemon(true);
            return t;
        }
        try {
            final Object builder = NAME.invoke(OF_VIRTUAL.invoke(), name);
            return (Thread) UNSTARTED.invoke(builder, body); // virtual threads are always daemons
        } catch (Throwable e) {
            throw new IllegalStateException("cannot create a virtual thread", e);
        }
    }
}
