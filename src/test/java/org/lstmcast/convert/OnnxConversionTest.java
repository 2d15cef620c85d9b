package org.lstmcast.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lstmcast.data.Transform;
import org.lstmcast.forecast.Ort;

/**
 * ONNX sources ONNX Runtime cannot run as they are (layout=1 recurrent nodes) or that need a sidecar (a time-major
 * input) convert to a batch-major forecaster that answers what NumPy computed from the source's weights.
 */
class OnnxConversionTest {
    private static final Path DIR = Path.of("src/test/resources/convert/onnx");

    @ParameterizedTest
    @CsvSource({"lstm_layout1,,", "gru_layout1_bidir,,", "rnn_layout1,,", "lstm_time_major,,", "two_outputs,x,forecast",
            "lstm_layout1_named,,"})
    void convertsToABatchMajorForecasterThatMatchesNumpy(String name, String input, String output) throws Exception {
        JsonNode expected = new ObjectMapper().readTree(DIR.resolve(name + ".expected.json").toFile());
        JsonNode in = expected.get("inputs").fields().next().getValue();
        long[] shape = new ObjectMapper().convertValue(in.get("shape"), long[].class);
        boolean timeMajor = name.contains("time_major");
        int batch = (int) (timeMajor ? shape[1] : shape[0]);
        int steps = (int) (timeMajor ? shape[0] : shape[1]);
        int features = (int) shape[2];
        List<double[][]> windows = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            double[][] w = new double[steps][features];
            for (int t = 0; t < steps; t++) {
                for (int f = 0; f < features; f++) {
                    int index = timeMajor ? (t * batch + b) * features + f : (b * steps + t) * features + f;
                    w[t][f] = in.get("data").get(index).asDouble();
                }
            }
            windows.add(w);
        }
        JsonNode out = output == null ? expected.get("outputs").fields().next().getValue() : expected.get("outputs").get(output);
        int width = out.get("data").size() / batch;
        double[][] want = new double[batch][width];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < width; j++) {
                want[b][j] = out.get("data").get(b * width + j).asDouble();
            }
        }
        ConvertOptions o = ConvertOptions.defaults().withLookback(steps).withNames(input, output);
        Converter.Result result = Converter.convert(DIR.resolve(name + ".onnx"), o);
        assertTrue(result.parity().ok(), result.parity().toString());
        assertTrue(result.forecasting(), "a [batch, horizon] output with a known window is served as a forecaster");
        assertEquals(steps, result.lookback());
        assertTrue(!result.notes().isEmpty() || !name.startsWith("two"), "the changes are reported: " + result.notes());
        KerasConversionTest.assertClose(want, Converter.runOrt(result.bytes(), windows), 1e-4, name);
    }

    /**
     * A client written for the source names its tensors: the converted file takes and answers them under the source's
     * names, dims and types, here a fixed window of 6 rows and a {@code [N, 3, 1]} output whose graph also holds a
     * value called {@code output}, the name the wrapper uses itself.
     */
    @Test
    void keepsTheSourcesInputAndOutput() throws Exception {
        Converter.Result result = Converter.convert(DIR.resolve("lstm_layout1_named.onnx"), ConvertOptions.defaults());
        assertTrue(result.parity().ok(), result.parity().toString());
        assertTrue(result.forecasting());
        assertEquals(6, result.lookback());
        OnnxMl.GraphProto g = result.model().getGraph();
        assertEquals(List.of("X"), g.getInputList().stream().map(OnnxMl.ValueInfoProto::getName).toList());
        assertEquals(List.of("Y"), g.getOutputList().stream().map(OnnxMl.ValueInfoProto::getName).toList());
        assertEquals(List.of("N", "6", "2"), dims(g.getInput(0)));
        assertEquals(List.of("N", "3", "1"), dims(g.getOutput(0)));
        assertEquals(OnnxMl.TensorProto.DataType.FLOAT_VALUE, g.getInput(0).getType().getTensorType().getElemType());
        assertEquals(OnnxMl.TensorProto.DataType.FLOAT_VALUE, g.getOutput(0).getType().getTensorType().getElemType());
        try (OrtSession.SessionOptions opts = Ort.sessionOptions();
             OrtSession session = Ort.environment().createSession(result.bytes(), opts)) {
            assertEquals(List.of(-1L, 6L, 2L), Arrays.stream(((TensorInfo) session.getInputInfo().get("X").getInfo()).getShape())
                    .boxed().toList());
            assertEquals(List.of(-1L, 3L, 1L), Arrays.stream(((TensorInfo) session.getOutputInfo().get("Y").getInfo()).getShape())
                    .boxed().toList());
        }

        // With transform diff the wrapper reads one row more than the network: a fixed 6 would refuse every window.
        Converter.Result diff = Converter.convert(DIR.resolve("lstm_layout1_named.onnx"),
                ConvertOptions.defaults().withTarget(0, Transform.DIFF));
        assertTrue(diff.parity().ok(), diff.parity().toString());
        assertEquals(7, diff.lookback());
        assertEquals(List.of("N", "sequence", "2"), dims(diff.model().getGraph().getInput(0)));
        assertEquals("X", diff.model().getGraph().getInput(0).getName());

        // An open time axis stays open under the source's own name for it.
        Converter.Result open = Converter.convert(DIR.resolve("lstm_layout1.onnx"), ConvertOptions.defaults().withLookback(5));
        assertEquals(List.of("batch", "seq", "2"), dims(open.model().getGraph().getInput(0)));
        assertEquals(List.of("batch", "1"), dims(open.model().getGraph().getOutput(0)));
        assertEquals("y", open.model().getGraph().getOutput(0).getName());
    }

    /**
     * An export without a dynamic batch axis declares its batch size: the converted file declares the same, and is
     * proven and run that many windows at a time (3 windows at 2 a run: the last run is padded).
     */
    @Test
    void aFixedBatchStaysFixed(@TempDir Path dir) throws Exception {
        OnnxMl.ModelProto.Builder b = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(DIR.resolve("lstm_layout1_named.onnx")))
                .toBuilder();
        b.getGraphBuilder().getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0)
                .clearDimParam().setDimValue(2);
        b.getGraphBuilder().getOutputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0)
                .clearDimParam().setDimValue(2);
        Path source = dir.resolve("batch2.onnx");
        Files.write(source, b.build().toByteArray());
        Converter.Result result = Converter.convert(source, ConvertOptions.defaults());
        assertTrue(result.parity().ok(), result.parity().toString());
        assertEquals(64, result.parity().windows());
        assertEquals(List.of("2", "6", "2"), dims(result.model().getGraph().getInput(0)));
        assertEquals(List.of("2", "3", "1"), dims(result.model().getGraph().getOutput(0)));

        JsonNode expected = new ObjectMapper().readTree(DIR.resolve("lstm_layout1_named.expected.json").toFile());
        JsonNode x = expected.get("inputs").get("X").get("data");
        JsonNode y = expected.get("outputs").get("Y").get("data");
        List<double[][]> windows = new ArrayList<>();
        double[][] want = new double[3][3];
        for (int w = 0; w < 3; w++) {
            double[][] window = new double[6][2];
            for (int t = 0; t < 6; t++) {
                for (int f = 0; f < 2; f++) {
                    window[t][f] = x.get((w * 6 + t) * 2 + f).asDouble();
                }
            }
            windows.add(window);
            for (int h = 0; h < 3; h++) {
                want[w][h] = y.get(w * 3 + h).asDouble();
            }
        }
        KerasConversionTest.assertClose(want, Converter.runOrt(result.bytes(), windows), 1e-4, "batch 2");
    }

    private static List<String> dims(OnnxMl.ValueInfoProto v) {
        return v.getType().getTensorType().getShape().getDimList().stream()
                .map(d -> d.hasDimValue() ? Long.toString(d.getDimValue()) : d.getDimParam()).toList();
    }
}
