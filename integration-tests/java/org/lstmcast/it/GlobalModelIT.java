package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * train-global, predict-many --model, inspect and serve from the packaged jar: one model for quarterly series of
 * different scales and lengths, the table read through Spark's reader; a bad cell refused in one line.
 */
class GlobalModelIT {
    @TempDir
    Path work;

    @Test
    void oneModelForEverySeriesIsTrainedForecastInspectedAndServed() throws Exception {
        List<String> lines = new ArrayList<>(List.of("item,quarter,sales"));
        int[] lengths = {2, 6, 11, 24, 40, 64};
        for (int k = 0; k < lengths.length; k++) {
            for (int t = 0; t < lengths[k]; t++) {
                double v = Math.pow(10, k) * (50 + 10 * Math.sin(Math.PI * t / 2) + t);
                lines.add("item" + k + "," + LocalDate.of(2000, 1, 1).plusMonths(3L * t) + ","
                        + String.format(Locale.ROOT, "%.4f", v));
            }
        }
        Files.write(work.resolve("sales.csv"), lines);
        Program.Result train = Program.run(work, "train-global", "--data", "sales.csv", "--id-column", "item",
                "--time-column", "quarter", "--target", "sales", "--horizon", "4", "--ensemble", "2", "--hidden", "8",
                "--epochs", "2", "--windows-per-epoch", "256", "--master", "local[2]", "--out", "run",
                "--export", "repo/sales");
        assertEquals(0, train.code(), train.err());
        assertTrue(train.err().contains("6 series, season 4 (quarterly)"), train.err());
        assertTrue(train.out().contains("Trained one model on 6 series"), train.out());
        assertTrue(Files.isRegularFile(work.resolve("repo/sales/1/model.onnx")));

        Program.Result inspect = Program.run(work, "inspect", "repo/sales/1/model.onnx");
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(inspect.out().contains("global model: learned across 6 series, quarterly (season 4)"), inspect.out());

        Program.Result predict = Program.run(work, "predict-many", "--data", "sales.csv", "--id-column", "item",
                "--time-column", "quarter", "--target", "sales", "--model", "repo/sales", "--out", "forecast.csv");
        assertEquals(0, predict.code(), predict.err());
        List<String> forecast = Files.readAllLines(work.resolve("forecast.csv"));
        // The models carry 80% and 95% intervals: predict-many writes their bounds too.
        assertEquals("id,model,version,step,time,forecast,lower_80,upper_80,lower_95,upper_95", forecast.get(0));
        assertEquals(1 + 6 * 4, forecast.size());
        // Calendar steps: item0's two quarters end at 2000-04-01; its forecasts start at 2000-07-01.
        assertTrue(forecast.get(1).startsWith("item0,sales,1,1,2000-07-01,"), forecast.get(1));

        try (ServerProcess server = ServerProcess.start(work, work.resolve("repo"))) {
            for (int k = 0; k < lengths.length; k++) {
                StringBuilder window = new StringBuilder();
                for (String row : lines) {
                    if (row.startsWith("item" + k + ",")) {
                        window.append(window.length() > 0 ? "," : "").append(row.split(",")[2]);
                    }
                }
                HttpResponse<String> r = server.post("/v1/models/sales/forecast", "{\"inputs\": [[" + window + "]]}");
                assertEquals(200, r.statusCode(), r.body());
                JsonNode served = new ObjectMapper().readTree(r.body()).path("forecasts").get(0);
                for (int h = 0; h < 4; h++) {
                    double want = Double.parseDouble(forecast.get(1 + 4 * k + h).split(",")[5]);
                    assertEquals(want, served.get(h).asDouble(), 1e-6 * Math.abs(want), "item" + k + " step " + (h + 1));
                }
            }
            assertEquals(0, server.terminate());
        }
    }

    @Test
    void aBadCellStopsTheRunInOneLineNamingItsLineAndColumn() throws Exception {
        Files.write(work.resolve("bad.csv"), List.of("unique_id,ds,y", "a,2001-01-01,1", "a,2001-02-01,n/a"));
        Program.Result r = Program.run(work, "train-global", "--data", "bad.csv", "--horizon", "2", "--out", "run");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().strip().startsWith("lstmcast train-global: error: bad.csv line 3, column 'y'"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
