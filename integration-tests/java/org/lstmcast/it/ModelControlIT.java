package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Collections;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lstmcast serve --model-control-mode explicit}: models load and unload on request only. */
class ModelControlIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WINDOW = "{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "100")) + "]]}";

    @TempDir
    Path work;

    private static JsonNode entry(JsonNode index, String name) {
        for (JsonNode e : index) {
            if (e.path("name").asText().equals(name)) {
                return e;
            }
        }
        throw new AssertionError(name + " is not in the index " + index);
    }

    @Test
    void explicitControlLoadsTheNamedModelAndOthersOnlyOnRequest() throws Exception {
        Path repo = work.resolve("repo");
        for (String name : new String[] {"dax", "co2"}) {
            ServerProcess.copy(Program.ROOT.resolve("models/" + name + "/1/model.onnx"), repo.resolve(name + "/1/model.onnx"));
        }
        // ServerProcess passes --poll-seconds 0.2: in explicit mode it must have no effect.
        try (ServerProcess server = ServerProcess.start(work, repo, "--model-control-mode", "explicit", "--load-model", "dax")) {
            assertEquals(200, server.status("/v2/health/ready"));
            assertEquals(200, server.post("/v1/models/dax/forecast", WINDOW).statusCode());
            assertEquals(404, server.post("/v1/models/co2/forecast", WINDOW).statusCode());
            JsonNode index = JSON.readTree(server.post("/v2/repository/index", "").body());
            assertEquals("READY", entry(index, "dax").path("state").asText());
            assertEquals("UNAVAILABLE", entry(index, "co2").path("state").asText());
            assertEquals("not loaded", entry(index, "co2").path("reason").asText());
            assertEquals("explicit", JSON.readTree(server.get("/v2").body()).path("model_control_mode").asText());

            ServerProcess.copy(Program.ROOT.resolve("models/dax/1/model.onnx"), repo.resolve("late/1/model.onnx"));
            Thread.sleep(1500);
            assertEquals(400, server.status("/v2/models/late/ready"), "a file copied in waits for a load");

            HttpResponse<String> load = server.post("/v2/repository/models/co2/load", "");
            assertEquals(200, load.statusCode(), load.body());
            assertEquals(200, server.post("/v1/models/co2/forecast", WINDOW).statusCode());
            assertEquals(200, server.post("/v2/repository/models/late/load", "").statusCode());
            assertEquals(200, server.status("/v2/models/late/ready"));

            HttpResponse<String> unload = server.post("/v2/repository/models/dax/unload", "");
            assertEquals(200, unload.statusCode(), unload.body());
            assertEquals(404, server.post("/v1/models/dax/forecast", WINDOW).statusCode());
            HttpResponse<String> again = server.post("/v2/repository/models/dax/unload", "");
            assertEquals(400, again.statusCode());
            assertTrue(JSON.readTree(again.body()).path("error").asText().contains("failed to unload 'dax'"), again.body());
            assertEquals(0, server.terminate());
        }
    }

    @Test
    void loadModelNamesAFolderAndNeedsExplicitMode() throws Exception {
        Path repo = work.resolve("repo");
        ServerProcess.copy(Program.ROOT.resolve("models/dax/1/model.onnx"), repo.resolve("dax/1/model.onnx"));
        Program.Result missing = Program.run(work, "serve", "--models", repo.toString(), "--port", "0", "--device", "cpu",
                "--model-control-mode", "explicit", "--load-model", "nosuch");
        assertEquals(1, missing.code(), missing.err());
        assertTrue(missing.err().contains("--load-model nosuch"), missing.err());
        assertFalse(missing.err().contains("\tat "), missing.err());
        Program.Result polling = Program.run(work, "serve", "--models", repo.toString(), "--port", "0", "--device", "cpu",
                "--load-model", "dax");
        assertEquals(2, polling.code(), polling.err());
        assertTrue(polling.err().contains("--model-control-mode explicit"), polling.err());
    }
}
