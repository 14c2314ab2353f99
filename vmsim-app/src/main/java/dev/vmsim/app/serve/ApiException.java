package dev.vmsim.app.serve;

import io.micronaut.http.HttpStatus;

/**
 * A request the server refuses: the status (400 bad input, 429 too many jobs, 404, 501, 503), the
 * request field at fault (null when none is) and one line saying what is wrong. {@link ErrorHandlers}
 * turns it into the JSON body {@link ApiError}; never a stack trace.
 */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final HttpStatus status;
    private final String field;

    ApiException(final HttpStatus status, final String field, final String message) {
        super(message, null, false, false);
        this.status = status;
        this.field = field;
    }

    /** 400: {@code field} is wrong because {@code message}. */
    static ApiException badField(final String field, final String message) {
        return new ApiException(HttpStatus.BAD_REQUEST, field, message);
    }

    HttpStatus status() {
        return status;
    }

    String field() {
        return field;
    }
}
