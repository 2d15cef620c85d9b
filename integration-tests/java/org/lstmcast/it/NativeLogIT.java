package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX Runtime refuses a model: inspect, predict and serve say why in their own words, and ONNX Runtime's native
 * console log (ANSI-coloured C++ lines on file descriptor 2) stays out of stderr.
 */
class NativeLogIT {
    /** ANSI escapes, ONNX Runtime's "[E:onnxruntime:" prefix, or a line that starts with a C++ source path. */
    static final Pattern NATIVE = Pattern.compile("\u001b\\[|\\[[VIWEF]:onnxruntime:|(?m)^\\s*/\\S+\\.(cc|h|cpp):\\d+");

    @TempDir
    Path work;

    static Path fixture(String name) {
        return Program.ROOT.resolve("src/test/resources/fixtures/" + name).toAbsolutePath();
    }

    static void assertNoNativeLog(String stderr) {
        assertTrue(!NATIVE.matcher(stderr).find(), "ONNX Runtime's native log on stderr:\n" + stderr);
    }

    @Test
    void inspectGivesTheReasonWithoutNativeLog() throws Exception {
        Program.Result layout1 = Program.run(work, "inspect", fixture("helper_lstm_layout1.onnx").toString());
        assertEquals(0, layout1.code(), layout1.err());
        assertTrue(layout1.out().contains("ONNX Runtime cannot load it") && layout1.out().contains("layout == 1"),
                layout1.out());
        assertNoNativeLog(layout1.err());

        Program.Result truncated = Program.run(work, "inspect", fixture("truncated.onnx").toString());
        assertEquals(1, truncated.code(), truncated.err());
        assertEquals(1, truncated.err().lines().filter(l -> !l.isBlank()).count(), truncated.err());
        assertTrue(truncated.err().contains("not an ONNX model"), truncated.err());
        assertNoNativeLog(truncated.err());
    }

    @Test
    void predictGivesTheReasonWithoutNativeLog() throws Exception {
        Program.Result r = Program.run(work, "predict", "--model", fixture("helper_lstm_layout1.onnx").toString(),
                "--data", Program.ROOT.resolve("data/eustockmarkets_daily.csv").toAbsolutePath().toString(),
                "--features", "DAX", "--lookback", "30", "--horizon", "3");
        assertEquals(1, r.code(), r.err());
        List<String> err = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, err.size(), r.err());
        assertTrue(err.get(0).startsWith("lstmcast predict: error: ") && err.get(0).contains("layout == 1"), err.get(0));
        assertNoNativeLog(r.err());
    }

    @Test
    void serveReportsRefusedModelsWithoutNativeLog() throws Exception {
        Path repo = work.resolve("repo");
        ServerProcess.copy(fixture("helper_lstm_layout1.onnx"), repo.resolve("batchfirst/1/model.onnx"));
        ServerProcess.copy(fixture("truncated.onnx"), repo.resolve("cut/1/model.onnx"));
        ServerProcess.copy(Program.ROOT.resolve("models/co2/1/model.onnx"), repo.resolve("co2/1/model.onnx"));
        try (ServerProcess server = ServerProcess.start(work, repo)) {
            HttpResponse<String> list = server.get("/v1/models");
            assertEquals(200, list.statusCode(), list.body());
            JsonNode models = new ObjectMapper().readTree(list.body()).path("models");
            String reason = null;
            for (JsonNode m : models) {
                if (m.path("name").asText().equals("batchfirst")) {
                    assertEquals("FAILED", m.path("state").asText(), m.toString());
                    reason = m.path("reason").asText();
                }
            }
            assertTrue(reason != null && reason.contains("layout"), "the refusal and its reason are listed: " + models);
            assertEquals(0, server.terminate());
            String log = String.join("\n", server.log);
            assertTrue(log.contains("cannot load batchfirst version 1"), log);
            assertNoNativeLog(log);
        }
    }
}
