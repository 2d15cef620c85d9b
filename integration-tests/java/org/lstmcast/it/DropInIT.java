package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models dropped into the repository as they came: a Keras {@code model.h5} with its scaler in {@code forecast.json},
 * an ONNX file ONNX Runtime cannot run as it is (layout=1), and a damaged file. The first two are converted, proven
 * and served; the damaged one is FAILED with its reason and takes nothing else down.
 */
class DropInIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path FIXTURES = Program.ROOT.resolve("src/test/resources/convert");

    @TempDir
    Path work;

    @Test
    void kerasAndLayout1FilesAreConvertedAndServedAndABrokenOneFailsAlone() throws Exception {
        Path repo = work.resolve("repo");
        ServerProcess.copy(FIXTURES.resolve("keras/stock_lstm_w60.h5"), repo.resolve("dax_keras/1/model.h5"));
        Files.writeString(repo.resolve("dax_keras/forecast.json"), "{\"scaling\": {\"min\": [1402.34], \"max\": [3430.95]}}");
        ServerProcess.copy(FIXTURES.resolve("onnx/lstm_layout1.onnx"), repo.resolve("layout1/1/model.onnx"));
        Files.writeString(repo.resolve("layout1/forecast.json"), "{\"lookback\": 5}");
        byte[] keras = Files.readAllBytes(FIXTURES.resolve("keras/k2_gru_reset_after.h5"));
        Files.createDirectories(repo.resolve("damaged/1"));
        Files.write(repo.resolve("damaged/1/model.h5"), Arrays.copyOf(keras, keras.length / 3));
        ServerProcess.copy(Program.ROOT.resolve("models/dax/1/model.onnx"), repo.resolve("dax/1/model.onnx"));

        JsonNode expected = JSON.readTree(FIXTURES.resolve("keras/stock_lstm_w60.expected.json").toFile());
        String windows = "{\"inputs\": " + expected.get("raw_windows") + "}";
        try (ServerProcess server = ServerProcess.start(work, repo)) {
            HttpResponse<String> r = server.post("/v1/models/dax_keras/forecast", windows);
            assertEquals(200, r.statusCode(), r.body());
            JsonNode forecasts = JSON.readTree(r.body()).get("forecasts");
            for (int i = 0; i < forecasts.size(); i++) {
                double want = expected.get("forecast_raw").get(i).get(0).asDouble();
                double got = forecasts.get(i).get(0).asDouble();
                assertTrue(Math.abs(got - want) <= 1e-4 * Math.abs(want), "window " + i + ": NumPy " + want + ", served " + got);
            }
            assertTrue(Files.isRegularFile(repo.resolve("dax_keras/1/model.converted.onnx")), "the conversion is cached beside the source");

            JsonNode layout1 = JSON.readTree(FIXTURES.resolve("onnx/lstm_layout1.expected.json").toFile());
            JsonNode data = layout1.get("inputs").get("x").get("data");
            StringBuilder w = new StringBuilder("{\"inputs\": [[");
            for (int t = 0; t < 5; t++) {
                w.append(t > 0 ? "," : "").append('[').append(data.get(2 * t)).append(',').append(data.get(2 * t + 1)).append(']');
            }
            w.append("]]}");
            r = server.post("/v1/models/layout1/forecast", w.toString());
            assertEquals(200, r.statusCode(), r.body());
            double want = layout1.get("outputs").get("y").get("data").get(0).asDouble();
            double got = JSON.readTree(r.body()).get("forecasts").get(0).get(0).asDouble();
            assertTrue(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), "NumPy " + want + ", served " + got);
            // A client written for the source names its tensors: the conversion answers under the source's names.
            JsonNode meta = JSON.readTree(server.get("/v2/models/layout1").body());
            assertEquals("x", meta.path("inputs").get(0).path("name").asText(), meta.toString());
            assertEquals("y", meta.path("outputs").get(0).path("name").asText(), meta.toString());
            StringBuilder flat = new StringBuilder();
            for (int i = 0; i < 10; i++) {
                flat.append(i > 0 ? "," : "").append(data.get(i));
            }
            r = server.post("/v2/models/layout1/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 5, 2], "
                    + "\"datatype\": \"FP32\", \"data\": [" + flat + "]}]}");
            assertEquals(200, r.statusCode(), r.body());
            got = JSON.readTree(r.body()).get("outputs").get(0).get("data").get(0).asDouble();
            assertTrue(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), "NumPy " + want + ", inferred " + got);

            JsonNode models = JSON.readTree(server.get("/v1/models").body()).get("models");
            JsonNode damaged = null;
            for (JsonNode m : models) {
                if (m.path("name").asText().equals("damaged")) {
                    damaged = m;
                }
            }
            assertTrue(damaged != null && damaged.path("state").asText().equals("FAILED"), String.valueOf(models));
            assertTrue(damaged.path("reason").asText().contains("model.h5"), damaged.toString());
            assertEquals(200, server.post("/v1/models/dax/forecast",
                    "{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "5000")) + "]]}").statusCode());
            assertEquals(0, server.terminate());
        }
    }
}
