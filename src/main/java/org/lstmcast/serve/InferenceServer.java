package org.lstmcast.serve;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.lstmcast.Version;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model server: Open Inference Protocol (KServe V2) REST for any ONNX model, a forecast API in original units,
 * Prometheus metrics. Handlers only translate HTTP; the models live in the {@link ModelRegistry}.
 */
public final class InferenceServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InferenceServer.class);
    // Deep nesting and huge numbers are refused by the parser itself, before they cost memory or stack.
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxNumberLength(64)
                    .maxStringLength(1 << 20).build())
            // {"inputs": a, "inputs": b} is ambiguous: refuse it rather than silently take one.
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private final ServeConfig config;
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ModelRegistry registry;
    private Javalin app;

    public InferenceServer(ServeConfig config) {
        this.config = config;
        this.registry = new ModelRegistry(config, metrics);
    }

    /** JVM and process meters; bound beside the start-up work, which they do not need to delay. */
    private void bindJvmMetrics() {
        new JvmMemoryMetrics().bindTo(metrics);
        new JvmGcMetrics().bindTo(metrics);
        new JvmThreadMetrics().bindTo(metrics);
        new ProcessorMetrics().bindTo(metrics);
        new UptimeMetrics().bindTo(metrics);
        new FileDescriptorMetrics().bindTo(metrics);
    }

    /** Loads the repository, then listens; returns the port (useful with port 0). */
    public int start() {
        Thread jvmMetrics = new Thread(this::bindJvmMetrics, "bind-jvm-metrics");
        jvmMetrics.start();
        registry.start();
        app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.http.maxRequestSize = config.limits().maxBodyBytes();
            c.http.prefer405over404 = true;
            c.jetty.modifyServer(server -> {
                server.setStopTimeout(30_000);
                server.setErrorHandler(new JsonErrorHandler());
            });
            // Odd paths (%00, %2F, "..") reach the routes, whose strict name patterns answer them with a JSON 404;
            // nothing is ever looked up on disk by path, so there is no ambiguity to exploit.
            c.jetty.modifyHttpConfiguration(h -> h.setUriCompliance(org.eclipse.jetty.http.UriCompliance.UNSAFE));
            c.jetty.modifyServletContextHandler(handler -> {
                handler.setErrorHandler(new JsonErrorHandler());
                handler.getServletHandler().setDecodeAmbiguousURIs(true);
            });
            var r = c.routes;
            if (config.apiKey() != null && !config.apiKey().isEmpty()) {
                byte[] expected = ("Bearer " + config.apiKey()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                r.before(ctx -> {
                    if (ctx.path().startsWith("/v2/health/")) {
                        return;
                    }
                    String given = ctx.header("Authorization");
                    // Constant-time: the comparison takes as long whatever prefix of the key a caller guessed.
                    if (given == null || !java.security.MessageDigest.isEqual(expected,
                            given.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
                        ctx.header("WWW-Authenticate", "Bearer");
                        throw new ApiException(401, "missing or wrong API key (send Authorization: Bearer <key>)");
                    }
                });
            }
            r.get("/v2/health/live", ctx -> json(ctx, Map.of("live", true)));
            r.get("/v2/health/ready", ctx -> {
                ctx.status(registry.ready() ? 200 : 503);
                json(ctx, Map.of("ready", registry.ready()));
            });
            r.get("/v2", ctx -> json(ctx, Map.of("name", "lstmcast", "version", Version.get(),
                    "extensions", List.of("model_repository_watch", "forecast"))));
            r.get("/v2/models/{model}", ctx -> modelMetadata(ctx, null));
            r.get("/v2/models/{model}/versions/{version}", ctx -> modelMetadata(ctx, ctx.pathParam("version")));
            r.get("/v2/models/{model}/ready", ctx -> modelReady(ctx, null));
            r.get("/v2/models/{model}/versions/{version}/ready", ctx -> modelReady(ctx, ctx.pathParam("version")));
            r.post("/v2/models/{model}/infer", ctx -> infer(ctx, null));
            r.post("/v2/models/{model}/versions/{version}/infer", ctx -> infer(ctx, ctx.pathParam("version")));
            r.post("/v1/models/{model}/forecast", ctx -> forecast(ctx, null));
            r.post("/v1/models/{model}/versions/{version}/forecast", ctx -> forecast(ctx, ctx.pathParam("version")));
            r.get("/v1/models", this::listModels);
            r.get("/metrics", ctx -> {
                ctx.contentType("text/plain; version=0.0.4; charset=utf-8");
                ctx.result(metrics.scrape());
            });
            r.exception(ApiException.class, (e, ctx) -> error(ctx, e.status(), e.getMessage()));
            r.exception(Batcher.QueueFullException.class, (e, ctx) -> {
                ctx.header("Retry-After", "1");
                error(ctx, 503, e.getMessage());
            });
            r.exception(JacksonException.class, (e, ctx) -> error(ctx, 400, "malformed JSON: " + e.getOriginalMessage()));
            r.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), e.getMessage()));
            r.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
            r.exception(Exception.class, (e, ctx) -> {
                LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, 500, "internal error (" + e.getClass().getSimpleName() + "); see the server log");
            });
            r.error(404, ctx -> {
                if (!"application/json".equals(ctx.res().getContentType()) || ctx.result() == null
                        || !ctx.result().startsWith("{\"error\"")) {
                    error(ctx, 404, "no such endpoint: " + ctx.method() + " " + ctx.path());
                }
            });
            r.error(405, ctx -> error(ctx, 405, "method " + ctx.method() + " not allowed on " + ctx.path()));
            r.error(413, ctx -> error(ctx, 413, "request body over the limit of " + config.limits().maxBodyBytes()
                    + " bytes (--max-body-bytes)"));
        });
        app.start(config.host(), config.port());
        try {
            jvmMetrics.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return app.port();
    }

    private void modelMetadata(Context ctx, String version) {
        ModelVersion m = registry.acquire(ctx.pathParam("model"), version);
        try {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", m.name);
            body.put("versions", versionsOf(m.name));
            body.put("platform", "onnx_onnxv1");
            body.put("inputs", InferenceProtocol.describe(m.session().getInputInfo()));
            body.put("outputs", InferenceProtocol.describe(m.session().getOutputInfo()));
            body.put("parameters", Map.of("execution_provider", m.provider, "version", Long.toString(m.version)));
            json(ctx, body);
        } catch (ai.onnxruntime.OrtException e) {
            throw new IllegalStateException(e);
        } finally {
            m.release();
        }
    }

    private void modelReady(Context ctx, String version) {
        ModelVersion m = registry.acquire(ctx.pathParam("model"), version);
        try {
            json(ctx, Map.of("name", m.name, "version", Long.toString(m.version), "ready", true));
        } finally {
            m.release();
        }
    }

    /** The work of one model call, given the held model version and the parsed body; returns the answer. */
    @FunctionalInterface
    private interface ModelCall {
        Object answer(ModelVersion m, JsonNode body) throws Exception;
    }

    /** Parses, holds the model version for the call, answers, and records latency and outcome per model. */
    private void call(Context ctx, String version, String endpoint, ModelCall work) throws Exception {
        JsonNode body = parse(ctx);
        ModelVersion m = registry.acquire(ctx.pathParam("model"), version);
        long start = System.nanoTime();
        boolean ok = false;
        try {
            json(ctx, work.answer(m, body));
            ok = true;
        } finally {
            m.recordRequest(endpoint, System.nanoTime() - start, ok);
            m.release();
        }
    }

    private void infer(Context ctx, String version) throws Exception {
        call(ctx, version, "infer", InferenceProtocol::infer);
    }

    private void forecast(Context ctx, String version) throws Exception {
        call(ctx, version, "forecast", (m, body) -> {
            if (!m.canForecast()) {
                throw ApiException.badRequest("model '" + m.name + "' is not a forecaster (" + String.join("; ",
                        m.report.problems()) + "); call it with the inference protocol: POST /v2/models/" + m.name + "/infer");
            }
            List<double[][]> windows = Requests.windows(body, m.spec, config.limits());
            int horizon = Requests.horizon(body, m.spec, config.limits().maxHorizon());
            double[][] forecasts = m.forecast(windows, horizon, config.limits().requestTimeoutMs());
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
            return out;
        });
    }

    private void listModels(Context ctx) throws ai.onnxruntime.OrtException {
        List<Map<String, Object>> models = new ArrayList<>();
        for (ModelRegistry.VersionStatus s : registry.statuses()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name());
            m.put("version", Long.toString(s.version()));
            m.put("state", s.state());
            if (s.reason() != null) {
                m.put("reason", s.reason());
            }
            ModelVersion v = s.loaded();
            if (v != null) {
                m.put("execution_provider", v.provider);
                m.put("inputs", InferenceProtocol.describe(v.session().getInputInfo()));
                m.put("outputs", InferenceProtocol.describe(v.session().getOutputInfo()));
                if (v.spec != null) {
                    Map<String, Object> f = new LinkedHashMap<>();
                    f.put("lookback", v.spec.lookback());
                    f.put("horizon", v.spec.horizon());
                    f.put("features", v.spec.features());
                    f.put("target", v.spec.target());
                    f.put("transform", v.spec.transform());
                    m.put("forecast", f);
                } else {
                    m.put("forecast", null);
                    m.put("forecast_unavailable", String.join("; ", v.report.problems()));
                }
            }
            models.add(m);
        }
        json(ctx, Map.of("models", models));
    }

    private List<String> versionsOf(String name) {
        return registry.statuses().stream().filter(s -> s.name().equals(name) && s.loaded() != null)
                .map(s -> Long.toString(s.version())).toList();
    }

    private static JsonNode parse(Context ctx) throws java.io.IOException {
        byte[] body = ctx.bodyAsBytes();
        if (body.length == 0) {
            throw ApiException.badRequest("empty body; send a JSON object");
        }
        return JSON.readTree(body);
    }

    private static void json(Context ctx, Object body) {
        ctx.contentType("application/json");
        try {
            ctx.result(JSON.writeValueAsBytes(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot encode the answer", e);
        }
    }

    private static void error(Context ctx, int status, String message) {
        ctx.status(status);
        ctx.contentType("application/json");
        try {
            ctx.result(JSON.writeValueAsBytes(Map.of("error", message == null ? "error" : message)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            ctx.result("{\"error\":\"error\"}");
        }
    }

    /** Stops accepting, lets requests in flight finish, then closes every session. */
    @Override
    public void close() {
        if (app != null) {
            app.stop();
        }
        registry.close();
        metrics.close();
    }
}
