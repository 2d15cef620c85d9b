package org.lstmcast.global;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * The window statistics of a global model against an independent NumPy computation (profile, Theta, level and the
 * network's input on random windows of every length), and the properties the model is built on, by hand.
 */
class NormaliserTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void windowsMatchAnIndependentNumpyComputation() throws Exception {
        String python = python();
        assumeTrue(python != null || System.getenv("CI") != null, "no python3 with numpy");
        assertTrue(python != null, "CI must have python3 with numpy (.ci/run installs python3-onnx, which brings it)");
        Random random = new Random(7);
        List<Normaliser> norms = new ArrayList<>();
        List<double[]> histories = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            int season = new int[] {1, 4, 12}[i % 3];
            int horizon = 1 + random.nextInt(8);
            int lookback = season * (2 + random.nextInt(4));
            Normaliser.Scale scale = i % 2 == 0 ? Normaliser.Scale.LOG : Normaliser.Scale.MEAN;
            norms.add(new Normaliser(lookback, 1 + random.nextInt(lookback), season, horizon, scale));
            int n = 1 + random.nextInt(lookback + 10);
            double[] h = new double[n];
            double level = Math.exp(random.nextGaussian() * 4);
            for (int t = 0; t < n; t++) {
                double seasonal = 1 + 0.3 * Math.sin(2 * Math.PI * t / Math.max(season, 2));
                h[t] = level * seasonal * (1 + 0.02 * t) * Math.exp(0.05 * random.nextGaussian());
            }
            histories.add(h);
        }
        Process p = new ProcessBuilder(python, Path.of("src/test/resources/global/normaliser_reference.py").toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (Writer w = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            for (int i = 0; i < norms.size(); i++) {
                Normaliser nm = norms.get(i);
                Map<String, Object> q = new LinkedHashMap<>();
                q.put("lookback", nm.lookback());
                q.put("steps", nm.steps());
                q.put("season", nm.season());
                q.put("horizon", nm.horizon());
                q.put("scale", nm.scale().label());
                q.put("history", histories.get(i));
                w.write(JSON.writeValueAsString(q) + "\n");
            }
        }
        List<JsonNode> answers = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                answers.add(JSON.readTree(line));
            }
        }
        assertEquals(0, p.waitFor());
        assertEquals(norms.size(), answers.size());
        int seasonalKept = 0;
        for (int i = 0; i < norms.size(); i++) {
            Normaliser nm = norms.get(i);
            Normaliser.Window w = nm.window(histories.get(i));
            JsonNode a = answers.get(i);
            String where = "window " + i + " (" + nm + ", " + histories.get(i).length + " values)";
            assertEquals(a.get("level").asDouble(), w.level(), 1e-9, where);
            assertArrayEquals(doubles(a.get("profile")), w.profile(), 1e-9, where);
            assertArrayEquals(doubles(a.get("theta")), w.theta(), 1e-7, where);
            for (int f = 0; f < Normaliser.FEATURES; f++) {
                assertArrayEquals(doubles(a.get("input").get(f)), toDouble(w.input()[f]), 1e-5, where);
            }
            if (Arrays.stream(w.profile()).anyMatch(v -> v != 0)) {
                seasonalKept++;
            }
        }
        assertTrue(seasonalKept > 10, "the random windows exercise the profile (" + seasonalKept + " kept one)");
    }

    @Test
    void aSeasonOnATrendIsRecoveredWholeAndTheLevelIsTheLastSeasonsMean() {
        // log x = 0.01 t + s[t mod 4]: the trend within each block is removed, no noise, so nothing is shrunk.
        double[] s = {0.2, -0.1, 0.05, -0.15};
        double[] x = new double[24];
        for (int t = 0; t < x.length; t++) {
            x[t] = 50 * Math.exp(0.01 * t + s[t % 4]);
        }
        Normaliser nm = new Normaliser(24, 8, 4, 4, Normaliser.Scale.LOG);
        Normaliser.Window w = nm.window(x);
        assertArrayEquals(s, w.profile(), 1e-12);
        double level = 0;
        for (int t = 20; t < 24; t++) {
            level += Math.log(x[t]) / 4;
        }
        assertEquals(level, w.level(), 1e-12);
        // A straight line is Theta's own case: the adjusted values are 0.01 t + log 50, and every weight forecasts the
        // smoothed level plus half the slope's continuation; the line's next values lie within half a slope per step.
        for (int h = 1; h <= 4; h++) {
            double line = Math.log(50) + 0.01 * (23 + h);
            assertTrue(Math.abs(w.theta()[h - 1] - line) < 0.01 * (h + 20), "step " + h);
        }
    }

    @Test
    void aSeriesAndTheSameSeriesAMillionTimesLargerReadTheSameAndForecastInTheirOwnUnits() {
        Random random = new Random(3);
        double[] small = new double[40];
        double[] large = new double[40];
        for (int t = 0; t < small.length; t++) {
            small[t] = 2e-3 * (1 + 0.2 * Math.sin(t)) * Math.exp(0.1 * random.nextGaussian());
            large[t] = small[t] * 1e6;
        }
        for (Normaliser.Scale scale : Normaliser.Scale.values()) {
            Normaliser nm = new Normaliser(24, 12, 12, 6, scale);
            Normaliser.Window a = nm.window(small);
            Normaliser.Window b = nm.window(large);
            for (int f = 0; f < Normaliser.FEATURES; f++) {
                assertArrayEquals(a.input()[f], b.input()[f], 1e-5f, scale + " feature " + f);
            }
            float[] out = {0.1f, -0.2f, 0.05f, 0f, 0.3f, -0.1f};
            double[] fa = nm.forecast(a, out);
            double[] fb = nm.forecast(b, out);
            for (int h = 0; h < fa.length; h++) {
                assertEquals(fa[h] * 1e6, fb[h], Math.abs(fb[h]) * 1e-9, scale + " step " + (h + 1));
            }
        }
    }

    @Test
    void aConstantSeriesIsForecastAsItselfFromAnyLengthAndTheTargetInvertsTheForecast() {
        for (int n : new int[] {1, 2, 3, 17, 60}) {
            double[] x = new double[n];
            Arrays.fill(x, 7.5);
            for (Normaliser.Scale scale : Normaliser.Scale.values()) {
                Normaliser nm = new Normaliser(36, 24, 12, 5, scale);
                Normaliser.Window w = nm.window(x);
                assertEquals(Math.min(n, 36), w.real());
                for (double f : nm.forecast(w, null)) {
                    assertEquals(7.5, f, 1e-9, n + " values, " + scale);
                }
                double[] future = {8, 9, 10, 11, 12};
                float[] target = nm.target(w, future);
                double[] back = nm.forecast(w, target);
                // The forecast is the mean of the network's and Theta's, so a network that outputs the target lands
                // half way between Theta (7.5) and the future, in the scaled space.
                for (int h = 0; h < 5; h++) {
                    double want = scale == Normaliser.Scale.LOG ? Math.sqrt(7.5 * future[h]) : (7.5 + future[h]) / 2;
                    assertEquals(want, back[h], 1e-5 * want, n + " values, " + scale + ", step " + (h + 1));
                }
            }
        }
    }

    @Test
    void theDefaultsFollowTheirRulesAndBadShapesAreRefused() {
        assertEquals(108, Normaliser.defaultLookback(12, 18));
        assertEquals(48, Normaliser.defaultLookback(4, 8));
        assertEquals(36, Normaliser.defaultLookback(1, 6));
        assertEquals(48, Normaliser.defaultSteps(12, 18, 108));
        assertEquals(16, Normaliser.defaultSteps(4, 8, 48));
        assertEquals(12, Normaliser.defaultSteps(1, 6, 36));
        assertThrows(IllegalArgumentException.class, () -> new Normaliser(30, 12, 12, 5, Normaliser.Scale.LOG));
        assertThrows(IllegalArgumentException.class, () -> new Normaliser(24, 25, 12, 5, Normaliser.Scale.LOG));
        assertThrows(IllegalArgumentException.class, () -> new Normaliser(24, 12, 12, 5, Normaliser.Scale.LOG)
                .window(new double[0]));
    }

    private static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    private static double[] toDouble(float[] f) {
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /** Debian's python3-numpy installs for the system Python, which may not be the first python3 on PATH. */
    static String python() throws InterruptedException {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import numpy").redirectErrorStream(true).start();
                if (p.waitFor() == 0) {
                    return candidate;
                }
            } catch (IOException e) {
                // not this one
            }
        }
        return null;
    }
}
