package org.lstmcast.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;
import org.lstmcast.forecast.InvalidInputException;
import org.lstmcast.forecast.Ort;
import org.lstmcast.forecast.OrtErrors;

/** The one mapping from exceptions to answers, and ONNX Runtime's messages as clients and operators read them. */
class FailureTest {

    @Test
    void onlyTheDomainsOwnExceptionsBlameTheClient() {
        assertEquals(400, Failure.of(new InvalidInputException("window too short")).status());
        assertEquals(404, Failure.of(ApiException.notFound("unknown model 'x'")).status());
        Failure queue = Failure.of(new Batcher.QueueFullException("queue full"));
        assertEquals(503, queue.status());
        assertTrue(queue.retryAfter());
        // A bug that happens to throw IllegalArgumentException is the server's fault, not the request's.
        Failure bug = Failure.of(new IllegalArgumentException("index -1 out of bounds in some helper"));
        assertEquals(500, bug.status());
        assertTrue(bug.message().matches("internal error [0-9a-f]{8} \\(IllegalArgumentException\\).*"), bug.message());
        assertFalse(bug.message().contains("index -1"), "no internals in the answer: " + bug.message());
        Failure other = Failure.of(new NullPointerException());
        assertEquals(500, other.status());
        assertFalse(bug.message().equals(other.message()), "each failure has its own id");
    }

    @Test
    void onnxRuntimesMessagesLoseSourcePathsAndPreambles() throws Exception {
        for (String fixture : new String[] {"truncated.onnx", "helper_lstm_layout1.onnx"}) {
            Path file = ServeFixtures.fixture(fixture);
            String raw;
            String clean;
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                 OrtSession session = Ort.environment().createSession(file.toString(), options)) {
                // layout=1 loads; the runtime refuses it when it runs.
                float[] data = new float[2 * 3];
                try (var x = OnnxTensor.createTensor(Ort.environment(), FloatBuffer.wrap(data),
                        new long[] {2, 3, 1}); var r = session.run(Map.of("x", x))) {
                    continue;
                }
            } catch (OrtException e) {
                raw = e.getMessage();
                clean = OrtErrors.message(e);
            }
            assertFalse(clean.isBlank(), raw);
            for (String internal : new String[] {".cc:", "onnxruntime_src", "Error code -", "[ONNXRuntimeError]", "github",
                    file.getParent().toString()}) {
                assertFalse(clean.contains(internal), fixture + ": '" + internal + "' left in: " + clean + "\nraw: " + raw);
            }
        }
    }

    @Test
    void cleaningKeepsTheRuntimesOwnWords() {
        String raw = "Error code - ORT_INVALID_ARGUMENT - message: [ONNXRuntimeError] : 2 : INVALID_ARGUMENT : "
                + "Load model from /srv/models/m/1/model.onnx failed:/onnxruntime_src/onnxruntime/core/graph/model.cc:180 "
                + "onnxruntime::Model::Model(onnx::ModelProto&&, const PathString&, const logging::Logger&) "
                + "Unsupported model IR version: 11, max supported IR version: 10";
        assertEquals("Unsupported model IR version: 11, max supported IR version: 10", OrtErrors.clean(raw));
        assertEquals("Something broke.", OrtErrors.clean("Something broke. Please create a GitHub issue with this model."));
    }
}
