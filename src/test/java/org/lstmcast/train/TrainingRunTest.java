package org.lstmcast.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Split;
import org.lstmcast.data.Transform;
import org.lstmcast.data.Windows;

class TrainingRunTest {
    @TempDir
    Path tmp;

    private static TrainConfig config(String target, Transform t, int lookback, int horizon) {
        return new TrainConfig(target, List.of(), lookback, horizon, t, 12, 1, 8, 0, 2, 32, 0.01, 5, 0.1, 0.2, 1);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void writesACompleteRunWhoseModelReproducesItsPredictions() throws IOException {
        double[][] values = Series.seasonal(200, 2);
        Path out = tmp.resolve("run");
        TrainingRun.Outcome o = TrainingRun.run(bytes(Series.csv(values)), "gen.csv", null,
                config("value", Transform.DIFF, 12, 3), out, TrainingListener.NONE);
        for (String f : TrainingRun.OUTPUTS) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        assertEquals(List.of("run"), list(tmp), "no temporary directory left behind");

        JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        for (String key : List.of("mae", "rmse", "mape", "smape", "mase")) {
            assertEquals(3, m.path("model").path(key).size(), key);
            assertEquals(3, m.path("baselines").path("naive").path(key).size(), key);
            assertEquals(3, m.path("baselines").path("seasonal_naive").path(key).size(), key);
        }
        assertEquals(40, m.path("test_rows").asInt());
        // Rolling origin: the first test rows are also forecast from the horizon - 1 origins before the test part.
        assertEquals(42, m.path("test_windows").asInt());
        assertEquals(42, o.evaluation().windows());
        assertEquals(2, m.path("epochs_run").asInt());
        assertEquals("diff", m.path("config").path("transform").asText());
        assertEquals(o.evaluation().model().rmse()[0], m.path("model").path("rmse").get(0).asDouble(), 0);

        // predictions.csv holds every test row; the saved model.zip alone must give the same numbers.
        List<CSVRecord> rows;
        try (Reader r = Files.newBufferedReader(out.resolve("predictions.csv"))) {
            rows = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r).getRecords();
        }
        assertEquals(40, rows.size());
        ModelFile.Loaded loaded = ModelFile.load(out.resolve("model.zip"));
        assertEquals("value", loaded.info().target());
        assertEquals(12, loaded.info().lookback());
        int firstTest = 160;
        for (int i = 0; i < rows.size(); i += 13) {
            CSVRecord rec = rows.get(i);
            int row = firstTest + i;
            assertEquals(values[row][0], Double.parseDouble(rec.get("actual")), 1e-6);
            for (int h = 1; h <= 3; h++) {
                double[] fc = loaded.forecaster().forecast(Collections.singletonList(Windows.window(values, row - h, 12)))[0];
                // float32 network: one window alone and the same window in a batch agree to float precision
                assertEquals(fc[h - 1], Double.parseDouble(rec.get("forecast_" + h)), 1e-6 * Math.abs(fc[h - 1]),
                        "row " + row + " step " + h);
            }
        }

        // Intervals: recomputed here from the validation rows 144-159, each forecast h steps ahead (16 per step).
        // Conformal ranks by hand: ceil(17 * 0.80) = 14; ceil(17 * 0.95) = 17 > 16, beyond the largest error.
        JsonNode iv = m.path("intervals");
        assertEquals("[80,95]", iv.path("levels").toString());
        assertEquals("[16,16,16]", iv.path("calibration_windows").toString());
        assertTrue(iv.path("enough_calibration_windows").path("80").asBoolean());
        assertFalse(iv.path("enough_calibration_windows").path("95").asBoolean());
        boolean relative = iv.path("space").asText().equals("relative");
        assertTrue(relative, "the series stays above zero");
        for (int h = 1; h <= 3; h++) {
            double[] errors = new double[16];
            for (int r = 144; r < 160; r++) {
                double f = loaded.forecaster().forecast(Collections.singletonList(Windows.window(values, r - h, 12)))[0][h - 1];
                errors[r - 144] = Math.abs(values[r][0] - f) / Math.abs(f);
            }
            Arrays.sort(errors);
            assertEquals(errors[13], iv.path("half_width").get(h - 1).get(0).asDouble(), 1e-6 * errors[13], "80% step " + h);
            // Too few for 95%: the larger of the largest error and Student's t quantile times the root mean square error.
            double rms = Math.sqrt(Arrays.stream(errors).map(e -> e * e).sum() / 16);
            double w95 = Math.max(errors[15], 2.119905 * rms);  // t(16) at 0.975, from printed tables
            assertEquals(w95, iv.path("half_width").get(h - 1).get(1).asDouble(), 1e-6 * w95, "95% step " + h);
        }
        // Test coverage in metrics.json is what predictions.csv's bounds give.
        for (int level : new int[] {80, 95}) {
            for (int h = 1; h <= 3; h++) {
                int inside = 0;
                for (CSVRecord rec : rows) {
                    double y = Double.parseDouble(rec.get("actual"));
                    if (y >= Double.parseDouble(rec.get("lower_" + level + "_" + h))
                            && y <= Double.parseDouble(rec.get("upper_" + level + "_" + h))) {
                        inside++;
                    }
                }
                assertEquals(inside / 40.0, iv.path("test").path(Integer.toString(level)).path("coverage").get(h - 1).asDouble(),
                        1e-12, level + "% step " + h);
            }
        }
    }

    @Test
    void aRefitTrainsTheKeptNetworksAgainOnTheValidationRowsForTheChosenEpochs() throws IOException {
        double[][] values = Series.seasonal(200, 3);
        byte[] csv = bytes(Series.csv(values));
        TrainConfig alone = new TrainConfig("value", List.of(), 12, 3, Transform.DIFF, 12, 1, 8, 0, 30, 32, 0.01, 5, 0.1,
                0.2, 1, 1);
        Path plainRun = tmp.resolve("plain");
        TrainingRun.Outcome plain = TrainingRun.run(csv, "gen.csv", null, alone, plainRun, TrainingListener.NONE);
        Path refitRun = tmp.resolve("refit");
        TrainConfig refit = new TrainConfig("value", List.of(), 12, 3, Transform.DIFF, 12, 1, 8, 0, 30, 32, 0.01, 5, 0.1,
                0.2, 1, 2, true);
        TrainingRun.Outcome o = TrainingRun.run(csv, "gen.csv", null, refit, refitRun, TrainingListener.NONE);

        Split split = Split.of(values.length, 0.1, 0.2);
        int epochs = plain.training().bestEpoch();
        assertTrue(epochs >= 1 && epochs < 30, "early stopping chose epoch " + epochs);
        JsonNode m = new ObjectMapper().readTree(refitRun.resolve("metrics.json").toFile());
        JsonNode r = m.path("refit");
        assertEquals(split.valEnd(), r.path("rows").asInt());
        assertEquals(m.path("data").path("train_rows").asInt() + m.path("data").path("val_rows").asInt(),
                r.path("rows").asInt());
        assertEquals(epochs, r.path("epochs").asInt());
        assertEquals("[1,2]", r.path("seeds").toString());
        assertTrue(m.path("config").path("refit").asBoolean());
        assertTrue(m.path("ensemble").isMissingNode(), "no validation scores for networks that saw the validation rows");

        // The scalers come from the training and validation rows, and each network is what its seed trains on them (to
        // float rounding: the refit ran on pool threads, the check on this one).
        ModelFile.Loaded loaded = ModelFile.load(refitRun.resolve("model.zip"));
        Preprocessor wide = Preprocessor.fit(Transform.DIFF, values, split.valEnd(),
                12, 3, 0, 12);
        Preprocessor narrow = plain.training().forecaster().preprocessor();
        assertArrayEquals(wide.outScale(), loaded.forecaster().preprocessor().outScale(), 1e-6);
        assertArrayEquals(wide.inShift(), loaded.forecaster().preprocessor().inShift(), 1e-6);
        assertFalse(Arrays.equals(narrow.outScale(), wide.outScale()), "the validation rows moved the scale");
        for (int k = 0; k < 2; k++) {
            Forecaster again = Trainer.refit(values, split.valEnd(), refit.withSeed(1 + k), epochs);
            assertArrayEquals(again.network().params().toFloatVector(),
                    loaded.forecaster().networks().get(k).params().toFloatVector(), 1e-6f, "network " + (k + 1));
        }
        assertFalse(Arrays.equals(plain.training().forecaster().network().params().toFloatVector(),
                loaded.forecaster().networks().get(0).params().toFloatVector()));

        // The intervals are those the network that never saw the validation rows calibrates: the plain run's.
        for (String key : List.of("levels", "space", "half_width", "calibration_windows")) {
            JsonNode p = new ObjectMapper().readTree(plainRun.resolve("metrics.json").toFile()).path("intervals");
            assertEquals(p.path(key), m.path("intervals").path(key), key);
        }
        assertTrue(o.intervals().calibrationWindows()[0] > 0);
    }

    @Test
    void autoKeepsTheAnchorAloneWhereNoNetworkForecastsTheValidationRowsAsWell() throws IOException {
        // An exactly periodic series: last year's value (the seasonal anchor, no drift) forecasts it to the CSV's
        // rounding, which no trained network matches.
        double[][] values = new double[120][1];
        for (int t = 0; t < values.length; t++) {
            values[t][0] = 100 + 10 * Math.sin(2 * Math.PI * t / 12) + 3 * Math.cos(2 * Math.PI * t / 4);
        }
        TrainConfig auto = new TrainConfig("value", List.of(), 13, 3, Transform.AUTO, 12, 1, 8, 0, 5, 32, 0.01, 3, 0.1,
                0.2, 1, 2, true);
        Path out = tmp.resolve("alone");
        TrainingRun.Outcome o = TrainingRun.run(bytes(Series.csv(values)), "gen.csv", null, auto, out, TrainingListener.NONE);
        JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        JsonNode t = m.path("transform");
        assertEquals("seasonal", t.path("used").asText(), t.toString());
        assertTrue(t.path("network").asText().startsWith("none: seasonal anchor alone"), t.toString());
        double alone = t.path("validation_rmse").path("seasonal, anchor alone").asDouble();
        for (String network : List.of("diff", "seasonal")) {
            assertTrue(alone < t.path("validation_rmse").path(network).asDouble(), network + ": " + t);
        }
        assertEquals(0, m.path("refit").path("epochs").asInt());
        assertEquals(1, m.path("refit").path("networks").asInt());
        // The kept model forecasts last year's values on the test part: its error is the CSV's 6-decimal rounding.
        for (JsonNode rmse : m.path("model").path("rmse")) {
            assertTrue(rmse.asDouble() < 1e-4, m.path("model").toString());
        }
        ModelFile.Loaded loaded = ModelFile.load(out.resolve("model.zip"));
        assertEquals(1, loaded.forecaster().networks().size());
        double[][] f = loaded.forecaster().forecast(Collections.singletonList(Windows.window(values, 100, 13)));
        for (int h = 1; h <= 3; h++) {
            assertEquals(values[100 + h][0], f[0][h - 1], 1e-4, "step " + h);
        }
        assertTrue(o.training().bestEpoch() >= 1, "the loss curve is the network's the anchor beat");
    }

    @Test
    void theAnchorAloneIsTheAnchorPlusTheCarriedErrorAndTheDriftIfKept() {
        double[][] values = Series.drifting(150, 5);
        TrainConfig seasonal = new TrainConfig("value", List.of(), 13, 3, Transform.SEASONAL, 12, 1, 8, 0, 5, 32, 0.01,
                3, 0.1, 0.2, 1);
        Preprocessor pre = Preprocessor.fit(Transform.SEASONAL, values, 100, 13, 3, 0, 12);
        assertTrue(pre.carriesAnchorError());
        Forecaster drift = Trainer.anchorAlone(values, 100, seasonal, AnchorDrift.MEAN);
        Forecaster flat = Trainer.anchorAlone(values, 100, seasonal, AnchorDrift.NONE);
        for (int origin = 105; origin < 146; origin += 7) {
            double[][] window = Windows.window(values, origin, 13);
            double[] withDrift = drift.forecast(Collections.singletonList(window))[0];
            double[] without = flat.forecast(Collections.singletonList(window))[0];
            double error = values[origin][0] - values[origin - 12][0];
            for (int h = 1; h <= 3; h++) {
                // Last year's value for the step, plus the carried share of the last row's error against its own.
                double expected = values[origin + h - 12][0] + pre.anchorCarry()[h - 1] * error;
                assertEquals(expected, without[h - 1], 1e-9 * Math.abs(expected) + 1e-9, "origin " + origin + " step " + h);
                assertEquals(expected + pre.outShift()[h - 1], withDrift[h - 1], 1e-9 * Math.abs(expected) + 1e-9);
            }
        }
    }

    @Test
    void theAnchorWithTheWindowsDriftAddsTheWindowsMeanSeasonalChange() {
        double[][] values = Series.drifting(150, 5);
        TrainConfig seasonal = new TrainConfig("value", List.of(), 30, 14, Transform.SEASONAL, 12, 1, 8, 0, 5, 32, 0.01,
                3, 0.1, 0.2, 1);
        Forecaster local = Trainer.anchorAlone(values, 110, seasonal, AnchorDrift.WINDOW);
        Preprocessor pre = local.preprocessor();
        assertTrue(pre.windowDrift() && pre.carriesAnchorError());
        assertArrayEquals(new double[14], pre.outShift(), 0, "the window's drift replaces the mean one");
        assertTrue(pre.anchorCarry()[0] != 0, "a carry to check: " + Arrays.toString(pre.anchorCarry()));
        for (int origin = 40; origin < 136; origin += 9) {
            // The mean of the window's 18 twelve-month changes, added once per season between the repeated value and
            // the step, and taken off the last row's error before a share of it is carried.
            double change = 0;
            for (int r = origin - 17; r <= origin; r++) {
                change += values[r][0] - values[r - 12][0];
            }
            change /= 18;
            double error = values[origin][0] - values[origin - 12][0] - change;
            double[] f = local.forecast(Collections.singletonList(Windows.window(values, origin, 30)))[0];
            for (int h = 1; h <= 14; h++) {
                int seasons = h <= 12 ? 1 : 2;
                double expected = values[origin + h - 12 * seasons][0] + seasons * change + pre.anchorCarry()[h - 1] * error;
                assertEquals(expected, f[h - 1], 1e-9 * Math.abs(expected) + 1e-9, "origin " + origin + " step " + h);
            }
        }
    }

    @Test
    void anEnsembleForecastsTheMeanOfItsMembersAndEachMemberIsTheNetworkItsSeedTrainsAlone() throws IOException {
        double[][] values = Series.seasonal(200, 2);
        byte[] csv = bytes(Series.csv(values));
        TrainConfig one = config("value", Transform.DIFF, 12, 3);
        TrainConfig three = new TrainConfig("value", List.of(), 12, 3, Transform.DIFF, 12, 1, 8, 0, 2, 32, 0.01, 5, 0.1, 0.2,
                1, 3);
        Path out = tmp.resolve("ensemble");
        TrainingRun.run(csv, "gen.csv", null, three, out, TrainingListener.NONE);
        ModelFile.Loaded ensemble = ModelFile.load(out.resolve("model.zip"));
        assertEquals(3, ensemble.forecaster().networks().size());

        // Member m is what a single run with seed 1 + m trains, even though the members trained side by side.
        List<Forecaster> alone = new ArrayList<>();
        for (int m = 0; m < 3; m++) {
            Path single = tmp.resolve("single-" + m);
            TrainingRun.run(csv, "gen.csv", null, one.withSeed(1 + m), single, TrainingListener.NONE);
            Forecaster f = ModelFile.load(single.resolve("model.zip")).forecaster();
            assertEquals(1, f.networks().size());
            assertArrayEquals(f.network().params().toFloatVector(),
                    ensemble.forecaster().networks().get(m).params().toFloatVector(), 0f, "member " + (m + 1));
            alone.add(f);
        }

        // The ensemble's forecast is the mean of the three single models' forecasts, each rebuilt into levels alone.
        List<double[][]> windows = new ArrayList<>();
        for (int origin = 150; origin < 197; origin += 5) {
            windows.add(Windows.window(values, origin, 12));
        }
        double[][] got = ensemble.forecaster().forecast(windows);
        double[][][] each = new double[3][][];
        for (int m = 0; m < 3; m++) {
            each[m] = alone.get(m).forecast(windows);
        }
        for (int w = 0; w < windows.size(); w++) {
            for (int h = 0; h < 3; h++) {
                double mean = (each[0][w][h] + each[1][w][h] + each[2][w][h]) / 3;
                assertEquals(mean, got[w][h], 1e-5 * Math.abs(mean), "window " + w + " step " + (h + 1));
            }
        }

        // metrics.json says so; the mean's validation RMSE is at most the members' mean (RMSE is a norm: Jensen).
        JsonNode e = new ObjectMapper().readTree(out.resolve("metrics.json").toFile()).path("ensemble");
        assertEquals(3, e.path("members").asInt());
        assertEquals("[1,2,3]", e.path("seeds").toString());
        double members = 0;
        for (JsonNode v : e.path("validation_rmse_members")) {
            members += v.asDouble() / 3;
        }
        assertTrue(e.path("validation_rmse").asDouble() <= members * (1 + 1e-9),
                e.path("validation_rmse") + " against the members' mean " + members);
        assertTrue(e.path("validation_rmse").asDouble() > 0);

        // DL4J alone opens the file as its first member; a damaged member is named, not skipped.
        assertArrayEquals(alone.get(0).network().params().toFloatVector(),
                ModelSerializer.restoreMultiLayerNetwork(out.resolve("model.zip").toFile(), false)
                        .params().toFloatVector(), 0f);
        Path damaged = Files.copy(out.resolve("model.zip"), tmp.resolve("damaged.zip"));
        try (FileSystem zip = FileSystems.newFileSystem(damaged)) {
            Files.write(zip.getPath(ModelFile.memberEntry(3)), bytes("not a model"));
        }
        DataException bad = assertThrows(DataException.class, () -> ModelFile.load(damaged));
        assertTrue(bad.getMessage().contains("lstmcast-member-3.zip"), bad.getMessage());
    }

    @Test
    void aSeasonalModelCarriesTheAnchorsLastErrorAndAFileWithoutACarryForecastsWithoutOne() throws IOException {
        byte[] csv = bytes(Series.csv(Series.drifting(300, 5)));
        TrainConfig config = new TrainConfig("value", List.of(), 14, 3, Transform.SEASONAL, 12, 1, 8, 0, 2, 32, 0.01, 5, 0.1,
                0.2, 1, 1);
        Path out = tmp.resolve("carry");
        TrainingRun.run(csv, "gen.csv", null, config, out, TrainingListener.NONE);
        ModelFile.Loaded loaded = ModelFile.load(out.resolve("model.zip"));
        double[] carry = loaded.info().preprocessor().anchorCarry();
        assertTrue(carry[0] > 0, Arrays.toString(carry));
        JsonNode recorded = new ObjectMapper().readTree(out.resolve("metrics.json").toFile()).path("transform")
                .path("anchor_carry");
        for (int h = 0; h < 3; h++) {
            assertEquals(carry[h], recorded.get(h).asDouble(), 0, "metrics.json records the carry");
        }

        // A file written before the carry existed has no entry for it: it loads, and forecasts with none.
        Path old = Files.copy(out.resolve("model.zip"), tmp.resolve("old.zip"));
        try (FileSystem zip = FileSystems.newFileSystem(old)) {
            Path entry = zip.getPath(ModelFile.ENTRY);
            ObjectNode json =
                    (ObjectNode) new ObjectMapper().readTree(Files.readAllBytes(entry));
            assertTrue(json.remove("anchor_carry") != null, "the entry's name in the file");
            Files.write(entry, new ObjectMapper().writeValueAsBytes(json));
        }
        ModelFile.Loaded before = ModelFile.load(old);
        assertArrayEquals(new double[3], before.info().preprocessor().anchorCarry());
        double[][] rows = loaded.test().values();
        List<double[][]> windows = new ArrayList<>();
        for (int origin = 20; origin < rows.length; origin += 7) {
            windows.add(Windows.window(rows, origin, 14));
        }
        double[][] with = loaded.forecaster().forecast(windows);
        double[][] without = before.forecaster().forecast(windows);
        for (int w = 0; w < windows.size(); w++) {
            double[][] window = windows.get(w);
            // The anchor's error at the last row, by hand: its value minus the value one season (12 rows) before.
            double error = window[13][0] - window[1][0];
            for (int h = 0; h < 3; h++) {
                assertEquals(without[w][h] + carry[h] * error, with[w][h], 1e-9 * Math.abs(with[w][h]),
                        "window " + w + " step " + (h + 1));
            }
        }
    }

    @Test
    void badInputFailsBeforeWritingAnything() throws IOException {
        Path out = tmp.resolve("run");
        String good = Series.csv(Series.seasonal(200, 3));
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"month,value\n2000-01,1\n2000-02,\n", "line 3, column 'value': empty cell"});
        cases.add(new String[] {good, "no column 'price'"});
        cases.add(new String[] {"month,value\n2000-01,1\n2000-02,2\n2000-03,3\n", "3 rows are too few for a horizon of 3"});
        cases.add(new String[] {good.replace("2000-02,", "2000-02,-"), "the relative transform needs values > 0"});
        cases.add(new String[] {good.replace("2000-02", "1999-02"), "rows must be in ascending time order"});
        for (String[] c : cases) {
            Transform t = c[1].contains("relative") ? Transform.RELATIVE : Transform.DIFF;
            String target = c[1].contains("price") ? "price" : "value";
            DataException e = assertThrows(DataException.class,
                    () -> TrainingRun.run(bytes(c[0]), "in.csv", null, config(target, t, 12, 3), out, TrainingListener.NONE));
            assertTrue(e.getMessage().contains(c[1]), e.getMessage());
            assertTrue(e.getMessage().startsWith("in.csv"), e.getMessage());
            assertFalse(Files.exists(out));
        }
        assertEquals(List.of(), list(tmp));
    }

    /** The generated series with row {@code row} (0-based, after the header) replaced by {@code value}. */
    private static String withValue(double[][] values, int row, String value) {
        List<String> lines = new ArrayList<>(List.of(Series.csv(values).split("\n")));
        String line = lines.get(row + 1);
        lines.set(row + 1, line.substring(0, line.indexOf(',') + 1) + value);
        return String.join("\n", lines) + "\n";
    }

    @Test
    void aValueBeyondFloat32IsRefusedByLineAndColumnBeforeTraining() throws IOException {
        // 200 rows: training 0-143, validation 144-159, test 160-199. Row 150 is a validation row, on line 152.
        String csv = withValue(Series.seasonal(200, 3), 150, "1e300");
        Path out = tmp.resolve("run");
        int[] epochs = new int[1];
        DataException e = assertThrows(DataException.class, () -> TrainingRun.run(bytes(csv), "in.csv", null,
                config("value", Transform.DIFF, 12, 3), out, new TrainingListener() {
                    @Override
                    public void epochEnded(int epoch, double trainLoss, double valLoss, boolean best) {
                        epochs[0]++;
                    }
                }));
        assertTrue(e.getMessage().startsWith("in.csv line 152, column 'value': 1e300 is too large for the network"),
                e.getMessage());
        assertEquals(0, epochs[0], "refused while reading, before any epoch");
        assertFalse(Files.exists(out));
    }

    @Test
    void validationRowsNoEpochCanScoreAreNamedInsteadOfCrashing() throws IOException {
        // 1e30 fits a float32, but its standardised difference squared does not: every validation loss is infinite.
        String csv = withValue(Series.seasonal(200, 3), 150, "1e30");
        Path out = tmp.resolve("run");
        List<Double> valLosses = new ArrayList<>();
        DataException e = assertThrows(DataException.class, () -> TrainingRun.run(bytes(csv), "in.csv", null,
                config("value", Transform.DIFF, 12, 3), out, new TrainingListener() {
                    @Override
                    public void epochEnded(int epoch, double trainLoss, double valLoss, boolean best) {
                        valLosses.add(valLoss);
                        assertTrue(Double.isFinite(trainLoss), "the training rows are clean");
                    }
                }));
        assertEquals(2, valLosses.size(), "trained every epoch before giving up");
        assertTrue(valLosses.stream().noneMatch(Double::isFinite), valLosses.toString());
        String m = e.getMessage();
        assertTrue(m.startsWith("in.csv: the validation loss was not finite in any of the 2 epochs"), m);
        assertTrue(m.contains("validation rows 145 to 160 ('2012-01' to '2013-04')"), m);
        assertTrue(m.contains("row 151 ('2012-07'), column 'value': 1.0E30"), m);
        assertFalse(m.contains("\n"), m);
        assertFalse(Files.exists(out));
        assertEquals(List.of(), list(tmp));
    }

    @Test
    void aLookbackTooLongForTheRowsSaysWhichLookbackFits() {
        String csv = Series.csv(Series.seasonal(40, 3));
        DataException e = assertThrows(DataException.class, () -> TrainingRun.run(bytes(csv), "in.csv", null,
                config("value", Transform.DIFF, 30, 5), tmp.resolve("run"), TrainingListener.NONE));
        // 40 rows: test ceil(8) = 8, validation max(5, ceil(3.2) = 4) = 5, training 27; a window of 5 steps ahead
        // leaves 22 rows to read.
        assertTrue(e.getMessage().startsWith("in.csv: --lookback 30 is too long for 40 rows: the 27 training rows")
                && e.getMessage().contains("use --lookback 22 or less"), e.getMessage());
    }

    @Test
    void refusesToReplaceADirectoryThatIsNotARun() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("precious"));
        Files.writeString(out.resolve("thesis.tex"), "keep me");
        String csv = Series.csv(Series.seasonal(200, 3));
        DataException e = assertThrows(DataException.class, () -> TrainingRun.run(bytes(csv), "in.csv", null,
                config("value", Transform.DIFF, 12, 3), out, TrainingListener.NONE));
        assertTrue(e.getMessage().contains("not an lstmcast run directory"));
        assertEquals("keep me", Files.readString(out.resolve("thesis.tex")));
    }

    @Test
    void aSecondRunReplacesTheFirst() throws IOException {
        Path out = tmp.resolve("run");
        byte[] csv = bytes(Series.csv(Series.seasonal(200, 3)));
        TrainingRun.run(csv, "in.csv", null, config("value", Transform.DIFF, 12, 3), out, TrainingListener.NONE);
        TrainingRun.run(csv, "in.csv", null, config("value", Transform.LEVEL, 12, 2), out, TrainingListener.NONE);
        JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        assertEquals("level", m.path("config").path("transform").asText());
        assertArrayEquals(new Object[] {"run"}, list(tmp).toArray());
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void withoutASeasonTheTimeColumnGivesOneAndTheSeasonalBaselineIsScored() throws IOException {
        StringBuilder csv = new StringBuilder("month,sales\n");
        double[] y = new double[120];
        for (int i = 0; i < y.length; i++) {
            y[i] = 100 + 20 * Math.sin(2 * Math.PI * i / 12) + 0.5 * i + (i * 7919 % 13) / 6.5;
            csv.append(YearMonth.of(2010, 1).plusMonths(i)).append(',').append(y[i]).append('\n');
        }
        TrainConfig auto = config("sales", Transform.DIFF, 13, 2).withSeason(TrainConfig.SEASON_FROM_DATA);
        TrainingRun.Outcome o = TrainingRun.run(bytes(csv.toString()), "sales.csv", null, auto, tmp.resolve("run"),
                TrainingListener.NONE);
        assertEquals(12, o.season().period());
        assertEquals("the time column: monthly", o.season().reason());
        JsonNode m = new ObjectMapper().readTree(tmp.resolve("run/metrics.json").toFile());
        assertEquals(12, m.path("season").path("period").asInt());
        assertEquals(12, m.path("config").path("season").asInt());
        // Seasonal naive one step ahead: the same month a year before, scored by hand on the test rows.
        int[] rows = o.evaluation().testRows();
        double sum = 0;
        for (int r : rows) {
            sum += (y[r] - y[r - 12]) * (y[r] - y[r - 12]);
        }
        double rmse = Math.sqrt(sum / rows.length);
        assertEquals(rmse, m.path("baselines").path("seasonal_naive").path("rmse").get(0).asDouble(), 1e-9 * rmse);

        // Weekly labels, but fewer training rows than a year of weeks: no season, and the reason says so.
        StringBuilder weekly = new StringBuilder("week,sales\n");
        for (int i = 0; i < 60; i++) {
            weekly.append(LocalDate.of(2020, 1, 6).plusWeeks(i)).append(',').append(y[i]).append('\n');
        }
        TrainingRun.Outcome w = TrainingRun.run(bytes(weekly.toString()), "weekly.csv", null, auto, tmp.resolve("weekly"),
                TrainingListener.NONE);
        assertEquals(0, w.season().period());
        assertTrue(w.season().reason().startsWith("the time column: weekly, but the 43 training rows are not more than "
                        + "one season of 52"),
                w.season().reason());
        assertFalse(w.evaluation().baselines().containsKey("seasonal_naive"));
    }

    @Test
    void autoTrainsEveryCandidateTheLookbackAllowsAndKeepsTheLowestValidationRmse() throws IOException {
        // Quarterly labels (season 4), lookback 9: diff, seasonal (one season) and seasonal-mean (two) all fit.
        StringBuilder csv = new StringBuilder("quarter,sales\n");
        double[][] values = new double[140][1];
        for (int i = 0; i < values.length; i++) {
            values[i][0] = 200 + 30 * ((i % 4) - 1.5) * (1 + i / 60.0) + 0.8 * i + (i * 7919 % 17) / 4.0;
            csv.append(LocalDate.of(1990, 1, 1).plusMonths(3L * i)).append(',').append(values[i][0]).append('\n');
        }
        TrainConfig auto = new TrainConfig("sales", List.of(), 9, 2, Transform.AUTO, TrainConfig.SEASON_FROM_DATA, 1, 8, 0, 3,
                32, 0.01, 5, 0.1, 0.2, 1);
        Path out = tmp.resolve("auto");
        TrainingRun.Outcome o = TrainingRun.run(bytes(csv.toString()), "q.csv", "quarter", auto, out, TrainingListener.NONE);
        assertEquals(4, o.season().period(), o.season().reason());
        JsonNode t = new ObjectMapper().readTree(out.resolve("metrics.json").toFile()).path("transform");
        JsonNode scores = t.path("validation_rmse");
        // Each network, then naive and drift, then each seasonal anchor alone with the mean drift, without it and with
        // the window's.
        assertEquals(List.of("diff", "seasonal", "seasonal-mean", "naive", "drift", "seasonal, anchor alone",
                "seasonal, anchor alone without drift", "seasonal, anchor alone with the window's drift",
                "seasonal-mean, anchor alone", "seasonal-mean, anchor alone without drift",
                "seasonal-mean, anchor alone with the window's drift"), iterable(scores.fieldNames()), t.toString());
        // Seasonal naive beats naive on these validation rows, so the seasonal anchors compete too.
        assertTrue(t.path("season_shows").asText().startsWith("yes"), t.toString());
        assertTrue(scores.path("seasonal, anchor alone without drift").asDouble() < scores.path("naive").asDouble());
        String network = null;
        String anchor = null;
        for (String name : iterable(scores.fieldNames())) {
            assertTrue(scores.path(name).isNumber() && scores.path(name).asDouble() > 0, t.toString());
            boolean alone = name.contains("anchor alone") || name.equals("naive") || name.equals("drift");
            String current = alone ? anchor : network;
            if (current == null || scores.path(name).asDouble() < scores.path(current).asDouble()) {
                if (alone) {
                    anchor = name;
                } else {
                    network = name;
                }
            }
        }
        // The lowest-scoring network, unless the best anchor alone scores lower or within one standard error of it.
        JsonNode against = t.path("anchor_against_network");
        assertEquals(network, against.path("network").asText(), t.toString());
        assertEquals(anchor, against.path("anchor").asText(), t.toString());
        boolean keepAnchor = scores.path(anchor).asDouble() < scores.path(network).asDouble()
                || against.path("mse_difference").asDouble() <= against.path("standard_error").asDouble();
        assertTrue(against.path("standard_error").asDouble() > 0, t.toString());
        String best = keepAnchor ? anchor : network;
        String transform = best.equals("naive") || best.equals("drift") ? "diff" : best.split(",")[0];
        assertEquals(transform, t.path("used").asText(), t.toString());
        assertEquals(!best.equals(network), t.has("network"), t.toString());
        ModelFile.Loaded loaded = ModelFile.load(out.resolve("model.zip"));
        assertEquals(transform, loaded.info().transform());
        // The kept model's score, recomputed here: 140 rows leave 28 for the test (20%) and 12 of the other 112 for
        // validation (10%), rows 100..111, each forecast 1 and 2 steps ahead from its true history; RMSE per step,
        // then their mean.
        Split split = Split.of(values.length, 0.1, 0.2);
        assertEquals(100, split.trainEnd());
        assertEquals(112, split.valEnd());
        double mean = 0;
        for (int h = 1; h <= 2; h++) {
            double sq = 0;
            for (int r = split.trainEnd(); r < split.valEnd(); r++) {
                double f = loaded.forecaster().forecast(Collections.singletonList(Windows.window(values, r - h, 9)))[0][h - 1];
                sq += (values[r][0] - f) * (values[r][0] - f);
            }
            mean += Math.sqrt(sq / split.valRows()) / 2;
        }
        assertEquals(mean, scores.path(best).asDouble(), 1e-5 * mean);
    }

    private static List<String> iterable(Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
