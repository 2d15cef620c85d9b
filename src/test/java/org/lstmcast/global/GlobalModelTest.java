package org.lstmcast.global;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.data.DataException;
import org.lstmcast.forecast.Ort;
import org.lstmcast.many.LongFormat;
import org.lstmcast.metrics.Metrics;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.server.InferenceServer;

/**
 * train-global end to end on a generated table: series from a thousandth to a million in scale and from 3 to 120
 * values long, some seasonal, some trending. A real model is trained, exported with its proof, served by the real
 * server on a loopback port, and forecast by predict-many; every series gets a forecast, the server's equals
 * predict-many's, and the file is what its metadata says.
 */
class GlobalModelTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int HORIZON = 6;
    @TempDir
    static Path tmp;
    static Path table;
    static Map<String, double[]> series = new HashMap<>();
    static GlobalRun.Summary summary;
    static Path repo;

    @BeforeAll
    static void train() throws Exception {
        Random random = new Random(11);
        StringBuilder csv = new StringBuilder("unique_id,ds,y\n");
        int[] lengths = {3, 4, 5, 7, 9, 12, 14, 18, 20, 25, 30, 36, 40, 48, 55, 60, 72, 80, 96, 120};
        for (int i = 0; i < lengths.length; i++) {
            double scale = Math.pow(10, -3 + 9.0 * i / (lengths.length - 1));
            double growth = 0.01 * (i % 4);
            double season = i % 2 == 0 ? 0.25 : 0;
            double[] v = new double[lengths[i]];
            String id = String.format(Locale.ROOT, "s%02d", i);
            for (int t = 0; t < v.length; t++) {
                v[t] = scale * Math.exp(growth * t + season * Math.sin(2 * Math.PI * t / 12) + 0.05 * random.nextGaussian());
                csv.append(id).append(',').append(LocalDate.of(2001, 1, 1).plusMonths(t)).append(',')
                        .append(String.format(Locale.ROOT, "%.6g", v[t])).append('\n');
                v[t] = Double.parseDouble(String.format(Locale.ROOT, "%.6g", v[t]));
            }
            series.put(id, v);
        }
        table = tmp.resolve("long.csv");
        Files.writeString(table, csv);
        repo = tmp.resolve("repo");
        GlobalConfig config = new GlobalConfig(0, 0, 0, HORIZON, null, 1, 8, 3, 64, 0.003, 2, 42, 2, 512,
                GlobalConfig.Loss.MAE, 2);
        summary = GlobalRun.run(new GlobalRun.Job(table.toString(), new LongFormat("unique_id", "ds", "y", List.of()),
                config, tmp.resolve("run"), repo.resolve("global"), null), line -> { });
    }

    @Test
    void everySeriesIsForecastAndTheExportIsProvenOnEveryLength() throws Exception {
        assertEquals(20, summary.series());
        assertEquals(12, summary.season());
        assertEquals("log", summary.scale());
        assertTrue(summary.parity().ok(), summary.parity().toString());
        // Every history, every history longer than H without its last H, and each series' first 1, 2 and 3 values.
        long longer = series.values().stream().filter(v -> v.length > HORIZON).count();
        assertEquals(20 + longer + 60, summary.parity().windows());
        Map<String, double[]> forecasts = readForecasts(tmp.resolve("run/forecasts.csv"), "forecast");
        assertEquals(series.keySet(), forecasts.keySet());
        for (Map.Entry<String, double[]> e : forecasts.entrySet()) {
            double[] v = series.get(e.getKey());
            double last = v[v.length - 1];
            for (double f : e.getValue()) {
                // In the series' own units: within a factor of 3 of its last value, whether that is 0.001 or 1e6.
                assertTrue(f > last / 3 && f < last * 3, e.getKey() + ": " + f + " after " + last);
            }
        }
        // Series with H + 2 values or more are scored on their last H, with the baselines beside them.
        List<CSVRecord> metrics = CSVFormat.DEFAULT.builder().setHeader().get()
                .parse(Files.newBufferedReader(tmp.resolve("run/metrics.csv"))).getRecords();
        assertEquals(series.values().stream().filter(v -> v.length >= HORIZON + 2).count(), metrics.size());
        for (CSVRecord r : metrics) {
            double[] v = series.get(r.get("id"));
            double[] naive = new double[HORIZON];
            Arrays.fill(naive, v[v.length - HORIZON - 1]);
            double[] actual = Arrays.copyOfRange(v, v.length - HORIZON, v.length);
            assertEquals(Metrics.smape(actual, naive), Double.parseDouble(r.get("smape_naive")), 1e-3);
        }
        JsonNode json = JSON.readTree(tmp.resolve("run/metrics.json").toFile());
        assertEquals(2, json.path("epochs_kept").size());
        assertTrue(json.path("intervals").path("test_coverage").has("95"), json.toString());
    }

    @Test
    void theFileSaysItIsGlobalAndTakesAnyLength() throws Exception {
        Path file = repo.resolve("global/1/model.onnx");
        assertTrue(Files.isRegularFile(file));
        try (OrtSession.SessionOptions options = Ort.sessionOptions();
             OrtSession session = Ort.environment().createSession(file.toString(), options)) {
            Map<String, String> meta = session.getMetadata().getCustomMetadata();
            GlobalSpec spec = GlobalSpec.fromMetadata(meta);
            assertNotNull(spec);
            assertEquals(48, spec.lookback());
            assertEquals(12, spec.season());
            assertEquals("monthly", spec.frequency());
            assertEquals(20, spec.series());
            assertEquals(2, spec.members());
            assertEquals("0", meta.get("lookback"));
            assertEquals("global", meta.get("transform"));
            assertTrue(session.getOutputNames().containsAll(List.of("forecast", "forecast_lower", "forecast_upper")));
        }
    }

    @Test
    void theServedForecastEqualsPredictManysForEverySeries() throws Exception {
        Path out = tmp.resolve("predicted.csv");
        GlobalPredict.Summary s = GlobalPredict.run(new GlobalPredict.Job(table.toString(),
                new LongFormat("unique_id", "ds", "y", List.of()), repo.resolve("global"), 0, out, null));
        assertEquals(20, s.forecasts().size());
        assertTrue(s.forecasts().stream().allMatch(f -> f.ok()));
        // Batched: far fewer runs than series (one per distinct window length).
        assertTrue(s.runs() < 20, "runs: " + s.runs());
        Map<String, double[]> predicted = readForecasts(out, "forecast");
        Map<String, double[]> java = readForecasts(tmp.resolve("run/forecasts.csv"), "forecast");
        try (InferenceServer server = new InferenceServer(ServeConfig.defaults(repo).withPort(0)
                .withGrpc(ServeConfig.Grpc.off()))) {
            String base = "http://127.0.0.1:" + server.start();
            HttpClient http = HttpClient.newHttpClient();
            for (Map.Entry<String, double[]> e : series.entrySet()) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/global/forecast"))
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(
                                Map.of("inputs", List.of(e.getValue()))))).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
                JsonNode f = JSON.readTree(r.body()).path("forecasts").get(0);
                assertEquals(HORIZON, f.size());
                for (int h = 0; h < HORIZON; h++) {
                    double p = predicted.get(e.getKey())[h];
                    assertEquals(p, f.get(h).asDouble(), Math.abs(p) * 1e-6, e.getKey() + " step " + (h + 1));
                    // and both equal the Java model that the export was proven against
                    assertEquals(java.get(e.getKey())[h], p, Math.abs(p) * 1e-4, e.getKey() + " step " + (h + 1));
                }
            }
            // A history of one value is forecast too; an empty one is a 400 with a message, not a 5xx.
            HttpResponse<String> one = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/global/forecast"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": [[42.0]]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, one.statusCode(), one.body());
            HttpResponse<String> empty = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/global/forecast"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": [[]]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, empty.statusCode(), empty.body());
            assertTrue(JSON.readTree(empty.body()).has("error"), empty.body());
        }
    }

    @Test
    void aBadCellIsNamedByLineAndColumn() throws Exception {
        Path bad = tmp.resolve("bad.csv");
        Files.writeString(bad, "unique_id,ds,y\na,2001-01-01,1\na,2001-02-01,2\nb,2001-01-01,3\nb,2001-02-01,4x\n");
        GlobalConfig config = new GlobalConfig(0, 0, 0, 2, null, 1, 4, 1, 8, 0.003, 1, 1, 1, 8, GlobalConfig.Loss.MAE, 1);
        DataException e = assertThrows(DataException.class, () -> GlobalRun.run(new GlobalRun.Job(bad.toString(),
                new LongFormat("unique_id", "ds", "y", List.of()), config, tmp.resolve("bad_run"), null, null), l -> { }));
        assertTrue(e.getMessage().contains("line 5") && e.getMessage().contains("'y'"), e.getMessage());
    }

    private static Map<String, double[]> readForecasts(Path file, String column) throws Exception {
        Map<String, List<Double>> rows = new HashMap<>();
        for (CSVRecord r : CSVFormat.DEFAULT.builder().setHeader().get().parse(Files.newBufferedReader(file))) {
            rows.computeIfAbsent(r.get("id"), k -> new ArrayList<>()).add(Double.parseDouble(r.get(column)));
        }
        Map<String, double[]> out = new HashMap<>();
        rows.forEach((k, v) -> out.put(k, v.stream().mapToDouble(Double::doubleValue).toArray()));
        return out;
    }
}
