package dev.vmsim.app.serve;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.convert.exceptions.ConversionErrorException;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.codec.CodecException;
import io.micronaut.http.server.exceptions.ConversionErrorHandler;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.http.server.exceptions.JsonExceptionHandler;
import io.micronaut.json.JsonSyntaxException;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every error the API gives is an {@link ApiError} body: 400 for bad input (malformed JSON, a wrong
 * type, an unknown arch, a limit exceeded) naming the field where there is one, 429 for a full job
 * queue, 500 for a bug, logged on the server. Never a stack trace in a response.
 */
final class ErrorHandlers {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorHandlers.class);

    private ErrorHandlers() {}

    static HttpResponse<ApiError> response(final HttpStatus status, final String field, final String error) {
        return HttpResponse.<ApiError>status(status).body(new ApiError(status.getCode(), field, error));
    }

    /** The server's own refusals. */
    @Produces
    @Singleton
    @Requires(classes = {ApiException.class, ExceptionHandler.class})
    static final class Api implements ExceptionHandler<ApiException, HttpResponse<ApiError>> {
        @Override
        public HttpResponse<ApiError> handle(final HttpRequest request, final ApiException e) {
            return response(e.status(), e.field(), e.getMessage());
        }
    }

    /** A body that is not JSON, or not the JSON of the request. */
    @Produces
    @Singleton
    @Requires(classes = {CodecException.class, ExceptionHandler.class})
    static final class Codec implements ExceptionHandler<CodecException, HttpResponse<ApiError>> {
        @Override
        public HttpResponse<ApiError> handle(final HttpRequest request, final CodecException e) {
            return response(HttpStatus.BAD_REQUEST, null, "malformed JSON: " + firstLine(e.getMessage()));
        }
    }

    /** A body that does not parse as JSON (replaces Micronaut's handler, whose body is HAL, not ours). */
    @Produces
    @Singleton
    @Replaces(JsonExceptionHandler.class)
    @Requires(classes = {JsonSyntaxException.class, ExceptionHandler.class})
    static final class Syntax implements ExceptionHandler<JsonSyntaxException, HttpResponse<ApiError>> {
        @Override
        public HttpResponse<ApiError> handle(final HttpRequest request, final JsonSyntaxException e) {
            return response(HttpStatus.BAD_REQUEST, null, "malformed JSON: " + firstLine(e.getMessage()));
        }
    }

    /** A field of the wrong type ("threads": "many"). */
    @Produces
    @Singleton
    @Replaces(ConversionErrorHandler.class)
    @Requires(classes = {ConversionErrorException.class, ExceptionHandler.class})
    static final class Conversion implements ExceptionHandler<ConversionErrorException, HttpResponse<ApiError>> {
        @Override
        public HttpResponse<ApiError> handle(final HttpRequest request, final ConversionErrorException e) {
            // A field's conversion names the field; the body's as a whole (an array for an object) names none.
            final boolean body = e.getArgument().getAnnotationMetadata().hasAnnotation(Body.class);
            return response(
                    HttpStatus.BAD_REQUEST,
                    body ? null : e.getArgument().getName(),
                    "malformed JSON: "
                            + firstLine(e.getConversionError().getCause().getMessage()));
        }
    }

    /** Anything else is a bug: logged here with its trace, answered with one line. */
    @Produces
    @Singleton
    @Requires(classes = {ExceptionHandler.class})
    static final class Bug implements ExceptionHandler<RuntimeException, HttpResponse<ApiError>> {
        @Override
        public HttpResponse<ApiError> handle(final HttpRequest request, final RuntimeException e) {
            LOG.error("{} {} failed", request.getMethod(), request.getPath(), e);
            return response(HttpStatus.INTERNAL_SERVER_ERROR, null, "internal error: " + e);
        }
    }

    static String firstLine(final String s) {
        if (s == null) {
            return "";
        }
        final int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
