package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lstmcast serve} as a separate process: the bundled models over HTTP, then SIGTERM. */
class ServeIT {
    @TempDir
    Path work;

    @Test
    void trainExportServeForecastEqualsPredictOffline() throws Exception {
        Path csv = Program.ROOT.resolve("data/eustockmarkets_daily.csv").toAbsolutePath();
        Program.Result train = Program.run(work, "train", "--target", "FTSE", "--epochs", "2", "--horizon", "3", "--quiet",
                "--out", "run", "--export", "repo/ftse");
        assertEquals(0, train.code(), train.err());
        List<String> rows = Files.readAllLines(csv);
        try (ServerProcess server = ServerProcess.start(work, work.resolve("repo"))) {
            for (int end : new int[] {400, 1234, 1860}) {
                // predict reads the end of a file: give it the history up to row `end`
                Path part = work.resolve("upto-" + end + ".csv");
                Files.write(part, rows.subList(0, end + 1));
                Program.Result offline = Program.run(work, "predict", "--model", "repo/ftse/1/model.onnx", "--data",
                        part.toString(), "--horizon", "6", "--out", "offline-" + end + ".csv");
                assertEquals(0, offline.code(), offline.err());
                List<String> expected = Files.readAllLines(work.resolve("offline-" + end + ".csv"));
                StringBuilder window = new StringBuilder();
                for (String row : rows.subList(end + 1 - 30, end + 1)) {
                    window.append(window.length() > 0 ? "," : "").append(row.split(",")[5]);
                }
                HttpResponse<String> r = server.post("/v1/models/ftse/forecast",
                        "{\"inputs\": [[" + window + "]], \"horizon\": 6}");
                assertEquals(200, r.statusCode(), r.body());
                JsonNode forecasts = new ObjectMapper().readTree(r.body()).path("forecasts").get(0);
                for (int h = 0; h < 6; h++) {
                    double want = Double.parseDouble(expected.get(h + 1).split(",")[2]);
                    assertEquals(want, forecasts.get(h).asDouble(), 1e-6 * Math.abs(want), "row " + end + " step " + (h + 1));
                }
            }
            assertEquals(0, server.terminate());
        }
    }

    @Test
    void servesTheBundledModelsAgreesWithPredictAndStopsCleanly() throws Exception {
        Path models = Program.ROOT.resolve("models").toAbsolutePath();
        Path csv = Program.ROOT.resolve("data/co2_monthly.csv").toAbsolutePath();
        Program.Result offline = Program.run(work, "predict", "--model", models.resolve("co2/1/model.onnx").toString(),
                "--data", csv.toString(), "--horizon", "9", "--out", "offline.csv");
        assertEquals(0, offline.code(), offline.err());
        List<String> expected = Files.readAllLines(work.resolve("offline.csv"));

        List<String> rows = Files.readAllLines(csv);
        StringBuilder window = new StringBuilder();
        for (String row : rows.subList(rows.size() - 30, rows.size())) {
            window.append(window.length() > 0 ? "," : "").append(row.split(",")[1]);
        }

        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", Program.JAR.toAbsolutePath().toString(), "serve", "--models", models.toString(), "--port", "0",
                "--grpc-port", "0",
                "--device", "cpu").directory(work.toFile()).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process server = pb.start();
        try {
            BufferedReader log = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            int port = -1;
            Pattern listening = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)");
            for (String line = log.readLine(); line != null; line = log.readLine()) {
                Matcher m = listening.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                    break;
                }
            }
            assertTrue(port > 0, "the server said where it listens");
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + port;
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/health/ready")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ready.statusCode());
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/co2/forecast"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": [[" + window + "]], \"horizon\": 9}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode forecasts = new ObjectMapper().readTree(r.body()).path("forecasts").get(0);
            for (int h = 0; h < 9; h++) {
                double offlineValue = Double.parseDouble(expected.get(h + 1).split(",")[2]);
                assertEquals(offlineValue, forecasts.get(h).asDouble(), 1e-4, "step " + (h + 1));
            }
            server.destroy(); // SIGTERM
            assertTrue(server.waitFor(60, TimeUnit.SECONDS), "stopped after SIGTERM");
            assertEquals(0, server.exitValue());
        } finally {
            server.destroyForcibly();
        }
    }
}
