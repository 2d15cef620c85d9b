package org.lstmcast.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.data.Transform;
import org.lstmcast.data.Windows;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.many.JobProgress;
import org.lstmcast.many.LongFormat;
import org.lstmcast.many.ModelNames;
import org.lstmcast.many.SeriesForecast;
import org.lstmcast.many.SeriesResult;
import org.lstmcast.many.SparkJobs;
import org.lstmcast.predict.Prediction;
import org.lstmcast.train.ModelFile;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.Trainer;
import org.lstmcast.train.TrainingListener;
import org.lstmcast.train.TrainingRun;

/**
 * train-many and predict-many on Spark {@code local[2]}: twelve series from 1e-3 to 1e6 in scale, one with a bad cell
 * and one too short, each checked against {@code train} and {@code predict} run on that series alone.
 */
class ManySeriesTest {
    static final LongFormat FORMAT = new LongFormat("unique_id", "ds", "y", List.of());
    static final TrainConfig CONFIG = new TrainConfig("y", List.of(), 24, 3, Transform.DIFF, 12, 1, 16, 0, 15, 32, 3e-3,
            5, 0.15, 0.2, 7);
    static final int ROWS = 150;
    static final String BAD_CELL = "n/a";

    @TempDir
    static Path dir;
    static Path csv;
    /** Each series' rows as a one-series CSV body, and where the bad cell sits. */
    static final Map<String, List<String>> SERIES = new LinkedHashMap<>();
    static long badLine;
    static SparkJobs.TrainSummary trained;

    @BeforeAll
    static void trainAll() throws Exception {
        Trainer.useThreads(1);
        List<String> lines = new ArrayList<>(List.of("unique_id,ds,y"));
        for (int k = 0; k < 12; k++) {
            // 1e-3 up to about 3e1 in half-decades, and one series in the millions.
            double scale = k == 11 ? 1e6 : Math.pow(10, k / 2.0 - 3);
            String id = k == 5 ? "store 7/ü" : String.format(Locale.ROOT, "sku-%02d", k);
            add(lines, id, series(k, scale, ROWS));
        }
        List<String> broken = new ArrayList<>(series(99, 1, ROWS));
        add(lines, "broken", broken);
        badLine = lines.size() - ROWS + 40 + 1;              // 1-based line of the 41st row of "broken"
        lines.set((int) badLine - 1, lines.get((int) badLine - 1).replaceFirst(",[^,]*$", "," + BAD_CELL));
        add(lines, "short", series(98, 1, 12));
        // A valid model name that is also one of train-many's own files.
        add(lines, "metrics.csv", series(97, 1, ROWS));
        // File order is not series order: long tables are often sorted by time, not by id.
        List<String> body = new ArrayList<>(lines.subList(1, lines.size()));
        List<String> shuffled = new ArrayList<>();
        shuffled.add(lines.get(0));
        body.sort((a, b) -> a.split(",")[1].compareTo(b.split(",")[1]));
        shuffled.addAll(body);
        String badRow = lines.get((int) badLine - 1);
        badLine = shuffled.indexOf(badRow) + 1;
        csv = dir.resolve("long.csv");
        Files.write(csv, shuffled);
        trained = SparkJobs.load().trainMany(new SparkJobs.TrainJob(csv.toString(), FORMAT, CONFIG, dir.resolve("runs"),
                dir.resolve("repo"), "local[2]"), JobProgress.NONE);
    }

    private static void add(List<String> lines, String id, List<String> rows) {
        SERIES.put(id, rows);
        for (String r : rows) {
            lines.add(csvField(id) + "," + r);
        }
    }

    private static String csvField(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    /** Monthly-like: level, a 12-step season, a trend and noise, all times {@code scale}. */
    private static List<String> series(int k, double scale, int n) {
        Random random = new Random(k);
        List<String> rows = new ArrayList<>();
        LocalDate start = LocalDate.of(2010, 1, 1);
        for (int t = 0; t < n; t++) {
            double v = scale * (10 + 3 * Math.sin(2 * Math.PI * t / 12 + k) + 0.02 * t + 0.3 * random.nextGaussian());
            rows.add(start.plusDays(t) + "," + String.format(Locale.ROOT, "%.6g", v));
        }
        return rows;
    }

    private static Path oneSeriesCsv(String id) throws Exception {
        Path file = dir.resolve("one-" + ModelNames.of(id) + ".csv");
        List<String> lines = new ArrayList<>(List.of("ds,y"));
        lines.addAll(SERIES.get(id));
        Files.write(file, lines);
        return file;
    }

    private static SeriesResult result(String id) {
        return trained.results().stream().filter(r -> r.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void everyGoodSeriesHasAModelAndTheBadOnesTheirReason() {
        assertEquals(15, trained.results().size());
        assertEquals(3, trained.failed());
        assertTrue(trained.tasks() >= 2, "tasks: " + trained.tasks());
        assertEquals(csv + " line " + badLine + ", column 'y': '" + BAD_CELL + "' is not a number", result("broken").error());
        // 12 rows could be forecast (2 * 3 + 2 = 8 would do), but not with the lookback of 24 this table asks for.
        assertTrue(result("short").error().contains("--lookback 24 is too long for 12 rows"), result("short").error());
        assertTrue(result("metrics.csv").error().contains("names one of train-many's own files"),
                result("metrics.csv").error());
        for (SeriesResult r : trained.results()) {
            if (!r.ok()) {
                continue;
            }
            assertNull(r.error());
            assertEquals(ROWS, r.rows());
            assertEquals(1, r.version());
            assertTrue(Files.isRegularFile(dir.resolve("repo").resolve(r.model()).resolve("1").resolve("model.onnx")), r.id());
            assertTrue(Files.isRegularFile(dir.resolve("runs").resolve(r.model()).resolve("metrics.json")), r.id());
            assertTrue(r.parityMaxRelError() < 1e-4, r.id() + ": " + r.parityMaxRelError());
        }
        assertEquals(List.of("broken", "metrics.csv", "short", "sku-00"),
                trained.results().stream().map(SeriesResult::id).toList().subList(0, 4));
    }

    @Test
    void seriesNearZeroAndInTheMillionsBothBeatTheNaiveForecast() {
        for (String id : List.of("sku-00", "sku-11")) {
            SeriesResult r = result(id);
            assertTrue(r.modelRmseMean() < r.naiveRmseMean(), id + ": " + r);
        }
        assertTrue(result("sku-11").naiveRmseMean() / result("sku-00").naiveRmseMean() > 1e8, "the scales differ");
        long better = trained.results().stream().filter(r -> r.ok() && r.modelRmseMean() < r.naiveRmseMean()).count();
        assertTrue(better >= 10, better + " of 12 below naive");
    }

    @Test
    void aSeriesTrainsAsTrainTrainsItAlone() throws Exception {
        for (String id : List.of("sku-11", "store 7/ü")) {
            TrainingRun.Outcome alone = TrainingRun.run(Files.readAllBytes(oneSeriesCsv(id)), id, "ds", CONFIG,
                    dir.resolve("alone-" + ModelNames.of(id)), TrainingListener.NONE);
            SeriesResult many = result(id);
            assertEquals(alone.evaluation().model().rmse()[0], many.modelRmse1(), 1e-9 * many.modelRmse1(), id);
            assertEquals(alone.evaluation().baselines().get("seasonal_naive").rmse()[0], many.seasonalNaiveRmse1(),
                    1e-9 * many.seasonalNaiveRmse1(), id);
            assertEquals(((Map<?, ?>) alone.metrics().get("transform")).get("used"), many.transform(), id);
            // The 95% coverage, averaged over the steps by hand from what train wrote.
            JsonNode c = new ObjectMapper().readTree(
                    alone.directory().resolve("metrics.json").toFile()).path("intervals").path("test").path("95").path("coverage");
            double sum = 0;
            for (JsonNode v : c) {
                sum += v.asDouble();
            }
            assertEquals(sum / c.size(), many.coverage95(), 1e-12, id);
        }
    }

    @Test
    void everyOnnxModelEqualsItsNetwork() throws Exception {
        for (SeriesResult r : trained.results()) {
            if (!r.ok()) {
                continue;
            }
            ModelFile.Loaded loaded = ModelFile.load(dir.resolve("runs").resolve(r.model()).resolve("model.zip"));
            List<double[][]> windows = new ArrayList<>();
            for (int origin = 23; origin < loaded.test().rows() - 1; origin += 3) {
                windows.add(Windows.window(loaded.test().values(), origin, 24));
            }
            double[][] dl4j = loaded.forecaster().forecast(windows);
            try (OnnxForecaster onnx = OnnxForecaster.open(dir.resolve("repo").resolve(r.model()).resolve("1/model.onnx"))) {
                double[][] ort = onnx.forecast(windows, 3);
                for (int w = 0; w < windows.size(); w++) {
                    for (int h = 0; h < 3; h++) {
                        double tolerance = 1e-4 * Math.max(Math.abs(dl4j[w][h]), 1e-2 * Math.abs(dl4j[0][0]));
                        assertEquals(dl4j[w][h], ort[w][h], tolerance, r.id() + " window " + w + " step " + h);
                    }
                }
            }
        }
    }

    @Test
    void theMetricsTablesHoldARowPerSeriesAndOddIdsAreMapped() throws Exception {
        List<CSVRecord> rows;
        try (Reader in = Files.newBufferedReader(dir.resolve("runs/metrics.csv"))) {
            rows = CSVFormat.DEFAULT.builder().setHeader().get().parse(in).getRecords();
        }
        assertEquals(15, rows.size());
        assertEquals(SeriesResult.HEADER, rows.get(0).getParser().getHeaderNames());
        assertEquals(12, rows.stream().filter(r -> r.get("status").equals("ok")).count());
        CSVRecord big = rows.stream().filter(r -> r.get("id").equals("sku-11")).findFirst().orElseThrow();
        assertEquals(result("sku-11").modelRmseMean(), Double.parseDouble(big.get("model_rmse_mean")), 0);
        // --transform diff, one network: every series that trained says so, and the failed ones leave both empty.
        for (CSVRecord r : rows) {
            boolean ok = r.get("status").equals("ok");
            assertEquals(ok ? "1 LSTM network on diff" : "", r.get("kept"), r.get("id"));
            assertEquals(ok ? "1" : "", r.get("networks"), r.get("id"));
        }
        List<String> names = Files.readAllLines(dir.resolve("runs/model_names.csv"));
        assertEquals(List.of("id,model", "store 7/ü," + ModelNames.of("store 7/ü")), names);
        assertTrue(ModelNames.of("store 7/ü").startsWith("store_7__-"), ModelNames.of("store 7/ü"));

        SparkSession spark = Sessions.open("local[1]");
        try {
            Dataset<Row> table = spark.read().parquet(dir.resolve("runs/metrics.parquet").toString());
            assertEquals(15, table.count());
            Row row = table.filter("id = 'sku-11'").first();
            assertEquals(result("sku-11").modelRmseMean(), row.getDouble(row.fieldIndex("model_rmse_mean")), 0);
            assertEquals("failed", table.filter("id = 'broken'").first().getAs("status"));
        } finally {
            spark.stop();
        }
    }

    @Test
    void predictManyEqualsPredictPerSeriesFromCsvAndParquet() throws Exception {
        Path out = dir.resolve("forecast.csv");
        SparkJobs.PredictSummary summary = PredictMany.run(new SparkJobs.PredictJob(csv.toString(), FORMAT, dir.resolve("repo"), 7,
                out, "local[2]"), JobProgress.NONE);
        assertEquals(15, summary.forecasts().size());
        assertEquals(3, summary.failed());
        Map<String, SeriesForecast> byId = new HashMap<>();
        summary.forecasts().forEach(f -> byId.put(f.id(), f));
        assertTrue(byId.get("broken").error().startsWith("no model 'broken'"), byId.get("broken").error());
        List<CSVRecord> rows;
        try (Reader in = Files.newBufferedReader(out)) {
            rows = CSVFormat.DEFAULT.builder().setHeader().get().parse(in).getRecords();
        }
        assertEquals(12 * 7, rows.size());
        for (SeriesResult r : trained.results()) {
            if (!r.ok()) {
                continue;
            }
            Prediction.Result alone = Prediction.predict(dir.resolve("repo").resolve(r.model()).resolve("1/model.onnx"),
                    oneSeriesCsv(r.id()), null, 0, "ds", 7);
            List<CSVRecord> mine = rows.stream().filter(c -> c.get("id").equals(r.id())).toList();
            assertEquals(7, mine.size());
            for (int h = 0; h < 7; h++) {
                assertEquals(alone.times().get(h), mine.get(h).get("time"), r.id());
                assertEquals(alone.forecast()[h], Double.parseDouble(mine.get(h).get("forecast")), 0, r.id() + " step " + h);
                assertEquals(Integer.toString(h + 1), mine.get(h).get("step"));
            }
        }

        // The same table as Parquet, the forecast written as Parquet: the same numbers.
        Path parquetIn = dir.resolve("long.parquet");
        SparkSession spark = Sessions.open("local[1]");
        try {
            List<Row> table = new ArrayList<>();
            SERIES.forEach((id, lines) -> lines.forEach(l -> table.add(RowFactory.create(id, l.split(",")[0],
                    l.split(",")[1].equals(BAD_CELL) ? null : Double.parseDouble(l.split(",")[1])))));
            StructType schema = new StructType().add("unique_id", DataTypes.StringType).add("ds", DataTypes.StringType)
                    .add("y", DataTypes.DoubleType);
            spark.createDataFrame(table, schema).write().parquet(parquetIn.toString());
        } finally {
            spark.stop();
        }
        Path parquetOut = dir.resolve("forecast.parquet");
        SparkJobs.PredictSummary fromParquet = PredictMany.run(new SparkJobs.PredictJob(parquetIn.toString(), FORMAT,
                dir.resolve("repo"), 7, parquetOut, "local[2]"), JobProgress.NONE);
        assertEquals(3, fromParquet.failed());
        spark = Sessions.open("local[1]");
        try {
            Dataset<Row> written = spark.read().parquet(parquetOut.toString());
            assertEquals(12 * 7, written.count());
            for (CSVRecord c : rows) {
                Row w = written.filter(String.format(Locale.ROOT, "id = '%s' AND step = %s", c.get("id"), c.get("step")))
                        .first();
                assertNotNull(w);
                assertEquals(Double.parseDouble(c.get("forecast")), w.getDouble(w.fieldIndex("forecast")), 0, c.get("id"));
            }
        } finally {
            spark.stop();
        }
    }
}
