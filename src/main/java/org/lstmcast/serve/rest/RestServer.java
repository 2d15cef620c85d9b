package org.lstmcast.serve.rest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.lstmcast.Version;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.serve.ApiException;
import org.lstmcast.serve.ApiKey;
import org.lstmcast.serve.Failure;
import org.lstmcast.serve.ModelRegistry;
import org.lstmcast.serve.ModelVersion;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.VersionMeters;

/**
 * The REST shell: Open Inference Protocol (KServe V2) for any ONNX model, a forecast API in original units, the
 * console and Prometheus metrics. Handlers only translate HTTP; the models live in the {@link ModelRegistry}.
 */
public final class RestServer implements AutoCloseable {
    private final ServeConfig config;
    private final ModelRegistry registry;
    private final PrometheusMeterRegistry metrics;
    private final ApiKey apiKey;
    private Javalin app;

    public RestServer(ServeConfig config, ModelRegistry registry, PrometheusMeterRegistry metrics, ApiKey apiKey) {
        this.config = config;
        this.registry = registry;
        this.metrics = metrics;
        this.apiKey = apiKey;
    }

    /** Starts listening, whether or not the models are in yet (the ready check answers 503 until they are); the port. */
    public int start() {
        app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.http.maxRequestSize = config.limits().maxBodyBytes();
            c.http.prefer405over404 = true;
            c.jetty.modifyServer(server -> {
                server.setStopTimeout(30_000);
                server.setErrorHandler(new JsonErrorHandler());
                // Javalin puts its servlet context inside this wrapper; the forecast routes never reach it.
                server.setHandler(new ForecastEndpoint(registry, config.limits(), apiKey));
            });
            // Odd paths (%00, %2F, "..") reach the routes, whose strict name patterns answer them with a JSON 404;
            // nothing is ever looked up on disk by path, so there is no ambiguity to exploit.
            c.jetty.modifyHttpConfiguration(h -> h.setUriCompliance(org.eclipse.jetty.http.UriCompliance.UNSAFE));
            c.jetty.modifyServletContextHandler(handler -> {
                handler.setErrorHandler(new JsonErrorHandler());
                handler.getServletHandler().setDecodeAmbiguousURIs(true);
            });
            var r = c.routes;
            if (apiKey.required()) {
                r.before(ctx -> {
                    if (!ctx.path().startsWith("/v2/health/") && !Console.open(ctx.path())) {
                        try {
                            apiKey.check(ctx.header("Authorization"));
                        } catch (ApiException e) {
                            ctx.header("WWW-Authenticate", "Bearer");
                            throw e;
                        }
                    }
                });
            }
            r.get("/v2/health/live", ctx -> json(ctx, Map.of("live", true)));
            r.get("/v2/health/ready", ctx -> {
                boolean ready = registry.ready(config.strictReadiness());
                ctx.status(ready ? 200 : 503);
                json(ctx, Map.of("ready", ready));
            });
            r.get("/v2", this::serverMetadata);
            r.post("/v2/repository/index", this::repositoryIndex);
            r.post("/v2/repository/models/{model}/load", ctx -> modelControl(ctx, true));
            r.post("/v2/repository/models/{model}/unload", ctx -> modelControl(ctx, false));
            r.get("/v2/models/{model}", ctx -> modelMetadata(ctx, null));
            r.get("/v2/models/{model}/versions/{version}", ctx -> modelMetadata(ctx, ctx.pathParam("version")));
            r.get("/v2/models/{model}/ready", ctx -> modelReady(ctx, null));
            r.get("/v2/models/{model}/versions/{version}/ready", ctx -> modelReady(ctx, ctx.pathParam("version")));
            r.get("/v1/models", this::listModels);
            r.get("/openapi.json", Console::openApi);
            if (config.console()) {
                Console.register(r);
            }
            r.get("/metrics", ctx -> {
                ctx.contentType("text/plain; version=0.0.4; charset=utf-8");
                ctx.result(metrics.scrape());
            });
            r.exception(Exception.class, (e, ctx) -> {
                Failure f = e instanceof HttpResponseException h ? new Failure(h.getStatus(), h.getMessage(), false)
                        : Failure.of(e);
                if (f.retryAfter()) {
                    ctx.header("Retry-After", "1");
                }
                error(ctx, f.status(), f.message());
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
        return app.port();
    }

    private boolean explicitControl() {
        return config.modelControl() == ServeConfig.ModelControl.EXPLICIT;
    }

    private void serverMetadata(Context ctx) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", "lstmcast");
        body.put("version", Version.get());
        body.put("extensions", config.extensions());
        body.put("model_control_mode", explicitControl() ? "explicit" : "poll");
        json(ctx, body);
    }

    /** An optional JSON object body, as the repository extension's requests have: {} when empty. */
    private static JsonNode optionalObject(Context ctx) throws Exception {
        byte[] bytes = ctx.bodyAsBytes();
        if (new String(bytes, StandardCharsets.UTF_8).isBlank()) {
            return JsonNodeFactory.instance.objectNode();
        }
        JsonNode body = Json.parse(bytes);
        if (!body.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object");
        }
        return body;
    }

    /** Triton's repository index: every version folder, loaded or not; {@code {"ready": true}} keeps the ready ones. */
    private void repositoryIndex(Context ctx) throws Exception {
        JsonNode ready = optionalObject(ctx).path("ready");
        if (!ready.isMissingNode() && !ready.isBoolean()) {
            throw ApiException.badRequest("'ready' must be true or false, got " + Requests.kind(ready));
        }
        List<Map<String, Object>> index = new ArrayList<>();
        for (ModelRegistry.VersionStatus s : registry.index()) {
            if (ready.asBoolean(false) && !"READY".equals(s.state())) {
                continue;
            }
            Map<String, Object> m = describe(s);
            index.add(m);
        }
        json(ctx, index);
    }

    /** Triton's explicit load and unload; refused while the repository is polled, as Triton refuses them. */
    private void modelControl(Context ctx, boolean load) throws Exception {
        if (!explicitControl()) {
            throw ApiException.badRequest("explicit model load / unload is not allowed if polling is enabled: the "
                    + "repository is polled for changes (--model-control-mode poll); start with --model-control-mode explicit");
        }
        JsonNode parameters = optionalObject(ctx).path("parameters");
        // Triton's load parameters override the model's config or files; taking the disk's instead would mislead.
        if (load && parameters.isObject() && parameters.size() > 0) {
            throw ApiException.badRequest("load parameters (config or file overrides) are not supported; change the "
                    + "files in the repository and load again");
        }
        String name = ctx.pathParam("model");
        if (load) {
            registry.load(name);
        } else {
            registry.unload(name);
        }
        json(ctx, Map.of());
    }

    private void modelMetadata(Context ctx, String version) {
        ModelVersion m = registry.acquire(ctx.pathParam("model"), version);
        try {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", m.name);
            body.put("versions", versionsOf(m.name));
            body.put("platform", "onnx_onnxv1");
            body.put("inputs", InferenceProtocol.describe(m.inputs));
            body.put("outputs", InferenceProtocol.describe(m.outputs));
            Map<String, Object> parameters = new LinkedHashMap<>();
            parameters.put("execution_provider", m.provider);
            parameters.put("version", Long.toString(m.version));
            // Whether an LSTM is in the graph: an lstmcast model that kept an anchor alone says "none: ...".
            String network = m.report.metadata() == null ? null : m.report.metadata().get(ForecastSpec.KEY_NETWORK);
            if (network != null) {
                parameters.put("network", network);
            }
            body.put("parameters", parameters);
            json(ctx, body);
        } finally {
            m.release();
        }
    }

    /** Ready: 200; anything else, unknown or failed or unloading, a 400 with the reason: the protocol's "false". */
    private void modelReady(Context ctx, String version) {
        ModelVersion m;
        try {
            m = registry.acquire(ctx.pathParam("model"), version);
        } catch (ApiException e) {
            throw new ApiException(400, e.getMessage());
        }
        try {
            json(ctx, Map.of("name", m.name, "version", Long.toString(m.version), "ready", true));
        } finally {
            m.release();
        }
    }

    /** A version folder's name, version, state and the reason when it does not serve. */
    private static Map<String, Object> describe(ModelRegistry.VersionStatus s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("version", Long.toString(s.version()));
        m.put("state", s.state());
        if (s.reason() != null) {
            m.put("reason", s.reason());
        }
        return m;
    }

    private void listModels(Context ctx) {
        List<Map<String, Object>> models = new ArrayList<>();
        for (ModelRegistry.VersionStatus s : registry.statuses()) {
            Map<String, Object> m = describe(s);
            ModelVersion v = s.loaded();
            if (v != null) {
                m.put("execution_provider", v.provider);
                m.put("inputs", InferenceProtocol.describe(v.inputs));
                m.put("outputs", InferenceProtocol.describe(v.outputs));
                if (v.spec != null) {
                    Map<String, Object> f = new LinkedHashMap<>();
                    f.put("lookback", v.spec.lookback());
                    f.put("horizon", v.spec.horizon());
                    f.put("features", v.spec.features());
                    f.put("target", v.spec.target());
                    f.put("transform", v.spec.transform());
                    f.put("layout", v.spec.timeMajor() ? "time_major" : "batch_major");
                    f.put("interval_levels", v.intervals == null ? new int[0] : v.intervals.levels());
                    m.put("forecast", f);
                } else {
                    m.put("forecast", null);
                    m.put("forecast_unavailable", v.notForecasting);
                }
                m.put("lineage", lineage(v.report.metadata()));
                if (v.warmup != null) {
                    m.put("warmup", Map.of("batch_sizes", v.warmup.batchSizes(), "ms", v.warmup.millis()));
                } else {
                    m.put("warmup", null);
                }
                VersionMeters.Live live = v.meters.live();
                Map<String, Object> l = new LinkedHashMap<>();
                l.put("requests_per_second", live.requestsPerSecond());
                l.put("latency_p50_ms", live.p50Ms());
                l.put("latency_p99_ms", live.p99Ms());
                l.put("mean_batch_size", live.meanBatchSize());
                l.put("queue_depth", live.queueDepth());
                m.put("live", l);
                VersionMeters.GivenUp g = v.meters.givenUp();
                Map<String, Object> w = new LinkedHashMap<>();
                w.put("cancelled", g.cancelled());
                w.put("expired", g.expired());
                m.put("requests_withdrawn", w);
                m.put("runs_terminated", g.runsTerminated());
            }
            models.add(m);
        }
        json(ctx, Map.of("models", models));
    }

    /** Where a model came from, as its metadata says: only the keys it has; test metrics as JSON. */
    private static Map<String, Object> lineage(Map<String, String> metadata) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (metadata == null) {
            return out;
        }
        for (String key : List.of("data_source", "data_sha256", "created", "lstmcast_version", "converted_from",
                "season", "time_column", ForecastSpec.KEY_NETWORK, "fitted_on", "test_metrics")) {
            String value = metadata.get(key);
            if (value == null || value.isBlank()) {
                continue;
            }
            if (key.equals("test_metrics")) {
                try {
                    out.put(key, Json.parse(value.getBytes(StandardCharsets.UTF_8)));
                } catch (IOException | RuntimeException e) {
                    out.put(key, value);
                }
            } else {
                out.put(key, value);
            }
        }
        return out;
    }

    /**
     * Every route served, as {@code "METHOD /path"} with Javalin's {@code {param}} names: Javalin's own routes and the
     * forecast routes handled in front of it.
     */
    public List<String> routes() {
        List<String> out = new ArrayList<>();
        for (io.javalin.router.ParsedEndpoint e : app.unsafe.internalRouter.allHttpHandlers()) {
            String method = e.endpoint.method.name();
            if (!method.equals("BEFORE") && !method.equals("AFTER") && !method.equals("BEFORE_MATCHED")
                    && !method.equals("AFTER_MATCHED") && !method.equals("INVALID")) {
                out.add(method + " " + e.endpoint.path);
            }
        }
        out.addAll(ForecastEndpoint.ROUTES);
        return out;
    }

    private List<String> versionsOf(String name) {
        return registry.statuses().stream().filter(s -> s.name().equals(name) && s.loaded() != null)
                .map(s -> Long.toString(s.version())).toList();
    }

    private static void json(Context ctx, Object body) {
        ctx.contentType("application/json");
        ctx.result(Json.bytes(body));
    }

    private static void error(Context ctx, int status, String message) {
        ctx.status(status);
        ctx.contentType("application/json");
        ctx.result(Json.error(message));
    }

    /** Stops accepting and lets requests in flight finish. */
    @Override
    public void close() {
        if (app != null) {
            app.stop();
        }
    }
}
