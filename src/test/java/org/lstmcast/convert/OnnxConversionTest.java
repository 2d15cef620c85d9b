package org.lstmcast.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * ONNX sources ONNX Runtime cannot run as they are (layout=1 recurrent nodes) or that need a sidecar (a time-major
 * input) convert to a batch-major forecaster that answers what NumPy computed from the source's weights.
 */
class OnnxConversionTest {
    private static final Path DIR = Path.of("src/test/resources/convert/onnx");

    @ParameterizedTest
    @CsvSource({"lstm_layout1,,", "gru_layout1_bidir,,", "rnn_layout1,,", "lstm_time_major,,", "two_outputs,x,forecast"})
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
}
