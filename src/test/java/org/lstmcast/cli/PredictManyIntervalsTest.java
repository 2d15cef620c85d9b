package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.export.SmallExport;
import org.lstmcast.many.LongFormat;
import org.lstmcast.many.SeriesForecast;

/**
 * {@code predict-many} carries the models' intervals: lower and upper columns per level, equal to what {@code predict}
 * writes for each series alone, on both paths (one model for every series, and a model per series).
 */
class PredictManyIntervalsTest {
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void train() throws Exception {
        model = tmp.resolve("small.onnx");
        SmallExport.write(tmp, model);
    }

    private static double value(String id, int t) {
        return (id.equals("a") ? 100 : 250) + 5 * Math.sin(2 * Math.PI * t / 12 + (id.equals("a") ? 0 : 1)) + 0.1 * t;
    }

    @Test
    void everySeriesGetsTheBandsPredictGivesItAlone() throws Exception {
        StringBuilder longTable = new StringBuilder("unique_id,ds,y\n");
        for (String id : List.of("a", "b")) {
            StringBuilder alone = new StringBuilder("t,y\n");
            for (int t = 0; t < 30; t++) {
                String v = String.format(Locale.ROOT, "%.4f", value(id, t));
                longTable.append(id).append(',').append(t).append(',').append(v).append('\n');
                alone.append(t).append(',').append(v).append('\n');
            }
            Files.writeString(tmp.resolve(id + ".csv"), alone);
        }
        Path data = Files.writeString(tmp.resolve("long.csv"), longTable);
        Path out = tmp.resolve("forecast.csv");
        MainTest.Run r = MainTest.run("predict-many", "--data", data.toString(), "--model", model.toString(), "--horizon", "4",
                "--out", out.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        assertEquals("predict-many: note: the intervals past each model's horizon are extrapolated (from step 4 for series "
                + "'a'): the last calibrated half-width times sqrt(step / horizon)\n", r.err());
        List<String> rows = Files.readAllLines(out);
        assertEquals("id,model,version,step,time,forecast,lower_80,upper_80,lower_95,upper_95", rows.get(0));
        assertEquals(1 + 2 * 4, rows.size());
        for (String id : List.of("a", "b")) {
            Path alone = tmp.resolve(id + "-predict.csv");
            MainTest.Run p = MainTest.run("predict", "--model", model.toString(), "--data", tmp.resolve(id + ".csv").toString(),
                    "--horizon", "4", "--out", alone.toString());
            assertEquals(0, p.code(), p.err());
            List<String> want = Files.readAllLines(alone);
            assertEquals("step,time,forecast,lower_80,upper_80,lower_95,upper_95", want.get(0));
            List<String> got = rows.stream().filter(l -> l.startsWith(id + ",")).toList();
            for (int h = 0; h < 4; h++) {
                String[] g = got.get(h).split(",");
                String[] w = want.get(h + 1).split(",");
                for (int c = 2; c <= 6; c++) {
                    assertEquals(Double.parseDouble(w[c]), Double.parseDouble(g[c + 3]), 1e-9 * Math.abs(Double.parseDouble(w[c])),
                            id + " step " + (h + 1) + " column " + c);
                }
            }
        }
    }

    @Test
    void aModelPerSeriesCarriesItsIntervalsAndOneWithoutLeavesTheCellsEmpty() throws Exception {
        LongFormat format = new LongFormat("unique_id", "ds", "y", List.of());
        List<LongFormat.Row> rows = new ArrayList<>();
        for (int t = 0; t < 30; t++) {
            rows.add(new LongFormat.Row("a", t + 2, Integer.toString(t), new String[] {String.format(Locale.ROOT, "%.4f", value("a", t))}));
        }
        SeriesForecast with = SeriesForecast.of(format, "long.csv", "a", rows, "small", 1, Files.readAllBytes(model), 5);
        assertEquals(null, with.error());
        assertArrayEquals(new int[] {80, 95}, with.bands().levels());
        assertEquals(4, with.bands().extrapolatedFrom());
        // The bundled DAX model has no intervals: its rows leave the interval cells empty.
        List<LongFormat.Row> dax = new ArrayList<>();
        for (int t = 0; t < 30; t++) {
            dax.add(new LongFormat.Row("d", t + 2, Integer.toString(t), new String[] {Double.toString(5000 + t)}));
        }
        SeriesForecast without = SeriesForecast.of(new LongFormat("unique_id", "ds", "DAX", List.of()), "long.csv", "d", dax,
                "dax", 1, Files.readAllBytes(Path.of("src/test/resources/fixtures/dax_lstm.onnx")), 0);
        assertNull(without.error());
        assertNull(without.bands());
        int[] levels = SeriesForecast.levels(List.of(with, without));
        assertArrayEquals(new int[] {80, 95}, levels);
        List<Object> first = without.rows(levels).get(0);
        assertEquals(10, first.size());
        assertTrue(first.subList(6, 10).stream().allMatch(v -> v == null), first.toString());
        List<Object> a5 = with.rows(levels).get(4);
        double f = (Double) a5.get(5);
        assertTrue((Double) a5.get(8) < (Double) a5.get(6) && (Double) a5.get(6) < f && f < (Double) a5.get(7)
                && (Double) a5.get(7) < (Double) a5.get(9), a5.toString());
    }
}
