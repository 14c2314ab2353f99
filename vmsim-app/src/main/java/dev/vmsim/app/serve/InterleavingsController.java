package dev.vmsim.app.serve;

import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;

/**
 * {@code /api/interleavings}: stepping a multi-CPU scenario event by event needs the deterministic
 * virtual clock ([3/6]), which this build does not have yet; until then the endpoint says so (501).
 */
@Controller("/api/interleavings")
final class InterleavingsController {
    private static final String WHY = "stepping an interleaving needs the virtual clock ([3/6]), not in this build";

    @Get
    ApiError list() {
        throw new ApiException(HttpStatus.NOT_IMPLEMENTED, null, WHY);
    }

    @Post
    ApiError step() {
        throw new ApiException(HttpStatus.NOT_IMPLEMENTED, null, WHY);
    }
}
