package org.lstmcast.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Transform;
import org.lstmcast.data.Windows;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.forecast.Ort;
import org.lstmcast.model.Proof;
import org.lstmcast.train.ModelFile;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.TrainingListener;
import org.lstmcast.train.TrainingRun;

/**
 * Every exported configuration must reproduce its DL4J network plus Java preprocessing within 1e-4 relative, at
 * batch 1 and 64, for windows of exactly the lookback and longer ones.
 */
class ExportParityTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> configurations() {
        // layers, hidden, extra features, lookback, horizon, transform
        return Stream.of(
                Arguments.of(1, 8, 0, 12, 1, Transform.LEVEL),
                Arguments.of(1, 32, 0, 20, 5, Transform.DIFF),
                Arguments.of(2, 16, 0, 10, 3, Transform.RELATIVE),
                Arguments.of(3, 8, 0, 8, 4, Transform.DIFF),
                Arguments.of(1, 16, 2, 12, 3, Transform.LEVEL),
                Arguments.of(2, 8, 2, 16, 1, Transform.DIFF),
                Arguments.of(3, 12, 1, 6, 2, Transform.RELATIVE),
                Arguments.of(2, 24, 1, 24, 6, Transform.LEVEL),
                // seasonal, season 12: a horizon within one season, and one past it (step 13 repeats step 1's anchor)
                Arguments.of(1, 16, 0, 14, 5, Transform.SEASONAL),
                Arguments.of(2, 8, 1, 12, 13, Transform.SEASONAL),
                // seasonal-mean, season 12: anchors from two seasons back, within one season's horizon and past it
                Arguments.of(1, 16, 0, 26, 5, Transform.SEASONAL_MEAN),
                Arguments.of(1, 8, 1, 24, 13, Transform.SEASONAL_MEAN));
    }

    static Stream<Arguments> ensembles() {
        // members, layers, hidden, extra features, lookback, horizon, transform
        return Stream.of(
                Arguments.of(3, 1, 8, 0, 26, 5, Transform.SEASONAL_MEAN),
                Arguments.of(2, 2, 8, 1, 12, 3, Transform.DIFF));
    }

    @ParameterizedTest(name = "layers={0} hidden={1} extra={2} lookback={3} horizon={4} {5}")
    @MethodSource("configurations")
    void exportMatchesTheNetworkItCameFrom(int layers, int hidden, int extra, int lookback, int horizon, Transform transform)
            throws IOException, OrtException {
        exportMatches(1, layers, hidden, extra, lookback, horizon, transform);
    }

    @ParameterizedTest(name = "members={0} layers={1} hidden={2} extra={3} lookback={4} horizon={5} {6}")
    @MethodSource("ensembles")
    void anEnsembleExportsAsOneGraphThatMatchesTheMeanOfItsNetworks(int members, int layers, int hidden, int extra,
                                                                    int lookback, int horizon, Transform transform)
            throws IOException, OrtException {
        exportMatches(members, layers, hidden, extra, lookback, horizon, transform);
        OnnxMl.ModelProto model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(tmp.resolve("model.onnx")));
        assertEquals(members * layers, model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("LSTM")).count());
        assertEquals(1, model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Mean")).count());
    }

    private void exportMatches(int members, int layers, int hidden, int extra, int lookback, int horizon, Transform transform)
            throws IOException, OrtException {
        String csv = multivariate(400, extra, 17L * layers + hidden);
        List<String> features = new ArrayList<>();
        for (int i = 0; i < extra; i++) {
            features.add("x" + i);
        }
        TrainConfig config = new TrainConfig("y", features, lookback, horizon, transform,
                transform.anchorSeasons() > 0 ? 12 : 0, layers, hidden,
                layers > 1 ? 0.2 : 0, 2, 32, 0.01, 5, 0.1, 0.2, 3, members);
        Path run = tmp.resolve("run");
        TrainingRun.run(csv.getBytes(StandardCharsets.UTF_8), "gen.csv", null, config, run, TrainingListener.NONE);
        Path onnx = tmp.resolve("model.onnx");

        Preprocessor pre = ModelFile.load(run.resolve("model.zip")).info().preprocessor();
        if (transform.anchorSeasons() > 0 && lookback > transform.anchorSeasons() * 12) {
            // The window also holds its last row's anchor: part of that anchor's error is carried into the forecasts,
            // and the parity below covers the graph's nodes for it.
            assertTrue(pre.carriesAnchorError() && pre.anchorCarry()[0] > 0, Arrays.toString(pre.anchorCarry()));
        }
        Proof.Parity parity = Export.export(run.resolve("model.zip"), onnx);
        System.out.printf(Locale.ROOT, "parity members=%d layers=%d hidden=%d extra=%d lookback=%d horizon=%d %s: max abs %.3g, max rel %.3g%n",
                members, layers, hidden, extra, lookback, horizon, transform, parity.maxAbsError(), parity.maxRelError());
        assertTrue(parity.ok(), parity.toString());
        // 400 rows: test ceil(80) = 80 rows, forecast from the 80 + horizon - 1 origins that reach them
        assertEquals(80 + horizon - 1, parity.windows());
        assertBatchesAndLongerWindowsAgree(run.resolve("model.zip"), onnx, lookback, horizon);
        assertMatchesPredictionsCsv(run, onnx, lookback, horizon);
    }

    /**
     * A season that grows faster every year: auto keeps the seasonal anchor with the window's own drift, and the graph's
     * nodes for that drift (and the error carried against it) prove equal to the Java preprocessing.
     */
    @org.junit.jupiter.api.Test
    void anAnchorWithTheWindowsDriftExportsAndProvesParity() throws IOException, OrtException {
        StringBuilder csv = new StringBuilder("month,y\n");
        Random random = new Random(3);
        for (int t = 0; t < 360; t++) {
            double v = Math.exp(0.009 * t) * (10 + 3 * Math.sin(2 * Math.PI * t / 4)) + 0.05 * random.nextGaussian();
            csv.append(t).append(',').append(String.format(Locale.ROOT, "%.6f", v)).append('\n');
        }
        TrainConfig config = new TrainConfig("y", List.of(), 21, 3, Transform.AUTO, 4, 1, 8, 0, 3, 32, 0.01, 5, 0.1,
                0.2, 3, 1);
        Path run = tmp.resolve("window-drift");
        TrainingRun.run(csv.toString().getBytes(StandardCharsets.UTF_8), "gen.csv", null, config, run,
                TrainingListener.NONE);
        ModelFile.Loaded loaded = ModelFile.load(run.resolve("model.zip"));
        Preprocessor pre = loaded.info().preprocessor();
        assertTrue(pre.windowDrift() && pre.carriesAnchorError(), Files.readString(run.resolve("metrics.json")));
        assertEquals(2, loaded.info().format(), "a reader that knows no window drift refuses the file");
        Path onnx = tmp.resolve("window-drift.onnx");
        Proof.Parity parity = Export.export(run.resolve("model.zip"), onnx);
        assertTrue(parity.ok(), parity.toString());
        // The anchor alone's network outputs zero: the graph leaves its LSTM out.
        OnnxMl.ModelProto model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(onnx));
        assertEquals(0, model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("LSTM")).count());
        assertTrue(Files.readString(run.resolve("metrics.json")).contains("anchor alone"));
        assertBatchesAndLongerWindowsAgree(run.resolve("model.zip"), onnx, 21, 3);
        assertMatchesPredictionsCsv(run, onnx, 21, 3);
    }

    @org.junit.jupiter.api.Test
    void compareReportsTheWorstAbsoluteAndRelativeError() {
        Proof.Parity p = Proof.compare(new double[][] {{100, 200}, {0, -50}}, new double[][] {{100.01, 200}, {0, -50.5}});
        assertEquals(0.5, p.maxAbsError(), 1e-12);
        assertEquals(0.5 / 50.5, p.maxRelError(), 1e-12);
        assertEquals(4, p.values());
        assertTrue(!p.ok());
        Proof.Parity nan = Proof.compare(new double[][] {{1}}, new double[][] {{Double.NaN}});
        assertTrue(!nan.ok(), "NaN never passes");
    }

    /** The same windows at batch 1 and 64, exactly lookback long and 7 rows longer, against DL4J. */
    private static void assertBatchesAndLongerWindowsAgree(Path modelZip, Path onnx, int lookback, int horizon)
            throws OrtException {
        ModelFile.Loaded loaded = ModelFile.load(modelZip);
        double[][] rows = loaded.test().values();
        List<double[][]> exact = new ArrayList<>();
        List<double[][]> longer = new ArrayList<>();
        for (int origin = lookback + 6; origin < rows.length && exact.size() < 64; origin++) {
            exact.add(Windows.window(rows, origin, lookback));
            longer.add(Windows.window(rows, origin, lookback + 7));
        }
        assertEquals(64, exact.size(), "enough test rows for a batch of 64");
        double[][] expected = loaded.forecaster().forecast(exact);
        try (OnnxForecaster model = OnnxForecaster.open(onnx)) {
            Proof.Parity batch64 = Proof.compare(expected, model.forecast(exact, horizon));
            Proof.Parity longWindows = Proof.compare(expected, model.forecast(longer, horizon));
            double[][] one = new double[exact.size()][];
            for (int i = 0; i < exact.size(); i++) {
                one[i] = model.forecast(List.<double[][]>of(exact.get(i)), horizon)[0];
            }
            Proof.Parity batch1 = Proof.compare(expected, one);
            assertTrue(batch64.ok(), "batch 64: " + batch64);
            assertTrue(batch1.ok(), "batch 1: " + batch1);
            assertTrue(longWindows.ok(), "windows longer than the lookback: " + longWindows);
        }
    }

    /** The exported graph reproduces what training wrote into predictions.csv for the same windows. */
    private static void assertMatchesPredictionsCsv(Path run, Path onnx, int lookback, int horizon)
            throws IOException, OrtException {
        ModelFile.Loaded loaded = ModelFile.load(run.resolve("model.zip"));
        List<CSVRecord> records;
        try (Reader r = Files.newBufferedReader(run.resolve("predictions.csv"))) {
            records = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r).getRecords();
        }
        int offset = loaded.info().testOffset();
        double[][] rows = loaded.test().values();
        assertEquals(rows.length - offset, records.size());
        List<double[][]> windows = new ArrayList<>();
        double[][] expected = new double[records.size() * horizon][1];
        for (int i = 0; i < records.size(); i++) {
            for (int h = 1; h <= horizon; h++) {
                windows.add(Windows.window(rows, offset + i - h, lookback));
                expected[(i * horizon) + h - 1][0] = Double.parseDouble(records.get(i).get("forecast_" + h));
            }
        }
        try (OnnxForecaster model = OnnxForecaster.open(onnx)) {
            double[][] all = model.forecast(windows, horizon);
            double[][] actual = new double[all.length][1];
            for (int k = 0; k < all.length; k++) {
                actual[k][0] = all[k][k % horizon];
            }
            Proof.Parity p = Proof.compare(expected, actual);
            assertTrue(p.ok(), "predictions.csv vs ONNX: " + p);
        }
        // The interval outputs of the graph against predictions.csv's bounds, which training computed in double
        // from the DL4J forecasts: every row, step, level and end.
        int[] levels = loaded.info().predictionIntervals().levels();
        assertEquals(List.of(80, 95), Arrays.stream(levels).boxed().toList());
        try (OrtSession session = Ort.environment().createSession(onnx.toString())) {
            assertTrue(session.getOutputNames().containsAll(List.of("forecast_lower", "forecast_upper")));
            float[][][] x = new float[windows.size()][lookback][];
            for (int k = 0; k < windows.size(); k++) {
                double[][] w = windows.get(k);
                for (int r = 0; r < lookback; r++) {
                    double[] row = w[w.length - lookback + r];
                    x[k][r] = new float[row.length];
                    for (int f = 0; f < row.length; f++) {
                        x[k][r][f] = (float) row[f];
                    }
                }
            }
            try (OnnxTensor in = OnnxTensor.createTensor(Ort.environment(), x);
                 OrtSession.Result out = session.run(Map.of("input", in))) {
                float[][][] lower = (float[][][]) out.get("forecast_lower").orElseThrow().getValue();
                float[][][] upper = (float[][][]) out.get("forecast_upper").orElseThrow().getValue();
                for (int l = 0; l < levels.length; l++) {
                    double[][] want = new double[records.size() * horizon * 2][1];
                    double[][] got = new double[want.length][1];
                    for (int i = 0; i < records.size(); i++) {
                        for (int h = 1; h <= horizon; h++) {
                            int k = i * horizon + h - 1;
                            want[2 * k][0] = Double.parseDouble(records.get(i).get("lower_" + levels[l] + "_" + h));
                            want[2 * k + 1][0] = Double.parseDouble(records.get(i).get("upper_" + levels[l] + "_" + h));
                            got[2 * k][0] = lower[k][h - 1][l];
                            got[2 * k + 1][0] = upper[k][h - 1][l];
                        }
                    }
                    Proof.Parity p = Proof.compare(want, got);
                    assertTrue(p.ok(), "predictions.csv intervals vs ONNX at " + levels[l] + "%: " + p);
                }
                for (int k = 0; k < lower.length; k++) {
                    for (int h = 0; h < horizon; h++) {
                        assertTrue(lower[k][h][0] >= lower[k][h][1] && upper[k][h][0] <= upper[k][h][1]
                                && lower[k][h][0] <= upper[k][h][0], "the 80% interval lies inside the 95% one");
                    }
                }
            }
        }
    }

    /**
     * A positive target y driven by its own season, by a deviation that fades (each row keeps 0.8 of it, so seasonal
     * forecasts carry part of their last error) and by the extra columns x0.. (random walks).
     */
    static String multivariate(int rows, int extra, long seed) {
        Random random = new Random(seed);
        double deviation = 0;
        double[] x = new double[extra];
        Arrays.fill(x, 20);
        StringBuilder sb = new StringBuilder("t,y");
        for (int i = 0; i < extra; i++) {
            sb.append(",x").append(i);
        }
        sb.append('\n');
        for (int t = 0; t < rows; t++) {
            deviation = 0.8 * deviation + random.nextGaussian();
            double y = 100 + 0.1 * t + 5 * Math.sin(2 * Math.PI * t / 12) + deviation;
            for (int i = 0; i < extra; i++) {
                x[i] += random.nextGaussian();
                y += 0.3 * x[i];
            }
            sb.append(t).append(String.format(Locale.ROOT, ",%.5f", y));
            for (double v : x) {
                sb.append(String.format(Locale.ROOT, ",%.5f", v));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
