package org.lstmcast.serve.rest;

import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.lstmcast.serve.ApiException;
import org.lstmcast.serve.ApiKey;
import org.lstmcast.serve.Batcher;
import org.lstmcast.serve.Failure;
import org.lstmcast.serve.Inference;
import org.lstmcast.serve.ModelRegistry;
import org.lstmcast.serve.ModelVersion;
import org.lstmcast.serve.ServeConfig;

/**
 * The routes that carry the load, as a Jetty core handler in front of Javalin, which serves every other route: the
 * forecast API, {@code POST /v1/models/{model}[/versions/{version}]/forecast}, and the inference protocol's
 * {@code POST /v2/models/{model}[/versions/{version}]/infer}, JSON or with binary tensor data.
 *
 * <p>This is the route that carries the load. As a Javalin route each request would hold a pool thread while waiting
 * for its batch, and on two cores those threads and the servlet layer cost more than the model: measured with 64
 * clients, such a route answers ~5,000-7,000 forecasts/s and this handler ~19,000-22,000 (docs/BENCHMARKS.md). This
 * handler never blocks: the body is read asynchronously, parsed on the I/O thread and handed to the model's batcher,
 * and the answer is written by whichever thread completes the batch. Every other request is passed to Javalin on a
 * pool thread, where blocking is allowed.
 */
final class ForecastEndpoint extends Handler.Wrapper {
    /**
     * Past these sizes a body is parsed, and an answer encoded, on a pool thread: tens of milliseconds on the I/O
     * thread or on a batcher would hold up every other connection or batch behind it.
     */
    private static final int LARGE_BYTES = 64 << 10;
    private static final long LARGE_VALUES = 16_384;

    /** The routes this handler answers, as {@link InferenceServer#routes()} lists them. */
    static final List<String> ROUTES = List.of("POST /v1/models/{model}/forecast",
            "POST /v1/models/{model}/versions/{version}/forecast", "POST /v2/models/{model}/infer",
            "POST /v2/models/{model}/versions/{version}/infer");

    /** A path this handler answers: which API, and the model and version (null for the highest) it names. */
    record Route(boolean infer, String model, String version) {
    }

    private final ModelRegistry registry;
    private final ServeConfig.Limits limits;
    private final ApiKey apiKey;

    ForecastEndpoint(ModelRegistry registry, ServeConfig.Limits limits, ApiKey apiKey) {
        this.registry = registry;
        this.limits = limits;
        this.apiKey = apiKey;
    }

    @Override
    public InvocationType getInvocationType() {
        // Lets Jetty run this handler on the thread that read the request; what may block is dispatched below. A model
        // run is made here only on an idle batcher for a model that runs in under a millisecond (Batcher.submitOrRun).
        return InvocationType.NON_BLOCKING;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        Route route = route(Request.getPathInContext(request));
        if (route == null) {
            // The other routes read no body on these methods: one sent along is left unread, as above.
            if (BODILESS.contains(request.getMethod())) {
                closeIfUnread(request, response);
            }
            pool(request).execute(() -> {
                try {
                    if (!super.handle(request, response, callback)) {
                        Response.writeError(request, response, callback, 404);
                    }
                } catch (Throwable e) {
                    Response.writeError(request, response, callback, e);
                }
            });
            return true;
        }
        if (!"POST".equals(request.getMethod())) {
            response.getHeaders().put(HttpHeader.ALLOW, "POST");
            closeIfUnread(request, response);
            reply(response, callback, 405, Json.error("method " + request.getMethod() + " not allowed on "
                    + Request.getPathInContext(request)));
            return true;
        }
        try {
            apiKey.check(request.getHeaders().get(HttpHeader.AUTHORIZATION));
            long declared = request.getLength();
            if (declared > limits.maxBodyBytes() && declared <= DRAIN_BYTES) {
                // Read and drop the body before answering, as a lingering close does: a client still sending when
                // the connection closes under it sees a reset, not the 413 that says why.
                Content.Source.consumeAll(request, org.eclipse.jetty.util.Callback.from(
                        () -> fail(response, callback, tooLarge()), x -> fail(response, callback, tooLarge())));
                return true;
            }
            if (declared > limits.maxBodyBytes()) {
                throw tooLarge();
            }
        } catch (RuntimeException e) {
            closeIfUnread(request, response);
            fail(response, callback, e);
            return true;
        }
        Content.Source.asByteArrayAsync(request, (int) Math.min(Integer.MAX_VALUE - 8, limits.maxBodyBytes()))
                .whenComplete((body, error) -> {
                    if (error != null) {
                        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                        if (e instanceof IOException) {
                            // The connection ended mid-body (the client went away): no one is left to answer, and it
                            // is no fault of the server's to log as one.
                            callback.failed(e);
                            return;
                        }
                        // Jetty reports a body past the size given to the reader as an IllegalStateException.
                        fail(response, callback, e instanceof IllegalStateException || e instanceof IllegalArgumentException
                                ? tooLarge() : e);
                    } else if (body.length > LARGE_BYTES) {
                        pool(request).execute(() -> dispatch(route, request, body, response, callback));
                    } else {
                        dispatch(route, request, body, response, callback);
                    }
                });
        return true;
    }

    /** Methods whose requests carry no body by meaning; none of the server's routes reads one. */
    private static final Set<String> BODILESS = Set.of("GET", "HEAD", "DELETE", "OPTIONS", "TRACE");

    /** Bodies over the limit but under this are read and dropped before the 413; larger ones are answered at once. */
    private static final long DRAIN_BYTES = 64L << 20;

    private ApiException tooLarge() {
        return new ApiException(413, "request body over the limit of " + limits.maxBodyBytes() + " bytes (--max-body-bytes)");
    }

    private static Executor pool(Request request) {
        return request.getComponents().getThreadPool();
    }

    private void dispatch(Route route, Request request, byte[] body, Response response, Callback callback) {
        CompletableFuture<Void> gaveUp;
        try {
            gaveUp = gaveUp(request);
        } catch (RuntimeException e) {
            fail(response, callback, e);
            return;
        }
        if (route.infer()) {
            infer(route, request.getHeaders().get(InferenceProtocol.HEADER_LENGTH), body, response, callback, pool(request),
                    gaveUp);
        } else {
            forecast(route.model(), route.version(), body, response, callback, pool(request), gaveUp);
        }
    }

    /** How long the client waits for its answer, in milliseconds, when that is less than --request-timeout-ms. */
    static final String TIMEOUT_HEADER = "Request-Timeout";

    /**
     * Completed exceptionally when the request is given up before its answer, so that its runs leave the model's
     * queue instead of running for no one: when its {@value #TIMEOUT_HEADER} passes (answered 504), or when Jetty
     * reports the request failed. Jetty does not watch an HTTP/1.1 connection for its client's close while a request
     * on it waits for an asynchronous answer (it learns of it only when the answer is written), so a client that
     * disconnects is not seen leaving; one that will not wait long says so in the header instead. Completed normally
     * once answered, which lets the header's timer hold nothing more.
     */
    private CompletableFuture<Void> gaveUp(Request request) {
        long timeoutMs = timeout(request.getHeaders().get(TIMEOUT_HEADER));
        CompletableFuture<Void> gaveUp = new CompletableFuture<>();
        request.addFailureListener(x -> gaveUp.completeExceptionally(
                Batcher.GaveUp.cancelled("the request failed before its answer")));
        if (timeoutMs > 0 && timeoutMs < limits.requestTimeoutMs()) {
            // Run on the timer's own thread: completing it only takes the request out of a queue.
            CompletableFuture.delayedExecutor(timeoutMs, TimeUnit.MILLISECONDS, Runnable::run)
                    .execute(() -> gaveUp.completeExceptionally(Batcher.GaveUp.expired("no answer within " + timeoutMs
                            + " ms (" + TIMEOUT_HEADER + ")")));
        }
        return gaveUp;
    }

    /** The header's milliseconds; 0 when there is none. */
    private static long timeout(String header) {
        if (header == null) {
            return 0;
        }
        try {
            long ms = Long.parseLong(header.trim());
            if (ms > 0) {
                return ms;
            }
        } catch (NumberFormatException e) {
            // Answered below.
        }
        throw ApiException.badRequest(TIMEOUT_HEADER + " must be a whole number of milliseconds above 0, got '"
                + header + "'");
    }

    /**
     * An inference-protocol call: checked and copied on this thread, then run on the model's batcher; a call the
     * batcher does not take, and one on a model that must load first, go to a pool thread, which may wait.
     */
    private void infer(Route route, String headerLength, byte[] bytes, Response response, Callback callback, Executor pool,
                       CompletableFuture<Void> gaveUp) {
        ModelVersion m;
        InferenceProtocol.Call call;
        try {
            int jsonLength = InferenceProtocol.headerLength(headerLength, bytes.length);
            JsonNode json = Json.parse(bytes, jsonLength);
            m = registry.acquireLoaded(route.model(), route.version());
            if (m == null) {
                pool.execute(() -> {
                    try {
                        ModelVersion loaded = registry.acquire(route.model(), route.version());
                        run(loaded, call(loaded, json, bytes, jsonLength), response, callback, pool, gaveUp);
                    } catch (RuntimeException e) {
                        fail(response, callback, e);
                    }
                });
                return;
            }
            call = call(m, json, bytes, jsonLength);
        } catch (Exception e) {
            fail(response, callback, e);
            return;
        }
        if (Inference.batchable(m, call.request())) {
            run(m, call, response, callback, pool, gaveUp);
        } else {
            // Runs at once on the calling thread: not on the one that reads every connection's requests.
            pool.execute(() -> run(m, call, response, callback, pool, gaveUp));
        }
    }

    /** The body's call for a version held for it; the version is let go when the body is refused. */
    private static InferenceProtocol.Call call(ModelVersion m, JsonNode json, byte[] bytes, int jsonLength) {
        try {
            return InferenceProtocol.call(json, ByteBuffer.wrap(bytes, jsonLength, bytes.length - jsonLength));
        } catch (RuntimeException e) {
            m.release();
            throw e;
        }
    }

    /** Runs a call on a version held for it, answers, records it and lets the version go. */
    private void run(ModelVersion m, InferenceProtocol.Call call, Response response, Callback callback, Executor pool,
                     CompletableFuture<Void> gaveUp) {
        long start = System.nanoTime();
        CompletableFuture<Inference.Result> result;
        try {
            result = Inference.inferAsync(m, call.request(), limits.requestTimeoutMs(), true, gaveUp);
        } catch (Exception e) {
            result = CompletableFuture.failedFuture(e);
        }
        result.whenComplete((r, error) -> gaveUp.complete(null));
        result.whenComplete((r, error) -> {
            if (r != null && r.outputs().stream().mapToLong(o -> Array.getLength(o.data())).sum() > LARGE_VALUES) {
                pool.execute(() -> answer(m, start, call, r, null, response, callback));
            } else {
                answer(m, start, call, r, error, response, callback);
            }
        });
    }

    private static void answer(ModelVersion m, long start, InferenceProtocol.Call call, Inference.Result result,
                               Throwable error, Response response, Callback callback) {
        boolean ok = false;
        try {
            if (error != null) {
                fail(response, callback, error);
                return;
            }
            InferenceProtocol.Answer answer = call.answer(result);
            if (answer.binary() == null) {
                reply(response, callback, 200, answer.json());
            } else {
                ByteBuffer all = ByteBuffer.allocate(answer.json().length + answer.binary().length)
                        .put(answer.json()).put(answer.binary()).flip();
                response.setStatus(200);
                response.getHeaders().put(InferenceProtocol.HEADER_LENGTH, Integer.toString(answer.json().length));
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, all.remaining());
                response.write(true, all, callback);
            }
            ok = true;
        } catch (RuntimeException e) {
            fail(response, callback, e);
        } finally {
            m.recordRequest("infer", System.nanoTime() - start, ok);
            m.release();
        }
    }

    private void forecast(String name, String version, byte[] bytes, Response response, Callback callback, Executor pool,
                          CompletableFuture<Void> gaveUp) {
        ModelVersion m;
        JsonNode body;
        try {
            body = Json.parse(bytes);
            m = registry.acquire(name, version);
        } catch (Exception e) {
            fail(response, callback, e);
            return;
        }
        long start = System.nanoTime();
        CompletableFuture<double[][]> answer;
        int[] levels = null;
        try {
            if (!m.canForecast()) {
                throw ApiException.badRequest("model '" + m.name + "' is not a forecaster (" + m.notForecasting
                        + "); call it with the inference protocol: POST /v2/models/" + m.name + "/infer");
            }
            List<double[][]> windows = Requests.windows(body, m.spec, limits);
            int horizon = Requests.horizon(body, m.spec, limits.maxHorizon());
            levels = Requests.intervals(body, m.name, m.intervals);
            answer = m.forecast(windows, horizon, limits.requestTimeoutMs(), gaveUp);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        int[] asked = levels;
        answer.whenComplete((forecasts, error) -> gaveUp.complete(null));
        answer.whenComplete((forecasts, error) -> {
            if (forecasts != null && forecasts.length * (long) forecasts[0].length > LARGE_VALUES) {
                pool.execute(() -> respond(m, start, forecasts, asked, null, response, callback));
            } else {
                respond(m, start, forecasts, asked, error, response, callback);
            }
        });
    }

    private static void respond(ModelVersion m, long start, double[][] forecasts, int[] levels, Throwable error,
                                Response response, Callback callback) {
        try {
            if (error != null) {
                fail(response, callback, error);
            } else {
                reply(response, callback, 200, answer(m, forecasts, levels));
            }
            m.recordRequest("forecast", System.nanoTime() - start, error == null);
        } finally {
            m.release();
        }
    }

    /** @param levels indices into the model's interval levels to answer with, or null for none */
    private static byte[] answer(ModelVersion m, double[][] forecasts, int[] levels) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model_name", m.name);
        out.put("model_version", Long.toString(m.version));
        // The model computes in float32: answer with its digits, not with those of a widened double.
        float[][] digits = new float[forecasts.length][];
        for (int i = 0; i < forecasts.length; i++) {
            digits[i] = new float[forecasts[i].length];
            for (int h = 0; h < digits[i].length; h++) {
                digits[i][h] = (float) forecasts[i][h];
            }
        }
        out.put("forecasts", digits);
        if (levels != null) {
            // [window][step][level], as the ONNX file's forecast_lower and forecast_upper outputs are laid out.
            int[] percent = new int[levels.length];
            float[][][] lower = new float[digits.length][][];
            float[][][] upper = new float[digits.length][][];
            for (int l = 0; l < levels.length; l++) {
                percent[l] = m.intervals.levels()[levels[l]];
            }
            for (int i = 0; i < digits.length; i++) {
                lower[i] = new float[digits[i].length][levels.length];
                upper[i] = new float[digits[i].length][levels.length];
                for (int l = 0; l < levels.length; l++) {
                    double[][] b = m.intervals.boundsExtended(forecasts[i], levels[l]);
                    for (int h = 0; h < digits[i].length; h++) {
                        lower[i][h][l] = (float) b[0][h];
                        upper[i][h][l] = (float) b[1][h];
                    }
                }
            }
            out.put("levels", percent);
            out.put("lower", lower);
            out.put("upper", upper);
            int extrapolated = m.intervals.extrapolatedFrom(digits[0].length);
            if (extrapolated > 0) {
                // The steps a forecast rolled past the model's horizon has bounds widened, not calibrated: said so.
                out.put("intervals_extrapolated_from", extrapolated);
            }
        }
        return Json.bytes(out);
    }

    /**
     * An answer sent before the body is read ends the connection, and says so: Jetty closes a connection whose request
     * content was left unread once the answer is out, and a keep-alive client not told would send its next request
     * into the closing socket.
     */
    private static void closeIfUnread(Request request, Response response) {
        // -1 is no Content-Length: a chunked body, or (without Transfer-Encoding) none at all, as on most GETs.
        long length = request.getLength();
        if (length > 0 || length < 0 && request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
            response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
        }
    }

    private static void fail(Response response, Callback callback, Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        Failure f = Failure.of(e);
        if (f.retryAfter()) {
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        }
        if (f.status() == 401) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
        }
        reply(response, callback, f.status(), Json.error(f.message()));
    }

    private static void reply(Response response, Callback callback, int status, byte[] json) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, json.length);
        response.write(true, ByteBuffer.wrap(json), callback);
    }

    /** The route of a path this handler answers; null for any other path. */
    static Route route(String path) {
        boolean infer = path != null && path.startsWith("/v2/models/") && path.endsWith("/infer");
        if (path == null || !infer && !(path.startsWith("/v1/models/") && path.endsWith("/forecast"))) {
            return null;
        }
        String[] parts = path.split("/", -1);
        // "", "v1", "models", name, "forecast"  or  "", "v1", "models", name, "versions", version, "forecast"
        if (parts.length == 5 && !parts[3].isEmpty()) {
            return new Route(infer, parts[3], null);
        }
        if (parts.length == 7 && "versions".equals(parts[4]) && !parts[3].isEmpty() && !parts[5].isEmpty()) {
            return new Route(infer, parts[3], parts[5]);
        }
        return null;
    }
}
