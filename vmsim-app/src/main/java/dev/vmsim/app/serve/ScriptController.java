package dev.vmsim.app.serve;

import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

/** {@code POST /api/script}: a vmscript run, line by line, with the state after each line. */
@Controller("/api/script")
final class ScriptController {
    private final ScriptService scripts;

    ScriptController(final ScriptService scripts) {
        this.scripts = scripts;
    }

    /** Runs on the blocking pool: a script run holds the trace lock and must not stall the event loop. */
    @Post
    @ExecuteOn(TaskExecutors.BLOCKING)
    ScriptApi.Response run(@Body final ScriptApi.Request request) {
        return scripts.run(request);
    }
}
