package dev.vmsim.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.exceptions.HttpClientResponseException;

/** Checks an error response: its status, and an {@link ApiError} body naming the field, one line, no stack trace. */
final class ApiErrors {
    private ApiErrors() {}

    static ApiError assertError(
            final HttpClient http,
            final HttpStatus status,
            final String field,
            final String containing,
            final HttpRequest<?> req) {
        final HttpClientResponseException e = assertThrows(
                HttpClientResponseException.class, () -> http.toBlocking().exchange(req, String.class));
        assertEquals(status, e.getStatus(), () -> e.getResponse()
                .getBody(String.class)
                .orElse(""));
        final ApiError body = e.getResponse().getBody(ApiError.class).orElseThrow();
        assertEquals(status.getCode(), body.status());
        assertEquals(field, body.field(), body::toString);
        assertTrue(body.error().contains(containing), body::toString);
        assertFalse(body.error().contains("\n") || body.error().contains("\tat "), "one line, no stack trace: " + body);
        return body;
    }
}
