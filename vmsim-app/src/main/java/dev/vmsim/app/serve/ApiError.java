package dev.vmsim.app.serve;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

/**
 * The body of every error response: the HTTP status, the request field at fault (null when the
 * problem is not one field's, e.g. malformed JSON or a full job queue) and one line saying what is wrong.
 */
@Serdeable
public record ApiError(int status, @Nullable String field, String error) {}
