package org.lstmcast.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

/** Scalers and transforms against values worked out by hand on the series 10 12 11 15 14 16 | 18 17. */
class PreprocessorTest {
    private static final double[][] SERIES = column(10, 12, 11, 15, 14, 16, 18, 17);
    private static final int TRAIN_END = 6;
    private static final double EPS = 1e-6;

    @Test
    void levelIsMinMaxOfTheTrainingRowsOnly() {
        Preprocessor p = Preprocessor.fit(Transform.LEVEL, SERIES, TRAIN_END, 3, 2, 0);
        // training rows 10..16: min 10, range 6; the 18 in the later rows must not widen it
        assertEquals(10, p.inShift()[0], EPS);
        assertEquals(6, p.inScale()[0], EPS);
        double[][] window = {{11}, {15}, {14}};
        assertArrayEquals(new float[] {1 / 6f, 5 / 6f, 4 / 6f}, flat(p.input(window)), 1e-6f);
        assertArrayEquals(new float[] {1f, 8 / 6f}, p.target(window, new double[] {16, 18}), 1e-6f);
        assertArrayEquals(new double[] {16, 18}, p.rebuild(window, new float[] {1f, 8 / 6f}), 1e-5);
    }

    @Test
    void diffStandardisesFirstDifferencesAndRebuildsByRunningSum() {
        Preprocessor p = Preprocessor.fit(Transform.DIFF, SERIES, TRAIN_END, 3, 2, 0);
        // differences in the training rows: 2 -1 4 -1 2 -> mean 1.2, sample std sqrt(18.8 / 4)
        double std = Math.sqrt(18.8 / 4);
        assertEquals(1.2, p.inShift()[0], EPS);
        assertEquals(std, p.inScale()[0], EPS);
        assertEquals(2, p.steps());
        double[][] window = {{11}, {15}, {14}};
        assertArrayEquals(new float[] {(float) ((4 - 1.2) / std), (float) ((-1 - 1.2) / std)}, flat(p.input(window)), 1e-6f);
        // the future 16, 18 after 14 is the differences 2, 2
        float[] target = p.target(window, new double[] {16, 18});
        assertArrayEquals(new float[] {(float) (0.8 / std), (float) (0.8 / std)}, target, 1e-6f);
        // network says "zero" (the mean difference) twice: 14 + 1.2, then + 1.2 again
        assertArrayEquals(new double[] {15.2, 16.4}, p.rebuild(window, new float[] {0, 0}), 1e-6);
    }

    @Test
    void relativeDividesByTheLastValueWithStatisticsFromTrainingWindows() {
        Preprocessor p = Preprocessor.fit(Transform.RELATIVE, SERIES, TRAIN_END, 3, 2, 0);
        // training windows end at rows 2 and 3: [10 12 11]/11 - 1 and [12 11 15]/15 - 1
        double[] in = {-1 / 11.0, 1 / 11.0, 0, -3 / 15.0, -4 / 15.0, 0};
        assertEquals(mean(in), p.inShift()[0], EPS);
        assertEquals(std(in), p.inScale()[0], EPS);
        assertEquals(-0.0777777778, p.inShift()[0], 1e-9);
        // step 1 targets: 15/11 - 1 and 14/15 - 1; step 2: 14/11 - 1 and 16/15 - 1
        double[] h1 = {15 / 11.0 - 1, 14 / 15.0 - 1};
        double[] h2 = {14 / 11.0 - 1, 16 / 15.0 - 1};
        assertEquals(mean(h1), p.outShift()[0], EPS);
        assertEquals(std(h1), p.outScale()[0], EPS);
        assertEquals(mean(h2), p.outShift()[1], EPS);
        assertEquals(std(h2), p.outScale()[1], EPS);
        double[][] window = {{11}, {15}, {20}};
        assertEquals((float) ((11 / 20.0 - 1 - p.inShift()[0]) / p.inScale()[0]), p.input(window)[0][0], 1e-6f);
        // the network's zero means the mean relative change: 20 * (1 + mean)
        assertEquals(20 * (1 + mean(h1)), p.rebuild(window, new float[] {0, 0})[0], 1e-6);
        assertThrows(IllegalArgumentException.class, () -> p.input(new double[][] {{1}, {0}, {2}}));
    }

    @Test
    void everyTransformRoundTripsTargetsToTheSameLevels() {
        Random random = new Random(7);
        double[][] values = new double[200][2];
        double level = 100;
        for (int r = 0; r < values.length; r++) {
            level *= 1 + 0.02 * random.nextGaussian();
            values[r][0] = level;
            values[r][1] = 50 + 10 * random.nextDouble();
        }
        for (Transform t : Transform.values()) {
            if (t == Transform.AUTO) {
                continue;
            }
            Preprocessor p = Preprocessor.fit(t, values, 150, 10, 4, 0, t.anchorSeasons() > 0 ? 4 : 0);
            for (int origin = 9; origin < 195; origin += 17) {
                double[][] window = Windows.window(values, origin, 10);
                double[] future = Windows.future(values, origin, 4, 0);
                double[] back = p.rebuild(window, p.target(window, future));
                assertArrayEquals(future, back, 1e-4 * level, t + " at origin " + origin);
                assertEquals(t.networkSteps(10), p.input(window).length);
                assertEquals(2, p.input(window)[0].length);
            }
        }
    }

    @Test
    void theSeasonalTransformIsSeasonalNaivePlusTheNetworksCorrection() {
        double[][] values = new double[60][1];
        for (int r = 0; r < values.length; r++) {
            values[r][0] = 10 + r + 5 * (r % 4) + (r % 7);
        }
        // A lookback of one season: the anchors fit in the window, the anchor of the window's last row does not.
        Preprocessor plain = Preprocessor.fit(Transform.SEASONAL, values, 40, 4, 5, 0, 4);
        assertFalse(plain.carriesAnchorError());
        assertArrayEquals(new double[5], plain.anchorCarry());
        int origin = 45;
        // An output that unscales to 0 is then the seasonal naive forecast: the value 4 steps before steps 1-4, and 8
        // before step 5 (the last season's value again).
        double[] naive = {values[42][0], values[43][0], values[44][0], values[45][0], values[42][0]};
        assertArrayEquals(naive, plain.rebuild(Windows.window(values, origin, 4), zero(plain)), 1e-4);

        Preprocessor p = Preprocessor.fit(Transform.SEASONAL, values, 40, 6, 5, 0, 4);
        assertTrue(p.carriesAnchorError());
        double[][] window = Windows.window(values, origin, 6);
        // With one row more, the anchor's error at the last row (y[45] - y[41]) is carried into each step by the
        // least-squares slope of the steps' errors on it, over the training origins 5..34.
        double[] x = new double[30];
        for (int t = 5; t <= 34; t++) {
            x[t - 5] = values[t][0] - values[t - 4][0];
        }
        int[] lag = {3, 2, 1, 0, 3};
        double[] carry = new double[5];
        for (int h = 1; h <= 5; h++) {
            double[] y = new double[30];
            for (int t = 5; t <= 34; t++) {
                y[t - 5] = values[t + h][0] - values[t - lag[h - 1]][0];
            }
            // The slope, held between 0 and the step before's carry.
            carry[h - 1] = Math.min(Math.max(0, slope(x, y)), h == 1 ? Double.MAX_VALUE : carry[h - 2]);
            if (h == 1) {
                double[] rest = new double[30];
                for (int i = 0; i < 30; i++) {
                    rest[i] = y[i] - carry[0] * x[i];
                }
                assertEquals(mean(rest), p.outShift()[0], EPS, "the network learns what the carry leaves");
            }
        }
        assertArrayEquals(carry, p.anchorCarry(), 1e-9);
        double error = values[45][0] - values[41][0];
        double[] expected = new double[5];
        for (int h = 0; h < 5; h++) {
            expected[h] = naive[h] + carry[h] * error;
        }
        assertArrayEquals(expected, p.rebuild(window, zero(p)), 1e-4);
        // A network that outputs 0 forecasts the anchor, the carried error and the training rows' mean drift; without
        // the drift, the anchor and the carried error alone.
        double[] withDrift = new double[5];
        for (int h = 0; h < 5; h++) {
            withDrift[h] = expected[h] + p.outShift()[h];
        }
        assertTrue(Math.abs(p.outShift()[0]) > 0.1, "the generated series drifts: " + p.outShift()[0]);
        assertArrayEquals(withDrift, p.rebuild(window, new float[5]), 1e-4);
        assertArrayEquals(expected, p.withoutDrift().rebuild(window, new float[5]), 1e-4);
        assertArrayEquals(p.anchorCarry(), p.withoutDrift().anchorCarry(), 0);
        // First differences without their mean: a network that outputs 0 forecasts the window's last value (naive).
        double last = window[window.length - 1][0];
        assertArrayEquals(new double[] {last, last, last, last, last},
                Preprocessor.fit(Transform.DIFF, values, 40, 6, 5, 0, 4).withoutDrift().rebuild(window, new float[5]), 0);
        assertThrows(IllegalStateException.class, () -> Preprocessor.fit(Transform.LEVEL, values, 40, 6, 5, 0, 4).withoutDrift());
        assertEquals(5, p.input(window).length, "first differences of 6 rows");
        assertThrows(IllegalArgumentException.class, () -> Preprocessor.fit(Transform.SEASONAL, values, 40, 3, 5, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> Preprocessor.fit(Transform.SEASONAL, values, 40, 6, 5, 0, 0));
        // The window's drift needs an anchor, and a window longer than one season to measure a change in.
        assertThrows(IllegalArgumentException.class, () -> Preprocessor.fit(Transform.DIFF, values, 40, 6, 5, 0, 4, true));
        assertThrows(IllegalArgumentException.class, () -> Preprocessor.fit(Transform.SEASONAL, values, 40, 4, 5, 0, 4, true));
        Preprocessor trend = Preprocessor.fit(Transform.SEASONAL, values, 40, 6, 5, 0, 4, true);
        assertTrue(trend.windowDrift() && trend.withoutDrift().windowDrift(), "the window's drift is not the mean one");
        // A window that rises by the same amount every row: its change over a season is 4 times that, and a network
        // that outputs its mean shift forecasts the line's continuation.
        double[][] line = new double[6][1];
        for (int r = 0; r < 6; r++) {
            line[r][0] = 3 + 2.5 * r;
        }
        double[] continued = trend.withoutDrift().rebuild(line, new float[5]);
        for (int h = 1; h <= 5; h++) {
            assertEquals(3 + 2.5 * (5 + h), continued[h - 1], 1e-9, "step " + h);
        }
    }

    @Test
    void theSeasonalMeanTransformAnchorsOnTheMeanOfTwoSeasonsBack() {
        double[][] values = new double[80][1];
        // Trend, season 4, and a deviation that persists (each step keeps 0.8 of the last), so the carry is not 0.
        double deviation = 0;
        for (int r = 0; r < values.length; r++) {
            deviation = 0.8 * deviation + (r * r % 7) - 3;
            values[r][0] = 10 + 0.5 * r + 5 * (r % 4) + deviation;
        }
        Preprocessor p = Preprocessor.fit(Transform.SEASONAL_MEAN, values, 50, 9, 5, 0, 4);
        int origin = 60;
        double[][] window = Windows.window(values, origin, 9);
        // Step h's anchor averages the rows 4 and 8 before it (steps 1-4); step 5 repeats step 1's rows. The last
        // row's own anchor, the mean of y[56] and y[52], is within the 9 rows: its error is carried.
        assertTrue(p.carriesAnchorError());
        double error = values[60][0] - (values[56][0] + values[52][0]) / 2;
        double[] expected = new double[5];
        int[][] rows = {{57, 53}, {58, 54}, {59, 55}, {60, 56}, {57, 53}};
        for (int h = 0; h < 5; h++) {
            expected[h] = (values[rows[h][0]][0] + values[rows[h][1]][0]) / 2 + p.anchorCarry()[h] * error;
        }
        assertArrayEquals(expected, p.rebuild(window, zero(p)), 1e-4);
        assertArrayEquals(new int[] {3, 7}, p.anchorLags(1));
        assertArrayEquals(new int[] {3, 7}, p.anchorLags(5));
        // Training: y[t + 1] minus the mean of y[t - 3] and y[t - 7], on the last row's error y[t] minus the mean of
        // y[t - 4] and y[t - 8], over the training origins 8..44.
        double[] d = new double[37];
        double[] x = new double[37];
        for (int t = 8; t <= 44; t++) {
            d[t - 8] = values[t + 1][0] - (values[t - 3][0] + values[t - 7][0]) / 2;
            x[t - 8] = values[t][0] - (values[t - 4][0] + values[t - 8][0]) / 2;
        }
        double carry = Math.max(0, slope(x, d));
        assertTrue(carry > 0.1, "the persisting deviation is carried: " + carry);
        assertEquals(carry, p.anchorCarry()[0], 1e-9);
        for (int h = 1; h < 5; h++) {
            assertTrue(p.anchorCarry()[h] >= 0 && p.anchorCarry()[h] <= p.anchorCarry()[h - 1], "fades with the horizon");
        }
        double[] rest = new double[37];
        for (int i = 0; i < 37; i++) {
            rest[i] = d[i] - carry * x[i];
        }
        assertEquals(mean(rest), p.outShift()[0], EPS);
        assertEquals("seasonal-mean", Transform.SEASONAL_MEAN.id());
        assertEquals(Transform.SEASONAL_MEAN, Transform.parse("seasonal-mean"));
        // Two seasons must fit in the window.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Preprocessor.fit(Transform.SEASONAL_MEAN, values, 50, 7, 5, 0, 4));
        assertTrue(e.getMessage().contains("lookback of at least 2 seasons"), e.getMessage());
    }

    @Test
    void constantColumnsDoNotDivideByZero() {
        double[][] flatSeries = column(5, 5, 5, 5, 5, 5, 5, 5);
        for (Transform t : Transform.values()) {
            if (t == Transform.AUTO) {
                continue;
            }
            Preprocessor p = Preprocessor.fit(t, flatSeries, 6, 4, 2, 0, t.anchorSeasons() > 0 ? 2 : 0);
            for (float v : flat(p.input(Windows.window(flatSeries, 4, 4)))) {
                assertEquals(true, Float.isFinite(v), t.toString());
            }
        }
    }

    private static double[][] column(double... v) {
        double[][] out = new double[v.length][];
        for (int i = 0; i < v.length; i++) {
            out[i] = new double[] {v[i]};
        }
        return out;
    }

    private static float[] flat(float[][] m) {
        float[] out = new float[m.length * m[0].length];
        int k = 0;
        for (float[] row : m) {
            for (float v : row) {
                out[k++] = v;
            }
        }
        return out;
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    private static double std(double[] v) {
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }

    /** The network output that unscales to 0 at every step. */
    private static float[] zero(Preprocessor p) {
        float[] zero = new float[p.horizon()];
        for (int h = 0; h < zero.length; h++) {
            zero[h] = (float) (-p.outShift()[h] / p.outScale()[h]);
        }
        return zero;
    }

    /** Ordinary least squares slope with an intercept, from its textbook formula. */
    private static double slope(double[] x, double[] y) {
        double mx = mean(x);
        double my = mean(y);
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        return sxy / sxx;
    }
}
