package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * train-many and predict-many from the packaged jar, Spark found through the jar's class path; the exported models
 * served; and the serving layout (lstmcast.jar and lib/ without spark-lib/) refusing them in one line.
 */
class ManySeriesIT {
    @TempDir
    Path work;

    private void writeTable(Path file) throws Exception {
        List<String> lines = new ArrayList<>(List.of("unique_id,ds,y"));
        String[] ids = {"north", "south east", "broken"};
        for (int k = 0; k < ids.length; k++) {
            for (int t = 0; t < 120; t++) {
                double v = Math.pow(100, k) * (20 + 5 * Math.sin(2 * Math.PI * t / 7) + 0.05 * t);
                String cell = k == 2 && t == 30 ? "1,5e3" : String.format(Locale.ROOT, "%.5f", v);
                lines.add("\"" + ids[k] + "\"," + LocalDate.of(2024, 1, 1).plusDays(t) + ",\"" + cell + "\"");
            }
        }
        Files.write(file, lines);
    }

    @Test
    void trainsExportsForecastsAndServesManySeries() throws Exception {
        writeTable(work.resolve("long.csv"));
        Program.Result train = Program.run(work, "train-many", "--data", "long.csv", "--lookback", "14", "--horizon", "2",
                "--season", "7", "--epochs", "4", "--master", "local[2]", "--out", "runs", "--export", "repo");
        assertEquals(101, train.code(), "one series failed: " + train.err());
        assertTrue(train.err().contains("series 'broken' failed: long.csv line 272, column 'y': '1,5e3' is not a number"),
                train.err());
        assertTrue(train.err().contains("train-many: 3/3 series done"), train.err());
        assertTrue(train.out().contains("Trained 2 of 3 series"), train.out());
        List<String> metrics = Files.readAllLines(work.resolve("runs/metrics.csv"));
        assertEquals(4, metrics.size(), String.join("\n", metrics));
        assertTrue(metrics.get(1).startsWith("broken,broken,,failed,120,"), metrics.get(1));
        String mapped = Files.readAllLines(work.resolve("runs/model_names.csv")).get(1).split(",")[1];
        assertTrue(mapped.startsWith("south_east-"), mapped);
        assertTrue(Files.isRegularFile(work.resolve("repo/north/1/model.onnx")));
        assertTrue(Files.isRegularFile(work.resolve("repo").resolve(mapped).resolve("1/model.onnx")));
        assertFalse(Files.exists(work.resolve("repo/broken")));

        Program.Result predict = Program.run(work, "predict-many", "--data", "long.csv", "--models", "repo",
                "--horizon", "4", "--master", "local[2]", "--out", "forecast.csv");
        assertEquals(101, predict.code(), predict.err());
        assertTrue(predict.err().contains("series 'broken': no model 'broken'"), predict.err());
        List<String> forecast = Files.readAllLines(work.resolve("forecast.csv"));
        // The models carry 80% and 95% intervals: predict-many writes their bounds too.
        assertEquals("id,model,version,step,time,forecast,lower_80,upper_80,lower_95,upper_95", forecast.get(0));
        assertEquals(1 + 2 * 4, forecast.size());
        assertTrue(forecast.get(1).startsWith("north,north,1,1,2024-04-30,"), forecast.get(1));

        // What train-many exported is what serve serves: the same forecast for the series' last window.
        List<String> rows = Files.readAllLines(work.resolve("long.csv")).subList(1, 121);
        StringBuilder window = new StringBuilder();
        for (String row : rows.subList(120 - 14, 120)) {
            window.append(window.length() > 0 ? "," : "").append(row.split(",")[2].replace("\"", ""));
        }
        try (ServerProcess server = ServerProcess.start(work, work.resolve("repo"))) {
            HttpResponse<String> r = server.post("/v1/models/north/forecast",
                    "{\"inputs\": [[" + window + "]], \"horizon\": 4}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode served = new ObjectMapper().readTree(r.body()).path("forecasts").get(0);
            for (int h = 0; h < 4; h++) {
                double want = Double.parseDouble(forecast.get(1 + h).split(",")[5]);
                assertEquals(want, served.get(h).asDouble(), 1e-6 * Math.abs(want), "step " + (h + 1));
            }
            assertEquals(0, server.terminate());
        }
    }

    @Test
    void theServingLayoutWithoutSparkSaysSoInOneLine() throws Exception {
        Path install = Files.createDirectories(work.resolve("app"));
        Files.copy(Program.JAR, install.resolve("lstmcast.jar"));
        Files.createSymbolicLink(install.resolve("lib"), Program.JAR.toAbsolutePath().getParent().resolve("lib"));
        writeTable(work.resolve("long.csv"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", install.resolve("lstmcast.jar").toString(), "train-many", "--data", "long.csv", "--out", "runs")
                .directory(work.toFile()).redirectErrorStream(true);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertEquals(1, p.waitFor(), output);
        assertEquals("lstmcast train-many: error: train-many runs on Apache Spark, which this installation lacks: spark-lib/ "
                + "(made by ./mvnw package) must sit beside lstmcast.jar, or run it with spark-submit", output.strip());
        assertFalse(Files.exists(work.resolve("runs/metrics.csv")));

        // Everything but the Spark commands runs from lib/ alone: train fits networks with ND4J, whose run-time needs
        // (SameDiff's collections, FlatBuffers) Maven would otherwise resolve to Spark's provided copies.
        List<String> series = new ArrayList<>(List.of("t,value"));
        for (int t = 0; t < 120; t++) {
            series.add(t + "," + String.format(Locale.ROOT, "%.4f", 50 + 8 * Math.sin(2 * Math.PI * t / 12) + 0.2 * t));
        }
        Files.write(work.resolve("one.csv"), series);
        Process train = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", install.resolve("lstmcast.jar").toString(), "train", "--data", "one.csv", "--target", "value",
                "--lookback", "12", "--horizon", "3", "--epochs", "2", "--ensemble", "1", "--quiet", "--out", "one")
                .directory(work.toFile()).redirectErrorStream(true).start();
        String trainOutput = new String(train.getInputStream().readAllBytes());
        assertEquals(0, train.waitFor(), trainOutput);
        assertTrue(Files.isRegularFile(work.resolve("one/model.zip")), trainOutput);
        assertTrue(Files.isRegularFile(work.resolve("one/metrics.json")), trainOutput);
    }
}
