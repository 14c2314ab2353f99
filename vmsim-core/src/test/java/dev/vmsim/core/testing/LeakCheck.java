package dev.vmsim.core.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The leak check that ends every test (OOM-10, {@link LeakCheckExtension}) and its one knob.
 */
public final class LeakCheck {
    private LeakCheck() {}

    /**
     * Opts a test (or every test of a class) out of the leak check, for a test that legitimately
     * ends in a state exit cannot tear down: a task still blocked by design, an injected oops that
     * leaves a half-built mm, a machine another thread still uses. The reason is required and says
     * which of these it is.
     */
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.METHOD, ElementType.TYPE})
    public @interface Skip {
        /** Why this test's machines cannot be torn down and counted. */
        String value();
    }
}
