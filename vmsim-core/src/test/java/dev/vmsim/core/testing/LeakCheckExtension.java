package dev.vmsim.core.testing;

import dev.vmsim.core.Machine;
import dev.vmsim.core.debug.LeakCounts;
import dev.vmsim.core.debug.LeakTracker;
import java.lang.reflect.AnnotatedElement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.TestInstance.Lifecycle;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestInstanceFactoryContext;
import org.junit.jupiter.api.extension.TestInstancePreConstructCallback;

/**
 * OOM-10: after every test (and after its own {@code @AfterEach}), each machine the test built is
 * torn down as process exit would ({@link LeakTracker#teardown}) and its allocation counts must be
 * back to their values at construction, as the kernel's userland maple harness checks
 * {@code nr_allocated} at exit and its VMA tests run under LeakSanitizer with {@code check_nomem}.
 * A count that is not fails the test with a line naming it and by how much.
 *
 * <p>Registered for every test of every module that has core's test-jar on its class path, through
 * {@code META-INF/services} and {@code junit.jupiter.extensions.autodetection.enabled} (the root
 * pom's surefire configuration); active when surefire passes {@code -Dvmsim.leakcheck=true}. A test
 * opts out with {@link LeakCheck.Skip}.
 */
public final class LeakCheckExtension
        implements TestInstancePreConstructCallback, BeforeEachCallback, AfterEachCallback {
    /**
     * A test's machines are those built from the construction of its instance (field initialisers
     * build most) to its end: what static initialisers and {@code @BeforeAll} built before is shared
     * by the class and not this test's to tear down. A nested class's outer instance is the
     * test's too.
     */
    @Override
    public void preConstructTestInstance(
            final TestInstanceFactoryContext factoryContext, final ExtensionContext context) {
        if (factoryContext.getOuterInstance().isEmpty()) {
            LeakTracker.takeCreated();
        }
    }

    @Override
    public void beforeEach(final ExtensionContext context) {
        if (context.getTestInstanceLifecycle().orElse(Lifecycle.PER_METHOD) == Lifecycle.PER_CLASS) {
            LeakTracker.takeCreated(); // one instance for the class: its machines are shared
        }
        LeakTracker.setSkipping(skipReason(context).isPresent());
    }

    @Override
    public void afterEach(final ExtensionContext context) {
        final List<Machine> machines = LeakTracker.takeCreated();
        final boolean skip = skipReason(context).isPresent();
        LeakTracker.setSkipping(false);
        if (!LeakTracker.ENABLED || skip || context.getExecutionException().isPresent()) {
            return; // a failed test has its own verdict; a torn-down half state would only add noise
        }
        final String report = check(machines);
        if (!report.isEmpty()) {
            throw new AssertionError("OOM-10 leak check: " + report);
        }
    }

    /**
     * Tears down every machine of {@code machines} not closed yet and compares its counts with its
     * baseline; a closed machine is judged by what its {@code close()} found. Returns one line per
     * machine that leaked ("machine #i: VMAs +1 (0 -> 1), ..."), or an empty string.
     */
    public static String check(final List<Machine> machines) {
        final List<String> out = new ArrayList<>();
        for (int i = 0; i < machines.size(); i++) {
            final String leaks = leaksOf(machines.get(i));
            if (!leaks.isEmpty()) {
                out.add("machine #" + i + " of " + machines.size() + ": " + leaks);
            }
        }
        return String.join("; ", out);
    }

    private static String leaksOf(final Machine machine) {
        final Object atClose = machine.countsAtClose();
        final LeakCounts now;
        if (atClose instanceof Throwable t) {
            return "teardown at close() failed: " + t;
        } else if (atClose instanceof LeakCounts c) {
            now = c;
        } else if (machine.isClosed()) {
            return ""; // closed while the test opted out: nothing left to count
        } else {
            try {
                now = LeakTracker.teardownBounded(machine);
            } catch (final IllegalStateException e) {
                return e.getMessage() + " (if the test ends so by design, @LeakCheck.Skip says why)";
            }
        }
        return now.leaksSince(machine.leakBaseline());
    }

    private static Optional<String> skipReason(final ExtensionContext context) {
        return annotation(context.getElement())
                .or(() -> context.getTestClass().flatMap(LeakCheckExtension::enclosingSkip));
    }

    private static Optional<String> enclosingSkip(final Class<?> cls) {
        for (Class<?> c = cls; c != null; c = c.getEnclosingClass()) {
            final Optional<String> r = annotation(Optional.of(c));
            if (r.isPresent()) {
                return r;
            }
        }
        return Optional.empty();
    }

    private static Optional<String> annotation(final Optional<? extends AnnotatedElement> element) {
        return element.map(e -> e.getAnnotation(LeakCheck.Skip.class)).map(LeakCheck.Skip::value);
    }
}
