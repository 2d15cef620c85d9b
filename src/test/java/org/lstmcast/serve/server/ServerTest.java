package org.lstmcast.serve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lstmcast.serve.ServeFixtures.assertError;
import static org.lstmcast.serve.ServeFixtures.awaitTrue;
import static org.lstmcast.serve.ServeFixtures.copy;
import static org.lstmcast.serve.ServeFixtures.deleteTree;
import static org.lstmcast.serve.ServeFixtures.find;
import static org.lstmcast.serve.ServeFixtures.fixture;
import static org.lstmcast.serve.ServeFixtures.metric;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.bench.Benchmarks;
import org.lstmcast.bench.HttpLoad;
import org.lstmcast.data.CsvReader;
import org.lstmcast.data.Windows;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.serve.ServeConfig;

/** The real server on a loopback port, called over HTTP. */
class ServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path repo;
    static InferenceServer server;
    static String base;
    static double[][] dax;

    @BeforeAll
    static void start() throws Exception {
        copy(Path.of("models/dax/1/model.onnx"), repo.resolve("dax/1/model.onnx"));
        copy(Path.of("models/co2/1/model.onnx"), repo.resolve("co2/1/model.onnx"));
        copy(fixture("helper_dense.onnx"), repo.resolve("dense/1/model.onnx"));
        copy(fixture("helper_time_major.onnx"), repo.resolve("timemajor/1/model.onnx"));
        ServeConfig c = ServeConfig.defaults(repo);
        server = new InferenceServer(new ServeConfig(repo, "127.0.0.1", 0, "cpu", 64, 2000, 64, 2, 0.2,
                new ServeConfig.Limits(1 << 20, 4096, 100_000, 1000, 256, 30_000), null));
        base = "http://127.0.0.1:" + server.start();
        dax = CsvReader.read(Path.of("data/eustockmarkets_daily.csv"), List.of("DAX"), null).values();
        assertEquals(16L << 20, c.limits().maxBodyBytes());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void anAnswerSentBeforeTheBodyIsReadSaysTheConnectionCloses() throws IOException {
        URI u = URI.create(base);
        // A megabyte declared, ten bytes sent: the answer goes out with the body unread, and Jetty will close.
        for (String request : List.of("PUT /v1/models/dax/forecast 405", "GET /v1/models/dax/forecast 405",
                "GET /v2/models/dax 200", "DELETE /v2/models/dax 405")) {
            String[] r = request.split(" ");
            try (Socket s = new Socket(u.getHost(), u.getPort())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write((r[0] + " " + r[1] + " HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"inputs\"")
                        .getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                String head = responseHead(s.getInputStream());
                assertTrue(head.startsWith("HTTP/1.1 " + r[2]), request + ": " + head);
                assertTrue(head.toLowerCase(Locale.ROOT).contains("\r\nconnection: close\r\n"), request + ": " + head);
            }
        }
        // No body at all, as a GET usually comes (no Content-Length, no Transfer-Encoding), leaves it open too.
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET /v2/models/dax HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            String head = responseHead(s.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertFalse(head.toLowerCase(Locale.ROOT).contains("connection: close"), head);
        }
        // A body that was read leaves the connection open.
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(10_000);
            String body = "{\"inputs\": [[1]]}";
            s.getOutputStream().write(("POST /v1/models/dax/forecast HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            String head = responseHead(s.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 400"), head);
            assertFalse(head.toLowerCase(Locale.ROOT).contains("connection: close"), head);
        }
    }

    /** The status line and headers of one HTTP/1.1 response, read byte by byte up to the blank line. */
    private static String responseHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (!sb.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    @Test
    void healthAndMetadata() throws Exception {
        assertEquals(200, get("/v2/health/live").statusCode());
        assertEquals(200, get("/v2/health/ready").statusCode());
        JsonNode server = json(get("/v2"));
        assertEquals("lstmcast", server.path("name").asText());
        JsonNode meta = json(get("/v2/models/dax"));
        assertEquals("onnx_onnxv1", meta.path("platform").asText());
        assertEquals("input", meta.path("inputs").get(0).path("name").asText());
        assertEquals("[-1,-1,1]", meta.path("inputs").get(0).path("shape").toString());
        assertEquals("FP32", meta.path("outputs").get(0).path("datatype").asText());
        assertEquals("CPUExecutionProvider", meta.path("parameters").path("execution_provider").asText());
        // Whether a network is in the graph: the bundled DAX kept drift alone, the CO2 five networks.
        assertTrue(meta.path("parameters").path("network").asText().startsWith("none: drift"), meta.toString());
        assertEquals("5 LSTM networks on seasonal-mean",
                json(get("/v2/models/co2")).path("parameters").path("network").asText());
        assertEquals("5 LSTM networks on seasonal-mean", json(get("/v1/models")).path("models").findValues("lineage")
                .stream().map(l -> l.path("network").asText()).filter(n -> n.contains("LSTM")).findFirst().orElse(""));
        assertTrue(json(get("/v2/models/dense")).path("parameters").path("network").isMissingNode(),
                "a model without lstmcast's metadata claims nothing");
        assertEquals(200, get("/v2/models/dax/versions/1").statusCode());
        assertEquals(200, get("/v2/models/dax/ready").statusCode());
        // Not ready, for whatever reason, is a 400: the protocol's "false", as Triton answers it.
        assertEquals(400, get("/v2/models/dax/versions/7/ready").statusCode());
        JsonNode list = json(get("/v1/models"));
        assertTrue(list.path("models").size() >= 3, list.toString());
        JsonNode dense = find(list, "dense", "1");
        assertEquals("READY", dense.path("state").asText());
        assertTrue(dense.path("forecast").isNull(), "a dense model is served raw, not as a forecaster");
    }

    @Test
    void forecastsEqualTheModelsOwnOnnxRuntimeResults() throws Exception {
        List<double[][]> windows = new ArrayList<>();
        StringBuilder body = new StringBuilder("{\"inputs\": [");
        for (int origin = 200; origin < 1860; origin += 331) {
            double[][] w = Windows.window(dax, origin, 40);
            windows.add(w);
            body.append(windows.size() > 1 ? "," : "").append('[');
            for (int r = 0; r < w.length; r++) {
                body.append(r > 0 ? "," : "").append(w[r][0]);
            }
            body.append(']');
        }
        body.append("], \"horizon\": 12}");
        HttpResponse<String> r = post("/v1/models/dax/forecast", body.toString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode answer = json(r);
        assertEquals("dax", answer.path("model_name").asText());
        assertEquals("1", answer.path("model_version").asText());
        try (OnnxForecaster direct = OnnxForecaster.open(Path.of("models/dax/1/model.onnx"))) {
            double[][] expected = direct.forecast(windows, 12);
            for (int i = 0; i < windows.size(); i++) {
                for (int h = 0; h < 12; h++) {
                    assertEquals((float) expected[i][h], answer.path("forecasts").get(i).get(h).floatValue(), 0f,
                            "window " + i + " step " + h);
                }
            }
        }
    }

    @Test
    void inferenceProtocolTakesNestedOrFlatDataAndCoercesTypes() throws Exception {
        double[][] w = Windows.window(dax, 999, 30);
        StringBuilder nested = new StringBuilder();
        StringBuilder flat = new StringBuilder();
        for (int r = 0; r < 30; r++) {
            nested.append(r > 0 ? "," : "").append('[').append(w[r][0]).append(']');
            flat.append(r > 0 ? "," : "").append(w[r][0]);
        }
        String a = "{\"id\": \"req-7\", \"inputs\": [{\"name\": \"input\", \"shape\": [1, 30, 1], \"datatype\": \"FP32\", "
                + "\"data\": [[" + nested + "]]}], \"outputs\": [{\"name\": \"forecast\"}]}";
        String b = "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 30, 1], \"datatype\": \"FP64\", \"data\": [" + flat + "]}]}";
        JsonNode ra = json(post("/v2/models/dax/infer", a));
        JsonNode rb = json(post("/v2/models/dax/versions/1/infer", b));
        assertEquals("req-7", ra.path("id").asText());
        assertEquals("[1,5]", ra.path("outputs").get(0).path("shape").toString());
        assertEquals(ra.path("outputs").get(0).path("data"), rb.path("outputs").get(0).path("data"));
        JsonNode viaForecast = json(post("/v1/models/dax/forecast", "{\"inputs\": [[" + flat + "]]}"));
        for (int h = 0; h < 5; h++) {
            assertEquals(viaForecast.path("forecasts").get(0).get(h).floatValue(),
                    ra.path("outputs").get(0).path("data").get(h).floatValue(), 0f);
        }
        // Any float model can be called raw: the dense fixture computes 0.5a - b + 2c + 0.25d + 0.1.
        JsonNode dense = json(post("/v2/models/dense/infer",
                "{\"inputs\": [{\"name\": \"features\", \"shape\": [2, 4], \"datatype\": \"INT32\", \"data\": [1, 2, 3, 4, 0, 0, 0, 0]}]}"));
        assertEquals(0.5 - 2 + 6 + 1 + 0.1, dense.path("outputs").get(0).path("data").get(0).asDouble(), 1e-5);
        assertEquals(0.1, dense.path("outputs").get(0).path("data").get(1).asDouble(), 1e-6);
    }

    @Test
    void clientMistakesAre4xxWithAnErrorMessage() throws Exception {
        String window = "[" + String.join(",", Collections.nCopies(30, "5000")) + "]";
        assertError(post("/v1/models/dax/forecast", "{not json"), 400, "malformed JSON");
        assertError(post("/v1/models/dax/forecast", ""), 400, "empty body");
        assertError(post("/v1/models/dax/forecast", "[1, 2]"), 400, "JSON object");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": []}"), 400, "non-empty");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [[1, 2, 3]]}"), 400, "at least 30");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [" + window.replace("5000]", "\"x\"]") + "]}"), 400, "must be a number");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [" + window.replace("5000]", "NaN]") + "]}"), 400, "malformed JSON");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [" + window.replace("5000]", "1e999]") + "]}"), 400, "out of range");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [" + window + "], \"horizon\": 0}"), 400, "horizon");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [" + window + "], \"horizon\": 1000000}"), 400, "horizon");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [" + window + "], \"horizon\": 2.5}"), 400, "whole number");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [" + window.replace("5000]", "[1, 2]]") + "]}"), 400, "feature");
        assertError(post("/v1/models/dense/forecast", "{\"inputs\": [" + window + "]}"), 400, "not a forecaster");
        assertError(post("/v2/models/dax/infer", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 30, 2], "
                + "\"datatype\": \"FP32\", \"data\": []}]}"), 400, "shape");
        assertError(post("/v2/models/dax/infer", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 30, 1], "
                + "\"datatype\": \"FP32\", \"data\": [1, 2]}]}"), 400, "needs 30");
        assertError(post("/v2/models/dax/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", "
                + "\"data\": [1]}]}"), 400, "unknown input");
        assertError(post("/v2/models/dax/infer", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 1, 1], "
                + "\"datatype\": \"BYTES\", \"data\": [\"a\"]}]}"), 400, "BYTES");
        assertError(post("/v1/models/nope/forecast", "{}"), 404, "unknown model");
        assertError(post("/v1/models/dax/versions/9/forecast", "{}"), 404, "unknown version");
        assertError(post("/v1/models/..%2F..%2Fetc/forecast", "{}"), 404, "");
        assertError(get("/v2/models/dax/versions/01"), 404, "unknown version");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [[" + "1,".repeat(600_000) + "1]]}"), 413, "limit");
        // Without a Content-Length (chunked), the limit is enforced while reading.
        byte[] big = ("{\"inputs\": [[" + "1,".repeat(600_000) + "1]]}").getBytes(StandardCharsets.UTF_8);
        assertError(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/dax/forecast"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build(),
                HttpResponse.BodyHandlers.ofString()), 413, "limit");
        HttpResponse<String> getForecast = get("/v1/models/dax/forecast");
        assertError(getForecast, 405, "not allowed");
        assertEquals("POST", getForecast.headers().firstValue("Allow").orElse(""));
        assertError(post("/v1/models/dax/forecast", ""), 400, "empty body");
        assertError(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).DELETE().build(),
                HttpResponse.BodyHandlers.ofString()), 405, "not allowed");
        assertError(get("/v3/nothing"), 404, "");
        StringBuilder deep = new StringBuilder();
        deep.append("[".repeat(5000)).append("]".repeat(5000));
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": " + deep + "}"), 400, "malformed JSON");
    }

    @Test
    void largeRequestsGiveTheSameForecastsAsSmallOnes() throws Exception {
        // 600 windows of 30 steps: a body over 64 KiB and an answer of 24,000 values, both handled off the I/O thread.
        Random random = new Random(5);
        List<String> windows = new ArrayList<>();
        for (int w = 0; w < 600; w++) {
            List<String> steps = new ArrayList<>();
            double level = 4000 + random.nextInt(2000);
            for (int t = 0; t < 30; t++) {
                level += random.nextGaussian() * 20;
                steps.add(String.format(Locale.ROOT, "%.3f", level));
            }
            windows.add("[" + String.join(",", steps) + "]");
        }
        String body = "{\"inputs\": [" + String.join(",", windows) + "], \"horizon\": 40}";
        assertTrue(body.length() > 64 << 10, "body of " + body.length() + " bytes");
        HttpResponse<String> big = post("/v1/models/dax/forecast", body);
        assertEquals(200, big.statusCode(), big.body());
        JsonNode all = JSON.readTree(big.body()).get("forecasts");
        assertEquals(600, all.size());
        for (int w : new int[] {0, 299, 599}) {
            HttpResponse<String> one = post("/v1/models/dax/forecast", "{\"inputs\": [" + windows.get(w) + "], \"horizon\": 40}");
            JsonNode alone = JSON.readTree(one.body()).get("forecasts").get(0);
            assertEquals(40, all.get(w).size());
            for (int h = 0; h < 40; h++) {
                // A batch of 600 may sum in another order than a batch of 1: equal to float32 rounding, not bit for bit.
                double a = all.get(w).get(h).asDouble();
                double b = alone.get(h).asDouble();
                assertEquals(b, a, 1e-5 * Math.abs(b), "window " + w + " step " + h);
            }
        }
    }

    @Test
    void concurrentRequestsAreBatchedTogether() throws Exception {
        String window = "[" + String.join(",", Collections.nCopies(30, "4000.5")) + "]";
        double before = batchStats("co2")[1];
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < 320; i++) {
                calls.add(pool.submit(() -> post("/v1/models/co2/forecast", "{\"inputs\": [" + window + "]}").statusCode()));
            }
            for (Future<Integer> f : calls) {
                assertEquals(200, f.get());
            }
        } finally {
            pool.shutdown();
        }
        double[] stats = batchStats("co2");
        double runs = stats[1] - before;
        assertTrue(runs > 0 && runs < 320, "320 requests took " + runs + " model runs");
        assertTrue(stats[0] / stats[1] > 1.5, "mean batch size " + stats[0] / stats[1]);
    }

    @Test
    void repositoryChangesTakeEffectWhileServing() throws Exception {
        Path model = repo.resolve("hot/1/model.onnx");
        copy(Path.of("models/dax/1/model.onnx"), model);
        awaitTrue(() -> status("/v2/models/hot/ready") == 200, "a new model is picked up");
        String window = "{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "100")) + "]]}";
        assertEquals("1", json(post("/v1/models/hot/forecast", window)).path("model_version").asText());

        // A new version takes over as the default.
        copy(Path.of("models/co2/1/model.onnx"), repo.resolve("hot/2/model.onnx"));
        awaitTrue(() -> status("/v2/models/hot/versions/2/ready") == 200, "version 2 loads");
        assertEquals("2", json(post("/v1/models/hot/forecast", window)).path("model_version").asText());

        // A broken version 3 is reported and version 2 keeps serving.
        Files.createDirectories(repo.resolve("hot/3"));
        Files.write(repo.resolve("hot/3/model.onnx"), Files.readAllBytes(fixture("truncated.onnx")));
        awaitTrue(() -> find(jsonQuiet("/v1/models"), "hot", "3") != null, "the failure is listed");
        JsonNode failed = find(json(get("/v1/models")), "hot", "3");
        assertEquals("FAILED", failed.path("state").asText());
        assertTrue(failed.path("reason").asText().contains("not an ONNX model"), failed.toString());
        assertEquals("2", json(post("/v1/models/hot/forecast", window)).path("model_version").asText());
        assertEquals(503, post("/v1/models/hot/versions/3/forecast", window).statusCode());

        // Fixed in place (the rest of the copy arrives): retried and served.
        Files.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("hot/3/model.onnx"), StandardCopyOption.REPLACE_EXISTING);
        awaitTrue(() -> status("/v2/models/hot/versions/3/ready") == 200, "the repaired file loads");

        // Removed: gone from the API.
        deleteTree(repo.resolve("hot"));
        awaitTrue(() -> status("/v2/models/hot") == 404, "a removed model is unloaded");
        assertError(post("/v1/models/hot/forecast", window), 404, "unknown model");
        assertEquals(200, post("/v1/models/dax/forecast", window).statusCode(), "others unaffected");
    }

    @Test
    void pytorchModelDroppedInServesWithoutAnyOtherFile() throws Exception {
        JsonNode ref = JSON.readTree(fixture("torch_lstm_univariate.expected.json").toFile());
        copy(fixture("torch_lstm_univariate.onnx"), repo.resolve("torch/1/model.onnx"));
        awaitTrue(() -> status("/v2/models/torch/ready") == 200, "the PyTorch export loads");
        String body = "{\"inputs\": " + ref.get("windows").toString() + "}";
        JsonNode r = json(post("/v1/models/torch/forecast", body));
        for (int b = 0; b < ref.get("expected").size(); b++) {
            for (int h = 0; h < 3; h++) {
                double want = ref.get("expected").get(b).get(h).asDouble();
                assertEquals(want, r.path("forecasts").get(b).get(h).asDouble(), 1e-4 * Math.max(1, Math.abs(want)));
            }
        }
        JsonNode raw = json(post("/v2/models/torch/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\": [5, 30, 1], "
                + "\"datatype\": \"FP32\", \"data\": " + ref.get("windows") + "}]}"));
        assertEquals(ref.get("expected").get(4).get(2).asDouble(), raw.path("outputs").get(0).path("data").get(14).asDouble(), 1e-3);
    }

    @Test
    void aRequestLargerThanTheQueueIsAnswered400() throws Exception {
        Path dir = repo.resolve("tiny");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{\"max_batch_size\": 1, \"max_queue\": 1}");
        copy(Path.of("models/dax/1/model.onnx"), dir.resolve("1/model.onnx"));
        awaitTrue(() -> status("/v2/models/tiny/ready") == 200, "tiny loads");
        String window = "[" + String.join(",", Collections.nCopies(30, "100")) + "]";
        String many = "{\"inputs\": [" + String.join(",", Collections.nCopies(200, window)) + "]}";
        // More batches than the queue could ever hold is the request's fault; a queue filled by others is a 503 with
        // Retry-After, exercised under load in FaultsIT.
        HttpResponse<String> r = post("/v1/models/tiny/forecast", many);
        assertError(r, 400, "more than the model's queue holds");
        assertEquals(200, post("/v1/models/tiny/forecast", "{\"inputs\": [" + window + "]}").statusCode(), "recovers");
    }

    @Test
    void forecastJsonScalesTheInputsOfAModelFromElsewhere() throws Exception {
        Path dir = repo.resolve("scaled");
        Files.createDirectories(dir);
        // The PyTorch model was "trained" on values scaled to [0, 1] over 50..150: the server scales in and out.
        Files.writeString(dir.resolve("forecast.json"),
                "{\"lookback\": 30, \"scaling\": {\"min\": [50], \"max\": [150]}, \"target_index\": 0}");
        copy(fixture("torch_lstm_univariate.onnx"), dir.resolve("1/model.onnx"));
        awaitTrue(() -> status("/v2/models/scaled/ready") == 200, "the scaled model loads");
        StringBuilder raw = new StringBuilder();
        StringBuilder scaled = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            double v = 100 + 10 * Math.sin(i / 3.0);
            raw.append(i > 0 ? "," : "").append(v);
            if (i >= 10) {
                scaled.append(i > 10 ? "," : "").append((v - 50) / 100);
            }
        }
        JsonNode served = json(post("/v1/models/scaled/forecast", "{\"inputs\": [[" + raw + "]]}"));
        JsonNode direct = json(post("/v2/models/scaled/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 30, 1], "
                + "\"datatype\": \"FP64\", \"data\": [" + scaled + "]}]}"));
        for (int h = 0; h < 3; h++) {
            double expected = direct.path("outputs").get(0).path("data").get(h).asDouble() * 100 + 50;
            assertEquals(expected, served.path("forecasts").get(0).get(h).asDouble(), 1e-3, "step " + h);
        }
    }

    @Test
    void benchLoadGeneratorCountsAnswersAndMeanBatch() throws Exception {
        URI url = URI.create(base + "/v1/models/co2/forecast");
        byte[] body = Benchmarks.body(3, 30).getBytes(StandardCharsets.UTF_8);
        double[] before = Benchmarks.batchTotals(URI.create(base), "co2");
        HttpLoad.Result r = HttpLoad.run(url, body, 4, 200, 1000);
        double[] after = Benchmarks.batchTotals(URI.create(base), "co2");
        assertTrue(r.requests() > 0, "requests were answered");
        assertEquals(0, r.non2xx());
        assertEquals(0, r.errors());
        assertTrue(r.p50() <= r.p99() && r.p99() <= r.max());
        // every request carried 3 windows, so the server ran at least 3 windows per batch on average
        assertTrue((after[0] - before[0]) / (after[1] - before[1]) >= 3, "mean batch");
        HttpLoad.Result bad = HttpLoad.run(
                URI.create(base + "/v1/models/nope/forecast"), body, 1, 0, 300);
        assertEquals(bad.requests(), bad.non2xx(), "404s are counted as non-2xx");
        assertTrue(r.problems().isEmpty() && !r.failed(), r.problems().toString());
        assertTrue(bad.failed(), "a run of 404s is a failed run");
        assertEquals(1, bad.problems().size(), bad.problems().toString());
        HttpLoad.Problem notFound = bad.problems().get(0);
        assertEquals("HTTP 404", notFound.what());
        // every 404 is counted, including any whose answer came after the measured second ended
        assertTrue(notFound.count() >= bad.non2xx() && notFound.count() <= bad.non2xx() + 1, notFound + " vs " + bad);
        assertTrue(notFound.example().contains("nope"), "the server's reason is kept: " + notFound.example());
    }

    @Test
    void benchLoadGeneratorCountsConnectionFailuresWithTheirReason() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        byte[] body = Benchmarks.body(1, 30).getBytes(StandardCharsets.UTF_8);
        HttpLoad.Result r = HttpLoad.run(
                URI.create("http://127.0.0.1:" + closed + "/v1/models/co2/forecast"), body, 2, 0, 300);
        assertEquals(0, r.requests());
        assertTrue(r.errors() > 0 && r.failed(), r.toString());
        HttpLoad.Problem refused = r.problems().get(0);
        assertEquals("ConnectException", refused.what());
        assertEquals(r.errors(), refused.count());
        assertTrue(refused.example().contains("refused"), refused.example());
        // nothing listens: the clients back off instead of spinning through connection attempts
        assertTrue(r.errors() < 200, "connection attempts in 0.3 s by 2 clients: " + r.errors());
    }

    @Test
    void shapesOnnxRuntimeCannotRunAreRefusedBeforeItWithTheShapes() throws Exception {
        String[][] cases = {
            // shape, data, what the message must name
            {"[0, 30, 1]", "[]", "[0, 30, 1]"},
            {"[1, 0, 1]", "[]", "[1, 0, 1]"},
            {"[1, 30, 0]", "[]", "[1, 30, 0]"},
            {"[-1, 30, 1]", "[1]", "[-1, 30, 1]"},
            {"[1, 30]", "[" + String.join(",", Collections.nCopies(30, "1")) + "]", "[1, 30]"},
            {"[1, 30, 1, 1]", "[" + String.join(",", Collections.nCopies(30, "1")) + "]", "[1, 30, 1, 1]"},
            {"[]", "[1]", "[]"},
            {"[1, 29, 1]", "[" + String.join(",", Collections.nCopies(29, "1")) + "]", "at least 30"},
            {"[1, 1, 1]", "[1]", "at least 30"},
            {"[4294967296, 4294967296, 1]", "[1]", "elements"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = post("/v2/models/dax/infer", "{\"inputs\": [{\"name\": \"input\", \"shape\": " + c[0]
                    + ", \"datatype\": \"FP32\", \"data\": " + c[1] + "}]}");
            assertError(r, 400, c[2]);
            assertTrue(r.body().contains("input 'input'"), r.body());
        }
        // The time-major model's batch is its second axis: a zero there, or a short sequence on the first.
        assertError(post("/v2/models/timemajor/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\": [12, 0, 1], "
                + "\"datatype\": \"FP32\", \"data\": []}]}"), 400, "[12, 0, 1]");
        assertEquals(200, post("/v2/models/timemajor/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 1, 1], "
                + "\"datatype\": \"FP32\", \"data\": [1, 2]}]}").statusCode(), "the raw route takes any length it runs");
        assertEquals(200, get("/v2/health/live").statusCode(), "still alive");
        assertEquals(200, post("/v1/models/dax/forecast", "{\"inputs\": [["
                + String.join(",", Collections.nCopies(30, "5000")) + "]]}").statusCode());
    }

    @Test
    void aTimeMajorModelWithoutSidecarForecastsWhatNumPyComputes() throws Exception {
        JsonNode expected = JSON.readTree(fixture("helper_time_major.expected.json").toFile());
        StringBuilder inputs = new StringBuilder();
        for (JsonNode w : expected.get("windows")) {
            inputs.append(inputs.length() > 0 ? "," : "").append(w.toString());
        }
        JsonNode answer = json(post("/v1/models/timemajor/forecast", "{\"inputs\": [" + inputs + "]}"));
        for (int w = 0; w < expected.get("windows").size(); w++) {
            for (int h = 0; h < 3; h++) {
                double want = expected.get("expected").get(w).get(h).asDouble();
                double got = answer.path("forecasts").get(w).get(h).asDouble();
                assertEquals(want, got, 1e-5 + 1e-4 * Math.abs(want), "window " + w + " step " + h);
            }
        }
        JsonNode listed = find(json(get("/v1/models")), "timemajor", "1");
        assertEquals("time_major", listed.path("forecast").path("layout").asText(), listed.toString());
    }

    @Test
    void errorsSpeakToTheClientNotOfTheParserOrTheRuntime() throws Exception {
        String deep = "[".repeat(200) + "]".repeat(200);
        HttpResponse<String> r = post("/v1/models/dax/forecast", "{\"inputs\": " + deep + "}");
        assertError(r, 400, "malformed JSON");
        for (String internal : new String[] {"StreamReadConstraints", "Source:", "REDACTED", "`", "jackson"}) {
            assertFalse(r.body().contains(internal), r.body());
        }
        HttpResponse<String> broken = post("/v1/models/dax/forecast", "{\"inputs\": [1, 2,");
        assertError(broken, 400, "line 1");
        assertFalse(broken.body().contains("Source"), broken.body());
    }

    @Test
    void malformedJsonIsLocatedAndDescribedOnEveryRouteThatReadsJson() throws Exception {
        // An unclosed array opened at column 13: the message gives the end and the opening, as line and column.
        String unclosed = "{\"inputs\": [[1,2";
        for (String path : List.of("/v1/models/dax/forecast", "/v1/models/dax/versions/1/forecast", "/v2/models/dax/infer",
                "/v2/repository/index")) {
            HttpResponse<String> r = post(path, unclosed);
            assertEquals(400, r.statusCode(), path + " " + r.body());
            assertEquals("malformed JSON at line 1, column 17: Unexpected end-of-input: expected close marker for Array "
                    + "(opened at line 1, column 13)", JSON.readTree(r.body()).path("error").asText(), path);
        }
        HttpResponse<String> missingComma = post("/v1/models/dax/forecast", "{\"inputs\": [[1]]\n \"horizon\": 5}");
        assertEquals("malformed JSON at line 2, column 2: Unexpected character '\"': was expecting comma to separate "
                + "Object entries", JSON.readTree(missingComma.body()).path("error").asText());
        HttpResponse<String> open = post("/v1/models/dax/forecast", "{\"inputs\": [[1]], \"horizon\": 5");
        assertError(open, 400, "expected close marker for Object (opened at line 1, column 1)");
        assertFalse(open.body().contains("Source"), open.body());
    }

    @Test
    void aNumberSentAsAStringIsSaidToBeAString() throws Exception {
        String window = "[" + String.join(",", Collections.nCopies(30, "5000")) + "]";
        HttpResponse<String> r = post("/v1/models/dax/forecast", "{\"inputs\": [" + window + "], \"horizon\": \"5\"}");
        assertEquals(400, r.statusCode(), r.body());
        assertEquals("'horizon' must be a whole number, got the string \"5\"", JSON.readTree(r.body()).path("error").asText());
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [" + window + "], \"horizon\": 2.5}"), 400,
                "'horizon' must be a whole number, got 2.5");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [" + window.replace("5000]", "\"12.5\"]") + "]}"), 400,
                "inputs[0][29] must be a number, got the string \"12.5\"");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [[5000]]}"), 400,
                "inputs[0] has 1 step; the model needs at least 30");
        assertError(post("/v1/models/dax/forecast", "{\"inputs\": [" + window.replace("5000]", "[1, 2]]") + "]}"), 400,
                "inputs[0][29] has 2 values; the model reads 1 feature [DAX]");
        assertError(post("/v2/repository/index", "{\"ready\": \"true\"}"), 400,
                "'ready' must be true or false, got the string \"true\"");
    }

    @Test
    void binaryTensorDataInAndOutGivesWhatJsonGives() throws Exception {
        float[] w = new float[30];
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            w[i] = 4000f + 13.25f * i - (i % 4) * 9f;
            values.append(i > 0 ? "," : "").append(w[i]);
        }
        JsonNode viaJson = json(post("/v2/models/dax/infer", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 30, 1], "
                + "\"datatype\": \"FP32\", \"data\": [" + values + "]}]}"));
        ByteBuffer raw = ByteBuffer.allocate(120).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(w);
        String header = "{\"id\": \"b1\", \"inputs\": [{\"name\": \"input\", \"shape\": [1, 30, 1], \"datatype\": \"FP32\", "
                + "\"parameters\": {\"binary_data_size\": 120}}], \"outputs\": [{\"name\": \"forecast\", "
                + "\"parameters\": {\"binary_data\": true}}]}";
        HttpResponse<byte[]> r = binary("/v2/models/dax/infer", header, raw.array(), header.length());
        assertEquals(200, r.statusCode(), new String(r.body()));
        assertEquals("application/octet-stream", r.headers().firstValue("Content-Type").orElse(""));
        int jsonLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode answer = JSON.readTree(Arrays.copyOf(r.body(), jsonLength));
        assertEquals("b1", answer.path("id").asText());
        JsonNode out = answer.path("outputs").get(0);
        assertEquals(20, out.path("parameters").path("binary_data_size").asInt());
        assertTrue(out.path("data").isMissingNode(), "binary outputs carry no JSON data");
        FloatBuffer got = ByteBuffer.wrap(r.body(), jsonLength, 20).order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer();
        for (int h = 0; h < 5; h++) {
            assertEquals(viaJson.path("outputs").get(0).path("data").get(h).floatValue(), got.get(h), 0f, "step " + h);
        }
        // Binary in, JSON out by default.
        String plain = header.replace(", \"outputs\": [{\"name\": \"forecast\", \"parameters\": {\"binary_data\": true}}]", "");
        HttpResponse<byte[]> j = binary("/v2/models/dax/infer", plain, raw.array(), plain.length());
        assertEquals(viaJson.path("outputs").get(0).path("data"), JSON.readTree(j.body()).path("outputs").get(0).path("data"));

        String[][] broken = {
            {plain, "119", "binary_data_size"},
            {plain, "200", "the body has"},
            {plain, "x", "whole number"},
            {plain.replace("120}", "116}"), null, "claimed by no input"},
            {plain.replace("120}", "118}"), "trim2", "holds no FP32 values"},
        };
        for (String[] b : broken) {
            byte[] bytes = raw.array();
            String length = Integer.toString(b[0].length());
            if ("119".equals(b[1])) {
                bytes = Arrays.copyOf(bytes, 119);
            } else if ("trim2".equals(b[1])) {
                bytes = Arrays.copyOf(bytes, 118);
            } else if (b[1] != null) {
                length = b[1].equals("200") ? Integer.toString(b[0].length() + 200) : b[1];
            }
            HttpResponse<byte[]> e = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v2/models/dax/infer"))
                    .header("Inference-Header-Content-Length", length)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(concat(b[0].getBytes(), bytes))).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(400, e.statusCode(), new String(e.body()));
            assertTrue(new String(e.body()).contains(b[2]), b[2] + " in " + new String(e.body()));
        }
    }

    private static HttpResponse<byte[]> binary(String path, String header, byte[] bytes, int headerLength) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Inference-Header-Content-Length", Integer.toString(headerLength))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(concat(header.getBytes(), bytes))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    // --- helpers

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static int status(String path) {
        try {
            return get(path).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }

    static JsonNode jsonQuiet(String path) {
        try {
            return JSON.readTree(get(path).body());
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }

    /** {sum, count} of the batch-size summary of a model in /metrics. */
    static double[] batchStats(String model) throws Exception {
        String text = get("/metrics").body();
        return new double[] {metric(text, "lstmcast_batch_size_sum", model), metric(text, "lstmcast_batch_size_count", model)};
    }

}
