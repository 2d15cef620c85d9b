package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.export.SmallExport;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.onnx.OnnxInspector;

/** {@code predict} past the model's horizon: bands extrapolated from the last calibrated one, and said so. */
class PredictCommandTest {
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void train() throws Exception {
        model = tmp.resolve("small.onnx");
        SmallExport.write(tmp, model);
    }

    @Test
    void stepsPastTheHorizonGetTheLastHalfWidthTimesTheRootOfTheStepAndAreMarked() throws Exception {
        StringBuilder csv = new StringBuilder("t,y\n");
        for (int t = 0; t < 40; t++) {
            csv.append(t).append(',').append(String.format(Locale.ROOT, "%.3f", 100 + 5 * Math.sin(2 * Math.PI * t / 12)))
                    .append('\n');
        }
        Path data = Files.writeString(tmp.resolve("history.csv"), csv);
        Path out = tmp.resolve("next.csv");
        MainTest.Run r = MainTest.run("predict", "--model", model.toString(), "--data", data.toString(), "--horizon", "5",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        // The model's own numbers, read from its file: horizon 3, relative half-widths per step and level.
        Intervals iv = Intervals.fromMetadata(OnnxInspector.inspect(model).metadata());
        assertEquals(3, iv.horizon());
        assertTrue(iv.relative());
        List<String> rows = Files.readAllLines(out);
        assertEquals("step,time,forecast,lower_80,upper_80,lower_95,upper_95", rows.get(0));
        for (int step = 1; step <= 5; step++) {
            String[] c = rows.get(step).split(",");
            double f = Double.parseDouble(c[2]);
            for (int l = 0; l < 2; l++) {
                double rel = step <= 3 ? iv.halfWidth()[step - 1][l] : iv.halfWidth()[2][l] * Math.sqrt(step / 3.0);
                double want = rel * Math.abs(f);
                assertEquals(f - want, Double.parseDouble(c[3 + 2 * l]), 1e-5 * Math.abs(f), "step " + step + " lower");
                assertEquals(f + want, Double.parseDouble(c[4 + 2 * l]), 1e-5 * Math.abs(f), "step " + step + " upper");
            }
        }
        assertEquals("lstmcast predict: note: the intervals are calibrated for the model's 3 steps; from step 4 on "
                + "(marked *) they are extrapolated: the last calibrated half-width times sqrt(step / 3)\n", r.err());
        List<String> marked = r.out().lines().filter(l -> l.endsWith(" *")).toList();
        assertEquals(2, marked.size(), r.out());
        assertTrue(marked.get(0).startsWith("4 ") && marked.get(1).startsWith("5 "), r.out());

        // Within the horizon: nothing extrapolated, nothing said.
        MainTest.Run within = MainTest.run("predict", "--model", model.toString(), "--data", data.toString());
        assertEquals(0, within.code(), within.err());
        assertEquals("", within.err());
        assertTrue(within.out().lines().noneMatch(l -> l.endsWith(" *")), within.out());
    }
}
