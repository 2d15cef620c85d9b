package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train → export into a model repository → inspect → predict, with the packaged program. */
class ExportPredictIT {
    @TempDir
    Path work;

    @Test
    void trainedModelIsExportedProvenAndForecasts() throws Exception {
        Path csv = Program.ROOT.resolve("data/co2_monthly.csv").toAbsolutePath();
        Program.Result train = Program.run(work, "train", "--data", csv.toString(), "--target", "ppm", "--season", "12",
                "--lookback", "24", "--horizon", "6", "--epochs", "3", "--quiet", "--out", "run", "--export", "repo/co2");
        assertEquals(0, train.code(), train.err());
        assertEquals("", train.out(), "--quiet silences the export report too");
        assertTrue(Files.isRegularFile(work.resolve("repo/co2/1/model.onnx")));

        // A second export of the same run becomes version 2, the layout serve reads; it reports its proof.
        Program.Result again = Program.run(work, "export", "--run", "run", "--out", "repo/co2/2/model.onnx");
        assertEquals(0, again.code(), again.err());
        Matcher m = Pattern.compile("max rel error ([0-9.e+-]+)").matcher(again.out());
        assertTrue(m.find(), again.out());
        assertTrue(Double.parseDouble(m.group(1)) <= 1e-4, again.out());
        assertEquals(Files.size(work.resolve("repo/co2/1/model.onnx")), Files.size(work.resolve("repo/co2/2/model.onnx")));

        Program.Result inspect = Program.run(work, "inspect", "repo/co2/1/model.onnx");
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(inspect.out().contains("servable    yes: windows of 24 rows x 1 feature [ppm] -> 6 steps"), inspect.out());

        Program.Result predict = Program.run(work, "predict", "--model", "repo/co2/1/model.onnx", "--data", csv.toString(),
                "--horizon", "14", "--out", "next.csv", "--plot", "next.png");
        assertEquals(0, predict.code(), predict.err());
        List<String> lines = Files.readAllLines(work.resolve("next.csv"));
        assertEquals(15, lines.size());
        assertEquals("step,time,forecast,lower_80,upper_80,lower_95,upper_95", lines.get(0));
        assertTrue(lines.get(14).startsWith("14,1999-02,"), lines.get(14));
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);
            double v = Double.parseDouble(cells[2]);
            assertTrue(v > 340 && v < 390, "a CO2 forecast for 1998-99 in ppm: " + line);
            int step = Integer.parseInt(cells[0]);
            // Nested intervals around the forecast, within the model's horizon and past it.
            double l80 = Double.parseDouble(cells[3]);
            double u80 = Double.parseDouble(cells[4]);
            double l95 = Double.parseDouble(cells[5]);
            double u95 = Double.parseDouble(cells[6]);
            assertTrue(l95 <= l80 && l80 < v && v < u80 && u80 <= u95, line);
            if (step > 6) {
                // Extrapolated: step 6's half-width relative to its forecast (ppm stays above zero, so the intervals are
                // relative) times sqrt(step / 6), around this step's forecast.
                String[] six = lines.get(6).split(",", -1);
                double f6 = Double.parseDouble(six[2]);
                double rel95 = (Double.parseDouble(six[6]) - f6) / Math.abs(f6);
                double want = rel95 * Math.abs(v) * Math.sqrt(step / 6.0);
                assertEquals(want, u95 - v, 1e-4 * want + 1e-4, "step " + step + ": " + line);
            }
        }
        assertTrue(predict.err().contains("the intervals are calibrated for the model's 6 steps; from step 7 on (marked *) "
                + "they are extrapolated"), predict.err());
        assertEquals(8, predict.out().lines().filter(l -> l.contains(" *")).count(), predict.out());
        assertTrue(Files.size(work.resolve("next.png")) > 10_000);
    }

    @Test
    void bundledModelForecastsFromAFreshDirectory() throws Exception {
        Path model = Program.ROOT.resolve("models/dax/1/model.onnx").toAbsolutePath();
        Path csv = Program.ROOT.resolve("data/eustockmarkets_daily.csv").toAbsolutePath();
        Program.Result r = Program.run(work, "predict", "--model", model.toString(), "--data", csv.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("DAX after 1998.646154"), r.out());
        // A heading, a header with the bundled model's two interval levels, five steps.
        assertEquals(5 + 2, r.out().lines().count(), r.out());
        assertTrue(r.out().lines().skip(1).findFirst().orElseThrow().contains("80% interval")
                && r.out().contains("95% interval"), r.out());
        assertEquals("", r.err());
    }
}
