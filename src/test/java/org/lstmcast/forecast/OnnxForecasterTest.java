package org.lstmcast.forecast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.lstmcast.onnx.OnnxInspector;

/** The forecasting core on models trained elsewhere, against the outputs their own framework computed. */
class OnnxForecasterTest {

    static Path fixture(String name) throws URISyntaxException {
        return Path.of(OnnxForecasterTest.class.getResource("/fixtures/" + name).toURI());
    }

    @Test
    void pytorchModelsGiveWhatPyTorchGave() throws Exception {
        for (String name : List.of("torch_lstm_univariate", "torch_lstm_2layer_multivariate")) {
            JsonNode ref = new ObjectMapper().readTree(fixture(name + ".expected.json").toFile());
            Path model = fixture(name + ".onnx");
            ForecastSpec spec = OnnxInspector.inspect(model).forecast();
            try (OnnxForecaster f = OnnxForecaster.open(model, spec)) {
                List<double[][]> windows = windows(ref.get("windows"));
                double[][] got = f.forecast(windows, ref.get("horizon").asInt());
                for (int b = 0; b < got.length; b++) {
                    for (int h = 0; h < got[b].length; h++) {
                        double want = ref.get("expected").get(b).get(h).asDouble();
                        assertEquals(want, got[b][h], 1e-4 * Math.max(1, Math.abs(want)), name + " window " + b + " step " + h);
                    }
                }
            }
        }
    }

    @Test
    void univariateModelsRollForwardOnTheirOwnForecasts() throws Exception {
        JsonNode ref = new ObjectMapper().readTree(fixture("torch_lstm_univariate.expected.json").toFile());
        Path model = fixture("torch_lstm_univariate.onnx");
        ForecastSpec dynamic = OnnxInspector.inspect(model).forecast();
        ForecastSpec spec = new ForecastSpec("x", "y", 30, 3, List.of("value"), "value", null, null);
        assertEquals(0, dynamic.lookback());
        double[][] window = windows(ref.get("windows")).get(0);
        try (OnnxForecaster f = OnnxForecaster.open(model, spec)) {
            double[] eight = f.forecast(List.<double[][]>of(window), 8)[0];
            // By hand: three steps, then the window shifted by those three, and so on.
            double[][] w = window;
            List<Double> expected = new ArrayList<>();
            while (expected.size() < 8) {
                double[] step = f.forecast(List.<double[][]>of(w), 3)[0];
                double[][] next = new double[30][];
                for (int r = 0; r < 27; r++) {
                    next[r] = w[r + 3];
                }
                for (int h = 0; h < 3; h++) {
                    expected.add(step[h]);
                    next[27 + h] = new double[] {(float) step[h]};
                }
                w = next;
            }
            for (int h = 0; h < 8; h++) {
                assertEquals(expected.get(h), eight[h], 1e-9, "step " + (h + 1));
            }
        }
    }

    @Test
    void multivariateModelsDoNotRollForwardAndWindowsAreChecked() throws Exception {
        Path model = fixture("torch_lstm_2layer_multivariate.onnx");
        ForecastSpec spec = OnnxInspector.inspect(model).forecast();
        try (OnnxForecaster f = OnnxForecaster.open(model, spec)) {
            double[][] window = new double[24][3];
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> f.forecast(List.<double[][]>of(window), 5));
            assertTrue(e.getMessage().contains("limited to 4"), e.getMessage());
            assertThrows(InvalidInputException.class, () -> f.forecast(List.<double[][]>of(new double[23][3]), 4));
            assertThrows(InvalidInputException.class, () -> f.forecast(List.<double[][]>of(new double[24][2]), 4));
            double[][] nan = new double[24][3];
            nan[5][1] = Double.NaN;
            assertThrows(InvalidInputException.class, () -> f.forecast(List.<double[][]>of(nan), 4));
            assertEquals(4, f.forecast(List.<double[][]>of(new double[30][3]), 4)[0].length, "longer windows are cut");
        }
    }

    private static List<double[][]> windows(JsonNode node) {
        List<double[][]> out = new ArrayList<>();
        for (JsonNode w : node) {
            double[][] rows = new double[w.size()][];
            for (int r = 0; r < w.size(); r++) {
                rows[r] = new double[w.get(r).size()];
                for (int c = 0; c < rows[r].length; c++) {
                    rows[r][c] = w.get(r).get(c).asDouble();
                }
            }
            out.add(rows);
        }
        return out;
    }
}
