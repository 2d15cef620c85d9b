package org.lstmcast.convert.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.lstmcast.forecast.Ort;

/**
 * The models written by {@code src/test/resources/convert/onnx/make_onnx_fixtures.py}, their expected outputs from
 * that script's NumPy forward pass, and a way to run a model in a real ONNX Runtime session.
 */
final class OnnxFixtures {
    static final List<String> LAYOUT1 = List.of("lstm_layout1", "gru_layout1_bidir", "rnn_layout1");
    static final List<String> ALL = List.of("lstm_layout1", "gru_layout1_bidir", "rnn_layout1", "lstm_time_major",
            "two_outputs");

    private OnnxFixtures() {
    }

    /** A fixture model with the inputs it was evaluated on and the outputs NumPy computed, each by name. */
    record Fixture(String name, OnnxMl.ModelProto model, Map<String, OnnxReference.Tensor> inputs,
                   Map<String, OnnxReference.Tensor> outputs) {
        /** The input and output a forecaster would use: the only ones, or x and forecast. */
        String input() {
            return inputs.containsKey("x") ? "x" : inputs.keySet().iterator().next();
        }

        String output() {
            return outputs.size() == 1 ? outputs.keySet().iterator().next() : "forecast";
        }

        OnnxNormalizer.Normalized normalize() {
            return OnnxNormalizer.normalize(model, null, inputs.size() > 1 ? "x" : null, outputs.size() > 1 ? "forecast" : null);
        }
    }

    static Fixture load(String name) {
        try (InputStream model = resource(name + ".onnx"); InputStream json = resource(name + ".expected.json")) {
            JsonNode doc = new ObjectMapper().readTree(json);
            return new Fixture(name, OnnxMl.ModelProto.parseFrom(model), tensors(doc.get("inputs")),
                    tensors(doc.get("outputs")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream resource(String file) {
        InputStream in = OnnxFixtures.class.getResourceAsStream("/convert/onnx/" + file);
        if (in == null) {
            throw new IllegalStateException("missing test resource convert/onnx/" + file);
        }
        return in;
    }

    private static Map<String, OnnxReference.Tensor> tensors(JsonNode node) {
        Map<String, OnnxReference.Tensor> out = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> {
            long[] shape = new long[e.getValue().get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = e.getValue().get("shape").get(i).asLong();
            }
            JsonNode data = e.getValue().get("data");
            double[] d = new double[data.size()];
            for (int i = 0; i < d.length; i++) {
                d[i] = data.get(i).asDouble();
            }
            out.put(e.getKey(), new OnnxReference.Tensor(shape, d));
        });
        return out;
    }

    /** Runs {@code model} in an ONNX Runtime CPU session; float32 in and out, returned widened. */
    static Map<String, OnnxReference.Tensor> runOrt(OnnxMl.ModelProto model, Map<String, OnnxReference.Tensor> inputs)
            throws OrtException {
        try (OrtSession.SessionOptions options = Ort.sessionOptions();
             OrtSession session = Ort.environment().createSession(model.toByteArray(), options)) {
            return runOrt(session, inputs);
        }
    }

    static Map<String, OnnxReference.Tensor> runOrt(OrtSession session, Map<String, OnnxReference.Tensor> inputs)
            throws OrtException {
        Map<String, OnnxTensor> feed = new HashMap<>();
        try {
            for (Map.Entry<String, OnnxReference.Tensor> e : inputs.entrySet()) {
                double[] d = e.getValue().data();
                float[] f = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    f[i] = (float) d[i];
                }
                feed.put(e.getKey(), OnnxTensor.createTensor(Ort.environment(), FloatBuffer.wrap(f), e.getValue().shape()));
            }
            Map<String, OnnxReference.Tensor> out = new LinkedHashMap<>();
            try (OrtSession.Result result = session.run(feed, Set.copyOf(session.getOutputNames()))) {
                for (Map.Entry<String, OnnxValue> e : result) {
                    OnnxTensor t = (OnnxTensor) e.getValue();
                    FloatBuffer buf = t.getFloatBuffer();
                    double[] d = new double[buf.remaining()];
                    for (int i = 0; i < d.length; i++) {
                        d[i] = buf.get(i);
                    }
                    out.put(e.getKey(), new OnnxReference.Tensor(t.getInfo().getShape(), d));
                }
            }
            return out;
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    /** Same shape, and every value within {@code tolerance} of the expected one, relative to max(1, |expected|). */
    static void assertClose(OnnxReference.Tensor expected, OnnxReference.Tensor actual, double tolerance, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double worst = 0;
        for (int i = 0; i < expected.data().length; i++) {
            double e = expected.data()[i];
            worst = Math.max(worst, Math.abs(actual.data()[i] - e) / Math.max(1, Math.abs(e)));
        }
        assertTrue(worst <= tolerance, what + ": off by " + worst + " (allowed " + tolerance + ")");
    }

    /** A batch-major copy of a time-major {@code [seq, batch, features]} tensor. */
    static OnnxReference.Tensor swapLeadingAxes(OnnxReference.Tensor t) {
        long[] s = t.shape();
        double[] out = new double[t.data().length];
        int a = (int) s[0];
        int b = (int) s[1];
        int f = (int) s[2];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(t.data(), (i * b + j) * f, out, (j * a + i) * f, f);
            }
        }
        return new OnnxReference.Tensor(new long[] {b, a, f}, out);
    }
}
