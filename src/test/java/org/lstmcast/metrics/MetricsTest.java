package org.lstmcast.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Each metric on actual 1 2 3 4 against a flat forecast of 2, worked out by hand. */
class MetricsTest {
    private static final double[] A = {1, 2, 3, 4};
    private static final double[] F = {2, 2, 2, 2};
    private static final double EPS = 1e-12;

    @Test
    void maeAndRmse() {
        // errors 1 0 1 2
        assertEquals(1.0, Metrics.mae(A, F), EPS);
        assertEquals(Math.sqrt(6 / 4.0), Metrics.rmse(A, F), EPS);
    }

    @Test
    void mapeInPercentAndUndefinedAtZero() {
        // (1/1 + 0/2 + 1/3 + 2/4) / 4 * 100
        assertEquals((1 + 1 / 3.0 + 0.5) / 4 * 100, Metrics.mape(A, F), EPS);
        assertTrue(Double.isNaN(Metrics.mape(new double[] {0, 1}, new double[] {1, 1})));
    }

    @Test
    void smapeIsSymmetricAndBounded() {
        // 200/4 * (1/3 + 0 + 1/5 + 2/6)
        assertEquals(50 * (1 / 3.0 + 1 / 5.0 + 2 / 6.0), Metrics.smape(A, F), EPS);
        assertEquals(Metrics.smape(A, F), Metrics.smape(F, A), EPS);
        assertEquals(200, Metrics.smape(new double[] {1}, new double[] {0}), EPS);
        assertEquals(0, Metrics.smape(new double[] {0}, new double[] {0}), EPS);
    }

    @Test
    void maseScalesByTheInSampleNaiveError() {
        double[] training = {1, 3, 2, 5};
        // |3-1| + |2-3| + |5-2| = 6 over 3 differences
        assertEquals(2.0, Metrics.maseScale(training, 1), EPS);
        // seasonal m = 2: |2-1| + |5-3| = 3 over 2
        assertEquals(1.5, Metrics.maseScale(training, 2), EPS);
        assertEquals(0.5, Metrics.mase(A, F, 2.0), EPS);
        assertThrows(IllegalArgumentException.class, () -> Metrics.maseScale(training, 4));
    }

    @Test
    void mismatchedInputsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Metrics.mae(A, new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> Metrics.rmse(new double[0], new double[0]));
    }

    @Test
    void baselinesLookBackFromTheOrigin() {
        double[] y = new double[30];
        for (int i = 0; i < y.length; i++) {
            y[i] = i * i;
        }
        assertEquals(y[15], Baselines.naive(y, 15, 3));
        // period 12: steps 1..12 repeat the last season, step 13 goes back two seasons to the same month
        assertEquals(y[4], Baselines.seasonalNaive(y, 15, 1, 12));
        assertEquals(y[15], Baselines.seasonalNaive(y, 15, 12, 12));
        assertEquals(y[4], Baselines.seasonalNaive(y, 15, 13, 12));
        assertEquals(y[15], Baselines.seasonalNaive(y, 15, 1, 1));
    }
}
