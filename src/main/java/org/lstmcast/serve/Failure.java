package org.lstmcast.serve;

import java.util.UUID;
import java.util.concurrent.CompletionException;

import com.fasterxml.jackson.core.JacksonException;
import org.lstmcast.data.DataException;
import org.lstmcast.forecast.InvalidInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a client is told about an exception: status and message. The one mapping from exceptions to answers, for
 * the REST routes, the forecast endpoint and gRPC alike. Only the domain's own exceptions are the client's doing (an
 * {@link ApiException} with its status, an {@link InvalidInputException} or malformed JSON: 400); anything else is a
 * fault of the server or the model: logged here with an id, and answered with a 500 that names the id and no
 * internals, so that a bug is never blamed on the request.
 */
public record Failure(int status, String message, boolean retryAfter) {
    private static final Logger LOG = LoggerFactory.getLogger(Failure.class);

    public static Failure of(Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null
                ? error.getCause() : error;
        if (e instanceof Batcher.QueueFullException) {
            return new Failure(503, e.getMessage(), true);
        }
        if (e instanceof ApiException a) {
            return new Failure(a.status(), a.getMessage(), false);
        }
        if (e instanceof InvalidInputException || e instanceof DataException) {
            return new Failure(400, e.getMessage(), false);
        }
        if (e instanceof JacksonException j) {
            return new Failure(400, JsonErrors.describe(j), false);
        }
        String id = UUID.randomUUID().toString().substring(0, 8);
        LOG.error("request failed, error id {}", id, e);
        return new Failure(500, "internal error " + id + " (" + e.getClass().getSimpleName()
                + "); the server log has the details under this id", false);
    }
}
