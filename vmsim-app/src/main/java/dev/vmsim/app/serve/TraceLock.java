package dev.vmsim.app.serve;

import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Who may trace now. The simulator's trace sink is global ({@link dev.vmsim.core.trace.FaultTrace#install}:
 * one static, so that an untraced fault pays one load), so two traced runs at once would mix their
 * events. Every traced script request and traced run holds this lock while its sink is installed;
 * a request that cannot get it within its timeout gets 503.
 */
@Singleton
final class TraceLock {
    /** Fair: requests are served in arrival order, so a burst of clients all make progress. */
    private final ReentrantLock lock = new ReentrantLock(true);

    /** Takes the lock within {@code timeout} or throws 503; the caller unlocks with {@link #unlock()}. */
    void lock(final Duration timeout) {
        try {
            if (!lock.tryLock(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ApiException(
                        HttpStatus.SERVICE_UNAVAILABLE,
                        null,
                        "the server is busy tracing another run; try again (request timeout " + timeout + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, null, "interrupted while waiting to trace");
        }
    }

    void unlock() {
        lock.unlock();
    }
}
