package org.lstmcast.forecast;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class IntervalsTest {

    @Test
    void theConformalRankIsCeilOfNPlusOneTimesTheLevelCappedAtN() {
        assertEquals(8, Intervals.rank(9, 80));    // 10 * 0.8 = 8
        assertEquals(19, Intervals.rank(19, 95));  // 20 * 0.95 = 19
        assertEquals(17, Intervals.rank(20, 80));  // 21 * 0.8 = 16.8
        assertEquals(10, Intervals.rank(10, 95));  // 11 * 0.95 = 10.45 -> 11, capped
        assertTrue(Intervals.guaranteed(19, 95));
        assertFalse(Intervals.guaranteed(18, 95));
        assertEquals(1, Intervals.rank(1, 50));
    }

    @Test
    void halfWidthsAreOrderStatisticsOfTheAbsoluteErrorsPerStep() {
        // Step 1: errors 1..9 (unsorted, signs mixed); step 2: errors 10, 20, ..., 90.
        double[][] f = {{0, 0, 0, 0, 0, 0, 0, 0, 0}, {100, 100, 100, 100, 100, 100, 100, 100, 100}};
        double[][] a = {{5, -3, 9, 1, -7, 2, 8, -4, 6}, {110, 80, 130, 60, 150, 40, 170, 20, 190}};
        Intervals iv = Intervals.fit(List.of(50, 80), false, f, a);
        // n = 9: rank(9, 50) = 5, rank(9, 80) = 8
        assertArrayEquals(new double[] {5, 8}, iv.halfWidth()[0]);
        assertArrayEquals(new double[] {50, 80}, iv.halfWidth()[1]);
        assertArrayEquals(new int[] {9, 9}, iv.calibrationWindows());
        double[][] b = iv.bounds(new double[] {10, 20}, 1);
        assertArrayEquals(new double[] {2, -60}, b[0]);
        assertArrayEquals(new double[] {18, 100}, b[1]);
    }

    @Test
    void tooFewForecastsForALevelFallBackToTheStudentQuantileOfTheirSpread() {
        // Errors 3, 4, 5 (n = 3): ceil(4 * 0.95) = 4 > 3. RMS = sqrt(50 / 3) = 4.0825; t(3 df) at 0.975 is 3.182446
        // (printed tables), and 3.182446 * 4.0825 = 12.99 exceeds the largest error, 5.
        Intervals iv = Intervals.fit(List.of(50, 95), false, new double[][] {{0, 0, 0}}, new double[][] {{3, -4, 5}});
        assertEquals(4, iv.halfWidth()[0][0], 1e-12);                 // rank ceil(4 * 0.5) = 2
        assertEquals(3.182446 * Math.sqrt(50.0 / 3), iv.halfWidth()[0][1], 1e-5);
        // More table values: t(6) at 0.975, t(5) at 0.90, and the normal limit.
        assertEquals(2.446912, Intervals.studentQuantile(95, 6), 1e-6);
        assertEquals(1.475884, Intervals.studentQuantile(80, 5), 1e-6);
        assertEquals(1.959964, Intervals.studentQuantile(95, 1_000_000), 1e-5);
    }

    @Test
    void theLargestErrorStaysTheFloorWhereItIsWiderThanTheQuantile() {
        // Eleven errors of 0.1 and one of 10 (n = 12, too few for 95%): the quantile times their RMS is 6.29, under
        // the largest error, which is kept.
        double[][] f = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
        double[][] a = {{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 10}};
        Intervals iv = Intervals.fit(List.of(95), false, f, a);
        double rms = Math.sqrt((11 * 0.01 + 100) / 12);
        assertTrue(2.178813 * rms < 10, "t(12) at 0.975 = 2.178813 times " + rms);
        assertEquals(10, iv.halfWidth()[0][0], 1e-12);
    }

    @Test
    void relativeHalfWidthsScaleWithTheForecast() {
        double[][] f = {{100, 200, 400, 800}};
        double[][] a = {{110, 180, 440, 720}};  // 10% off each
        Intervals iv = Intervals.fit(List.of(50), true, f, a);
        assertEquals(0.1, iv.halfWidth()[0][0], 1e-12);
        double[][] b = iv.bounds(new double[] {1000}, 0);
        assertEquals(900, b[0][0], 1e-3);
        assertEquals(1100, b[1][0], 1e-3);
        assertEquals(100, iv.halfWidth(1000, 0, 0), 1e-9);
    }

    @Test
    void exchangeableGaussianErrorsAreCoveredAtTheNominalRates() {
        // Calibrated on 2,000 draws, scored on 20,000 new ones: coverage near nominal, and the half-widths near the
        // normal quantiles (1.2816 and 1.9600 sigma), which are computed independently of the method.
        Random random = new Random(11);
        double sigma = 3;
        int n = 2000;
        double[][] f = new double[1][n];
        double[][] a = new double[1][n];
        for (int i = 0; i < n; i++) {
            f[0][i] = 50;
            a[0][i] = 50 + sigma * random.nextGaussian();
        }
        Intervals iv = Intervals.fit(List.of(80, 95), false, f, a);
        assertEquals(1.2816 * sigma, iv.halfWidth()[0][0], 0.06 * 1.2816 * sigma);
        assertEquals(1.9600 * sigma, iv.halfWidth()[0][1], 0.06 * 1.9600 * sigma);
        int m = 20_000;
        double[][] tf = new double[m][1];
        double[] ta = new double[m];
        for (int i = 0; i < m; i++) {
            tf[i][0] = 50;
            ta[i] = 50 + sigma * random.nextGaussian();
        }
        Map<String, Object> score = iv.score(tf, ta);
        double c80 = ((double[]) ((Map<?, ?>) score.get("80")).get("coverage"))[0];
        double c95 = ((double[]) ((Map<?, ?>) score.get("95")).get("coverage"))[0];
        assertEquals(0.80, c80, 0.02);
        assertEquals(0.95, c95, 0.01);
    }

    @Test
    void theIntervalScoreIsTheWidthPlusThePenaltyOutside() {
        Intervals iv = new Intervals(new int[] {80}, false, new double[][] {{1}}, new int[] {10});
        // Forecast 10, interval [9, 11]: y = 10 inside (score 2); y = 13 above by 2 (2 + 2 / 0.2 * 2 = 22);
        // y = 8.5 below by 0.5 (2 + 10 * 0.5 = 7).
        Map<String, Object> s = iv.score(new double[][] {{10}, {10}, {10}}, new double[] {10, 13, 8.5});
        Map<?, ?> level = (Map<?, ?>) s.get("80");
        assertEquals(1.0 / 3, ((double[]) level.get("coverage"))[0], 1e-12);
        assertEquals((2 + 22 + 7) / 3.0, ((double[]) level.get("interval_score"))[0], 1e-9);
    }

    @Test
    void theMetadataFormRoundTripsAndMalformedFormsAreRefusedWithTheReason() throws Exception {
        Intervals iv = new Intervals(new int[] {80, 95}, true, new double[][] {{0.1, 0.2}, {0.15, 0.3}}, new int[] {20, 19});
        Intervals back = Intervals.fromMetadata(Map.of(Intervals.KEY, iv.toMetadata()));
        assertArrayEquals(iv.levels(), back.levels());
        assertTrue(back.relative());
        assertArrayEquals(iv.halfWidth()[1], back.halfWidth()[1]);
        assertArrayEquals(iv.calibrationWindows(), back.calibrationWindows());
        assertNull(Intervals.fromMetadata(Map.of()));
        ObjectMapper json = new ObjectMapper();
        for (String bad : List.of("{\"levels\": [95, 80], \"half_width\": [[1, 2]]}",
                "{\"levels\": [80], \"half_width\": [[-1]]}",
                "{\"levels\": [80, 95], \"half_width\": [[1]]}",
                "{\"levels\": [80], \"half_width\": [[\"x\"]]}",
                "{\"levels\": [80], \"half_width\": [[1]], \"space\": \"log\"}",
                "{\"levels\": [100], \"half_width\": [[1]]}",
                "{\"levels\": 80}")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Intervals.fromJson(json.readTree(bad)), bad);
            assertTrue(e.getMessage().startsWith("malformed intervals: "), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Intervals.fromMetadata(Map.of(Intervals.KEY, "{not json")));
        assertThrows(IllegalArgumentException.class, () -> iv.bounds(new double[3], 0));
    }

    @Test
    void pastTheHorizonTheLastHalfWidthGrowsWithTheSquareRootOfTheStep() {
        Intervals absolute = new Intervals(new int[] {80, 95}, false, new double[][] {{1, 2}, {3, 4}}, new int[] {9, 9});
        double[][] b = absolute.boundsExtended(new double[] {10, 20, 30, 40}, 1);
        // Steps 1 and 2 as calibrated; step 3: 4 * sqrt(3 / 2) = 4.89898; step 4: 4 * sqrt(2) = 5.65685.
        assertArrayEquals(new double[] {8, 16, 30 - 4.898979, 40 - 5.656854}, b[0], 1e-5);
        assertArrayEquals(new double[] {12, 24, 30 + 4.898979, 40 + 5.656854}, b[1], 1e-5);
        assertEquals(3, absolute.extrapolatedFrom(4));
        assertEquals(0, absolute.extrapolatedFrom(2));
        assertEquals(0, absolute.extrapolatedFrom(1));
        // Within the horizon, the same numbers as bounds(), to the bit.
        assertArrayEquals(absolute.bounds(new double[] {10, 20}, 0)[0], absolute.boundsExtended(new double[] {10, 20}, 0)[0]);

        // Relative: step 2's 10% of |f|, times sqrt(3 / 2) at step 3 for f = -50: 5 * 1.224745 = 6.123724.
        Intervals relative = new Intervals(new int[] {90}, true, new double[][] {{0.05}, {0.1}}, new int[] {30, 30});
        double[][] r = relative.boundsExtended(new double[] {100, 100, -50}, 0);
        assertArrayEquals(new double[] {95, 90, -50 - 6.123724}, r[0], 1e-4);
        assertArrayEquals(new double[] {105, 110, -50 + 6.123724}, r[1], 1e-4);
    }
}
