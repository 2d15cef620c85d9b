package org.lstmcast.serve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.export.SmallExport;
import org.lstmcast.forecast.Ort;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.ServeFixtures;

/**
 * Prediction intervals on the forecast API: from a model trained here (its ONNX file carries them), and from a model
 * without any whose forecast.json supplies them. The API's bounds are checked against the graph's own outputs,
 * fetched through the inference protocol, and against a hand computation from forecast.json.
 */
class IntervalsApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir
    static Path tmp;
    static InferenceServer server;
    static String base;
    static double[] window = new double[12];

    @BeforeAll
    static void start() throws Exception {
        Path repo = tmp.resolve("repo");
        SmallExport.write(tmp, repo.resolve("trained/1/model.onnx"));
        ServeFixtures.copy(Path.of("src/test/resources/fixtures/dax_lstm.onnx"), repo.resolve("plain/1/model.onnx"));
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("supplied/1/model.onnx"));
        Files.writeString(repo.resolve("supplied/forecast.json"), "{\"intervals\": {\"levels\": [50, 90], \"space\": "
                + "\"absolute\", \"half_width\": [[10, 40], [20, 60], [30, 80], [40, 90], [50, 100]]}}");
        for (int i = 0; i < window.length; i++) {
            window[i] = 100 + 2 * i;
        }
        server = new InferenceServer(ServeConfig.defaults(repo).withPort(0).withGrpc(ServeConfig.Grpc.off()));
        base = "http://127.0.0.1:" + server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String values(double[] w) {
        StringBuilder b = new StringBuilder();
        for (double v : w) {
            b.append(b.length() == 0 ? "" : ",").append(v);
        }
        return b.toString();
    }

    @Test
    void aTrainedModelsIntervalsEqualItsGraphsOwnOutputs() throws Exception {
        HttpResponse<String> r = post("/v1/models/trained/forecast", "{\"inputs\": [[" + values(window) + "]], \"intervals\": [95, 80]}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode a = JSON.readTree(r.body());
        assertEquals("[95,80]", a.path("levels").toString());
        // The graph's outputs for the same window, through the inference protocol.
        StringBuilder data = new StringBuilder();
        for (double v : window) {
            data.append(data.length() == 0 ? "" : ",").append((float) v);
        }
        double runsBefore = runs("trained");
        HttpResponse<String> infer = post("/v2/models/trained/infer", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 12, 1], "
                + "\"datatype\": \"FP32\", \"data\": [" + data + "]}], \"outputs\": [{\"name\": \"forecast_lower\"}, "
                + "{\"name\": \"forecast_upper\"}, {\"name\": \"forecast\"}]}");
        assertEquals(200, infer.statusCode(), infer.body());
        assertEquals(runsBefore + 1, runs("trained"), "the protocol's call on an interval model joins the batcher");
        JsonNode outputs = JSON.readTree(infer.body()).path("outputs");
        JsonNode lower = null;
        JsonNode upper = null;
        JsonNode forecast = null;
        for (JsonNode o : outputs) {
            switch (o.path("name").asText()) {
                case "forecast_lower" -> lower = o;
                case "forecast_upper" -> upper = o;
                case "forecast" -> forecast = o;
                default -> throw new AssertionError(o.toString());
            }
        }
        assertEquals("[1,3,2]", lower.path("shape").toString());
        // The graph itself, run here by ONNX Runtime: the server answers the protocol's call from its batcher, with
        // the interval outputs computed from the batched forecast, and must give the graph's numbers.
        float[][][] graphLower;
        float[][][] graphUpper;
        float[][] graphForecast;
        try (OrtSession session = Ort.environment().createSession(
                tmp.resolve("repo/trained/1/model.onnx").toString());
             OnnxTensor in = OnnxTensor.createTensor(Ort.environment(),
                     new float[][][] {Arrays.stream(window).mapToObj(v -> new float[] {(float) v}).toArray(float[][]::new)});
             OrtSession.Result out = session.run(Map.of("input", in))) {
            graphForecast = (float[][]) out.get("forecast").orElseThrow().getValue();
            graphLower = (float[][][]) out.get("forecast_lower").orElseThrow().getValue();
            graphUpper = (float[][][]) out.get("forecast_upper").orElseThrow().getValue();
        }
        for (int h = 0; h < 3; h++) {
            assertEquals(graphForecast[0][h], forecast.path("data").get(h).floatValue());
            assertEquals(graphForecast[0][h], a.path("forecasts").get(0).get(h).floatValue());
            for (int l = 0; l < 2; l++) {
                assertEquals(graphLower[0][h][l], lower.path("data").get(h * 2 + l).floatValue(), "infer lower " + h + " " + l);
                assertEquals(graphUpper[0][h][l], upper.path("data").get(h * 2 + l).floatValue(), "infer upper " + h + " " + l);
            }
            // levels asked [95, 80]; the graph's are [80, 95]
            for (int l = 0; l < 2; l++) {
                int g = 1 - l;
                assertEquals(graphLower[0][h][g], a.path("lower").get(0).get(h).get(l).floatValue(), "lower step " + h + " level " + l);
                assertEquals(graphUpper[0][h][g], a.path("upper").get(0).get(h).get(l).floatValue(), "upper step " + h + " level " + l);
            }
            float f = a.path("forecasts").get(0).get(h).floatValue();
            assertTrue(a.path("lower").get(0).get(h).get(0).floatValue() < a.path("lower").get(0).get(h).get(1).floatValue());
            assertTrue(a.path("lower").get(0).get(h).get(1).floatValue() < f && f < a.path("upper").get(0).get(h).get(1).floatValue());
        }
        // Without the field, the answer is as before.
        JsonNode plain = JSON.readTree(post("/v1/models/trained/forecast", "{\"inputs\": [[" + values(window) + "]]}").body());
        assertFalse(plain.has("lower"));
    }

    @Test
    void forecastJsonSuppliesIntervalsToAModelThatHasNone() throws Exception {
        double[] w = new double[30];
        for (int i = 0; i < w.length; i++) {
            w[i] = 5000 + 10 * i;
        }
        JsonNode a = JSON.readTree(post("/v1/models/supplied/forecast", "{\"inputs\": [[" + values(w) + "]], \"intervals\": [90]}").body());
        for (int h = 0; h < 5; h++) {
            float f = a.path("forecasts").get(0).get(h).floatValue();
            float width = new float[] {40, 60, 80, 90, 100}[h];
            assertEquals(f - width, a.path("lower").get(0).get(h).get(0).floatValue());
            assertEquals(f + width, a.path("upper").get(0).get(h).get(0).floatValue());
        }
    }

    @Test
    void askingForIntervalsThatAreNotThereIsTheClientsMistake() throws Exception {
        String in = "{\"inputs\": [[" + values(window) + "]], ";
        assertError(post("/v1/models/trained/forecast", in + "\"intervals\": [90]}"), "has levels [80, 95]");
        assertError(post("/v1/models/trained/forecast", in + "\"intervals\": [\"80\"]}"), "intervals[0] is the string \"80\"");
        assertError(post("/v1/models/trained/forecast", in + "\"intervals\": 80}"), "must be an array");
        double[] w = new double[30];
        Arrays.fill(w, 5000);
        assertError(post("/v1/models/plain/forecast", "{\"inputs\": [[" + values(w) + "]], \"intervals\": [80]}"),
                "has no calibrated prediction intervals");
        // Rolled forward without intervals is still fine.
        assertEquals(200, post("/v1/models/trained/forecast", in + "\"horizon\": 7}").statusCode());
    }

    @Test
    void pastTheModelsHorizonTheBandWidensAsARandomWalkAndIsMarkedExtrapolated() throws Exception {
        double[] w = new double[30];
        for (int i = 0; i < w.length; i++) {
            w[i] = 5000 + 10 * i;
        }
        HttpResponse<String> r = post("/v1/models/supplied/forecast", "{\"inputs\": [[" + values(w) + "]], \"horizon\": 8, "
                + "\"intervals\": [50, 90]}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode a = JSON.readTree(r.body());
        assertEquals(6, a.path("intervals_extrapolated_from").asInt(), r.body());
        // forecast.json's half-widths: step 5 is [50, 100]; step h > 5 widens them by sqrt(h / 5).
        double[][] calibrated = {{10, 40}, {20, 60}, {30, 80}, {40, 90}, {50, 100}};
        for (int h = 0; h < 8; h++) {
            float f = a.path("forecasts").get(0).get(h).floatValue();
            for (int l = 0; l < 2; l++) {
                double width = h < 5 ? calibrated[h][l] : calibrated[4][l] * Math.sqrt((h + 1) / 5.0);
                assertEquals(f - (float) width, a.path("lower").get(0).get(h).get(l).floatValue(), 1e-3, "step " + (h + 1));
                assertEquals(f + (float) width, a.path("upper").get(0).get(h).get(l).floatValue(), 1e-3, "step " + (h + 1));
            }
        }
        // Within the horizon nothing is extrapolated, and the answer does not say otherwise.
        JsonNode within = JSON.readTree(post("/v1/models/supplied/forecast", "{\"inputs\": [[" + values(w) + "]], "
                + "\"horizon\": 5, \"intervals\": [90]}").body());
        assertFalse(within.has("intervals_extrapolated_from"), within.toString());
        // The trained model (relative intervals, horizon 3): step 4 is f times step 3's relative half-width times sqrt(4/3).
        HttpResponse<String> trained = post("/v1/models/trained/forecast", "{\"inputs\": [[" + values(window) + "]], "
                + "\"horizon\": 4, \"intervals\": [80]}");
        assertEquals(200, trained.statusCode(), trained.body());
        JsonNode t = JSON.readTree(trained.body());
        assertEquals(4, t.path("intervals_extrapolated_from").asInt());
        double f3 = t.path("forecasts").get(0).get(2).floatValue();
        double f4 = t.path("forecasts").get(0).get(3).floatValue();
        double rel3 = (t.path("upper").get(0).get(2).get(0).floatValue() - f3) / Math.abs(f3);
        double half4 = t.path("upper").get(0).get(3).get(0).floatValue() - f4;
        assertEquals(rel3 * Math.abs(f4) * Math.sqrt(4 / 3.0), half4, 1e-3 * Math.abs(half4) + 1e-3);
        assertEquals(half4, f4 - t.path("lower").get(0).get(3).get(0).floatValue(), 1e-3 * Math.abs(half4) + 1e-3);
    }

    /** Model runs made by the batcher, from the server's own metrics. */
    private static double runs(String model) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return ServeFixtures.metric(text, "lstmcast_batch_size_count", model);
    }

    private static void assertError(HttpResponse<String> r, String contains) throws Exception {
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(JSON.readTree(r.body()).path("error").asText().contains(contains), r.body());
    }
}
