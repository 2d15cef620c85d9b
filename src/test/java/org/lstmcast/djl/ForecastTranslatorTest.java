package org.lstmcast.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lstmcast.data.CsvReader;
import org.lstmcast.data.Series;
import org.lstmcast.data.Windows;
import org.lstmcast.export.SmallExport;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.forecast.InvalidInputException;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.onnx.OnnxInspector;
import org.lstmcast.predict.Prediction;

/** An exported model loaded through DJL gives the numbers `predict` gives. */
class ForecastTranslatorTest {

    @BeforeAll
    static void offline() {
        // Nothing may be fetched at run time; DJL must only use what is on the class path.
        System.setProperty("ai.djl.offline", "true");
    }

    @Test
    void theIntervalPredictorAnswersTheGraphsOwnBounds(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path onnx = tmp.resolve("m/model.onnx");
        SmallExport.write(tmp, onnx);
        Intervals intervals = Intervals.fromMetadata(
                OnnxInspector.inspect(onnx).metadata());
        Criteria<double[][], IntervalForecastTranslator.Forecast> criteria = Criteria.builder()
                .setTypes(double[][].class, IntervalForecastTranslator.Forecast.class)
                .optModelPath(onnx.getParent())
                .optEngine("OnnxRuntime")
                .optTranslatorFactory(new ForecastTranslatorFactory())
                .build();
        double[][] window = new double[20][1];
        for (int i = 0; i < window.length; i++) {
            window[i][0] = 120 + 3 * Math.sin(i);
        }
        try (ZooModel<double[][], IntervalForecastTranslator.Forecast> model = criteria.loadModel();
             Predictor<double[][], IntervalForecastTranslator.Forecast> predictor = model.newPredictor();
             var core = OnnxForecaster.open(onnx)) {
            IntervalForecastTranslator.Forecast f = predictor.predict(window);
            assertArrayEquals(core.forecast(Collections.singletonList(window), 3)[0], f.forecast(), 0.0);
            assertArrayEquals(new int[] {80, 95}, f.levels());
            for (int l = 0; l < 2; l++) {
                double[][] b = intervals.bounds(f.forecast(), l);
                for (int h = 0; h < 3; h++) {
                    assertEquals(b[0][h], f.lower()[h][l], 0.0, "lower step " + h + " level " + l);
                    assertEquals(b[1][h], f.upper()[h][l], 0.0, "upper step " + h + " level " + l);
                }
            }
        }
        // A model without intervals is refused by the interval predictor, with the reason.
        Path plainDir = Files.createDirectories(tmp.resolve("plain"));
        Files.copy(Path.of("src/test/resources/fixtures/dax_lstm.onnx"), plainDir.resolve("model.onnx"));
        Criteria<double[][], IntervalForecastTranslator.Forecast> plain = Criteria.builder()
                .setTypes(double[][].class, IntervalForecastTranslator.Forecast.class)
                .optModelPath(plainDir).optEngine("OnnxRuntime")
                .optTranslatorFactory(new ForecastTranslatorFactory()).build();
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> {
            try (var m = plain.loadModel(); var p = m.newPredictor()) {
                p.predict(new double[30][1]);
            }
        });
        Throwable root = e;
        while (root.getCause() != null && !(root instanceof IllegalArgumentException)) {
            root = root.getCause();
        }
        org.junit.jupiter.api.Assertions.assertTrue(String.valueOf(root.getMessage()).contains("no calibrated prediction intervals"),
                String.valueOf(e));
    }

    @Test
    void predictorGivesWhatPredictGives() throws Exception {
        Path modelDir = Path.of("models/dax/1");
        Path csv = Path.of("data/eustockmarkets_daily.csv");
        Criteria<double[][], double[]> criteria = Criteria.builder()
                .setTypes(double[][].class, double[].class)
                .optModelPath(modelDir)
                .optEngine("OnnxRuntime")
                .optTranslatorFactory(new ForecastTranslatorFactory())
                .build();
        Series series = CsvReader.read(csv, List.of("DAX"), null);
        Prediction.Result predicted = Prediction.predict(modelDir.resolve("model.onnx"), csv, null, 0, null, 0);
        try (ZooModel<double[][], double[]> model = criteria.loadModel();
             Predictor<double[][], double[]> predictor = model.newPredictor()) {
            assertArrayEquals(predicted.forecast(), predictor.predict(series.values()), 0.0);

            List<double[][]> windows = new ArrayList<>();
            for (int origin = 500; origin < 1860; origin += 97) {
                windows.add(Windows.window(series.values(), origin, 30));
            }
            List<double[]> batch = predictor.batchPredict(windows);
            assertEquals(windows.size(), batch.size());
            for (int i = 0; i < windows.size(); i++) {
                double[] one = predictor.predict(windows.get(i));
                assertArrayEquals(one, batch.get(i), 1e-4 * Math.abs(one[0]), "window " + i);
                try (var core = OnnxForecaster.open(modelDir.resolve("model.onnx"))) {
                    assertArrayEquals(core.forecast(Collections.singletonList(windows.get(i)), 5)[0], one, 0.0);
                }
            }
        }
    }

    @Test
    void windowsThatDoNotFitTheDeclaredInputAreRefusedBeforeTheRuntime() throws Exception {
        // A model with a fixed sequence of 24 steps, told to read 20: the translator must refuse, not hand it over.
        Path file = Path.of(ForecastTranslatorTest.class.getResource("/fixtures/torch_lstm_2layer_multivariate.onnx").toURI());
        ForecastSpec wrong = new ForecastSpec("x", "y", 20, 4, List.of("a", "b", "c"), "a", null, null);
        Criteria<double[][], double[]> criteria = Criteria.builder()
                .setTypes(double[][].class, double[].class)
                .optModelPath(file.getParent())
                .optModelName("torch_lstm_2layer_multivariate")
                .optEngine("OnnxRuntime")
                .optTranslator(new ForecastTranslator(wrong))
                .build();
        try (ZooModel<double[][], double[]> model = criteria.loadModel();
             Predictor<double[][], double[]> predictor = model.newPredictor()) {
            double[][] window = new double[20][3];
            Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> predictor.predict(window));
            Throwable cause = e;
            while (cause != null && !(cause instanceof InvalidInputException)) {
                cause = cause.getCause();
            }
            org.junit.jupiter.api.Assertions.assertNotNull(cause, "refused by the shape check: " + e);
            org.junit.jupiter.api.Assertions.assertTrue(cause.getMessage().contains("[1, 20, 3]"), cause.getMessage());
        }
    }
}
