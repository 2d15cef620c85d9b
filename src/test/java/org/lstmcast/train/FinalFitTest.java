package org.lstmcast.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.YearMonth;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.data.Transform;
import org.lstmcast.data.Windows;
import org.lstmcast.export.Export;
import org.lstmcast.onnx.ModelReport;
import org.lstmcast.onnx.OnnxInspector;

/**
 * The model written is fitted on every row unless --no-final-fit, short series are forecast by the anchors alone, and
 * auto weighs naive and drift beside the seasonal anchors. Expected forecasts are computed by hand from the rows.
 */
class FinalFitTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void oneThread() {
        Trainer.useThreads(1);
    }

    /** What the command line builds: lookback left to the data, auto, refit, and the final fit as asked. */
    private static TrainConfig commandLine(int horizon, int epochs, int ensemble, boolean finalFit, Transform t) {
        return new TrainConfig("value", List.of(), TrainConfig.LOOKBACK_FROM_DATA, horizon, t,
                TrainConfig.SEASON_FROM_DATA, 1, 8, 0, epochs, 32, 0.01, 3, 0.1, 0.2, 1, ensemble, true, finalFit);
    }

    private static byte[] csv(String header, List<String> labels, double[] y) {
        StringBuilder sb = new StringBuilder(header + ",value\n");
        for (int t = 0; t < y.length; t++) {
            sb.append(labels.get(t)).append(',').append(String.format(Locale.ROOT, "%.6f", y[t])).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> years(int n) {
        return IntStream.range(0, n).mapToObj(i -> Integer.toString(1990 + i)).toList();
    }

    private static List<String> months(int n) {
        return IntStream.range(0, n).mapToObj(i -> YearMonth.of(2000, 1).plusMonths(i)
                .toString()).toList();
    }

    /** The values as the CSV holds them (6 decimals), which is what training reads. */
    private static double[] rounded(double[] y) {
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            out[i] = Double.parseDouble(String.format(Locale.ROOT, "%.6f", y[i]));
        }
        return out;
    }

    private static double[] forecast(Path run, double[] y, int lookback) {
        double[][] values = new double[y.length][1];
        for (int i = 0; i < y.length; i++) {
            values[i][0] = y[i];
        }
        ModelFile.Loaded m = ModelFile.load(run.resolve("model.zip"));
        return m.forecaster().forecast(Collections.singletonList(Windows.window(values, y.length - 1, lookback)))[0];
    }

    @Test
    void twentyYearlyRowsAreForecastByDriftFittedOnEveryRow() throws Exception {
        // A steady trend: drift beats naive on the validation rows. 20 rows, horizon 6: 6 test, 6 validation and 8
        // training rows, too few for a network.
        double[] y = new double[20];
        for (int t = 0; t < y.length; t++) {
            y[t] = 100 + 5 * t + ((t * 7) % 5 - 2) * 0.4;
        }
        y = rounded(y);
        Path finalRun = tmp.resolve("final");
        TrainingRun.Outcome o = TrainingRun.run(csv("year", years(20), y), "y.csv", null,
                commandLine(6, 5, 2, true, Transform.AUTO), finalRun, TrainingListener.NONE);
        assertTrue(o.kept().startsWith("drift") && o.kept().endsWith("(no network)"), o.kept());
        JsonNode m = new ObjectMapper().readTree(finalRun.resolve("metrics.json").toFile());
        assertEquals(o.kept(), m.path("kept").asText());
        assertEquals("final", m.path("exported").path("model").asText());
        assertEquals(20, m.path("exported").path("rows").asInt());
        assertEquals(0, m.path("exported").path("networks").asInt());
        assertTrue(m.path("transform").path("fitted_to_the_data").asText().startsWith("no network"), m.toString());
        assertEquals(8, m.path("data").path("train_rows").asInt());
        assertEquals(6, m.path("data").path("val_rows").asInt());
        assertEquals(6, m.path("test_rows").asInt());
        // Drift from every row: the last value plus h times the mean change over all 19 steps.
        double slope = (y[19] - y[0]) / 19;
        double[] f = forecast(finalRun, y, 2);
        for (int h = 1; h <= 6; h++) {
            assertEquals(y[19] + h * slope, f[h - 1], 1e-9 * y[19], "step " + h);
        }
        // The export proves the model written, says no network is in the graph, and holds none.
        assertTrue(Export.export(finalRun.resolve("model.zip"), tmp.resolve("final.onnx")).maxRelError() < 1e-4);
        ModelReport report = OnnxInspector.inspect(tmp.resolve("final.onnx"));
        assertEquals("none: drift: the last value plus the training rows' mean change", report.metadata().get("network"));
        assertEquals("every row", report.metadata().get("fitted_on"));
        assertFalse(report.operators().containsKey("LSTM"), report.operators().toString());

        // --no-final-fit: the model the test part scored, its drift from the 14 rows before the test part.
        Path evaluatedRun = tmp.resolve("evaluated");
        TrainingRun.Outcome e = TrainingRun.run(csv("year", years(20), y), "y.csv", null,
                commandLine(6, 5, 2, false, Transform.AUTO), evaluatedRun, TrainingListener.NONE);
        JsonNode me = new ObjectMapper().readTree(evaluatedRun.resolve("metrics.json").toFile());
        assertEquals("evaluated", me.path("exported").path("model").asText());
        assertEquals(14, me.path("exported").path("rows").asInt());
        double evaluatedSlope = (y[13] - y[0]) / 13;
        double[] g = forecast(evaluatedRun, y, 2);
        for (int h = 1; h <= 6; h++) {
            assertEquals(y[19] + h * evaluatedSlope, g[h - 1], 1e-9 * y[19], "step " + h);
        }
        // The test scores are the recipe's, whichever model is written.
        assertEquals(m.path("model").toString(), me.path("model").toString());
        assertEquals(e.kept(), o.kept());
    }

    @Test
    void theFinalFitOfANetworkScalesAndTrainsOnEveryRow() throws Exception {
        double[][] values = Series.seasonal(120, 11);
        double[] y = new double[120];
        for (int i = 0; i < y.length; i++) {
            y[i] = values[i][0];
        }
        y = rounded(y);
        Path run = tmp.resolve("network");
        TrainingRun.Outcome o = TrainingRun.run(csv("month", months(120), y), "m.csv", null,
                commandLine(3, 3, 1, true, Transform.DIFF), run, TrainingListener.NONE);
        assertEquals("1 LSTM network on diff", o.kept());
        ModelFile.Loaded loaded = ModelFile.load(run.resolve("model.zip"));
        // First differences are standardised by their mean over the rows the model was fitted on: here all 120.
        assertEquals((y[119] - y[0]) / 119, loaded.info().inputShift()[0], 1e-9);
        assertEquals("every row", loaded.info().fittedOn());
        assertEquals("1 LSTM network on diff", loaded.info().network());
        JsonNode m = new ObjectMapper().readTree(run.resolve("metrics.json").toFile());
        assertEquals(m.path("best_epoch").asInt(), m.path("exported").path("epochs").asInt());
        assertEquals(1, m.path("exported").path("networks").asInt());
        assertTrue(Export.export(run.resolve("model.zip"), tmp.resolve("network.onnx")).maxRelError() < 1e-4);

        Path evaluated = tmp.resolve("evaluated");
        TrainingRun.run(csv("month", months(120), y), "m.csv", null, commandLine(3, 3, 1, false, Transform.DIFF),
                evaluated, TrainingListener.NONE);
        // 120 rows: 24 test rows, so the evaluated (refitted) model saw rows 0..95.
        ModelFile.Loaded before = ModelFile.load(evaluated.resolve("model.zip"));
        assertEquals((y[95] - y[0]) / 95, before.info().inputShift()[0], 1e-9);
        assertEquals("the rows before the test part", before.info().fittedOn());
    }

    @Test
    void aSeriesWhoseSeasonWasRemovedKeepsNoSeasonalAnchor() throws IOException {
        // A random walk with monthly labels: its months carry no pattern, so seasonal naive forecasts the validation
        // rows worse than naive, and no seasonal anchor may be kept.
        Random random = new Random(3);
        double[] y = new double[96];
        y[0] = 500;
        for (int t = 1; t < y.length; t++) {
            y[t] = y[t - 1] + random.nextGaussian() * 4;
        }
        y = rounded(y);
        Path run = tmp.resolve("walk");
        TrainingRun.run(csv("month", months(96), y), "walk.csv", null, commandLine(3, 2, 1, false, Transform.AUTO),
                run, TrainingListener.NONE);
        JsonNode t = new ObjectMapper().readTree(run.resolve("metrics.json").toFile()).path("transform");
        JsonNode scores = t.path("validation_rmse");
        assertTrue(scores.path("seasonal, anchor alone without drift").asDouble() > scores.path("naive").asDouble(),
                t.toString());
        assertTrue(t.path("season_shows").asText().startsWith("no"), t.toString());
        if (t.has("network")) {
            String kept = t.path("network").asText();
            assertTrue(kept.startsWith("none: naive") || kept.startsWith("none: drift"), kept);
            assertEquals("diff", t.path("used").asText());
        }
        // The anchor compared with the network, if one was compared, is naive or drift too.
        if (t.has("anchor_against_network")) {
            String anchor = t.path("anchor_against_network").path("anchor").asText();
            assertTrue(anchor.equals("naive") || anchor.equals("drift"), anchor);
        }
        assertFalse(t.path("used").asText().startsWith("seasonal") && t.has("network"), t.toString());
    }
}
