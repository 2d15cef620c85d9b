package org.lstmcast.serve;

import com.fasterxml.jackson.core.JacksonException;
import io.javalin.http.HttpResponseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a client is told about an exception: status and message. The one mapping from exceptions to answers, for
 * the Javalin routes and the forecast endpoint alike; anything unexpected is logged here and answered with a 500 that
 * names no internals.
 */
record Failure(int status, String message, boolean retryAfter) {
    private static final Logger LOG = LoggerFactory.getLogger(Failure.class);

    static Failure of(Throwable e) {
        if (e instanceof Batcher.QueueFullException) {
            return new Failure(503, e.getMessage(), true);
        }
        if (e instanceof ApiException a) {
            return new Failure(a.status(), a.getMessage(), false);
        }
        if (e instanceof JacksonException j) {
            return new Failure(400, "malformed JSON: " + j.getOriginalMessage(), false);
        }
        if (e instanceof HttpResponseException h) {
            return new Failure(h.getStatus(), h.getMessage(), false);
        }
        if (e instanceof IllegalArgumentException) {
            return new Failure(400, e.getMessage(), false);
        }
        LOG.error("request failed", e);
        return new Failure(500, "internal error (" + e.getClass().getSimpleName() + "); see the server log", false);
    }
}
