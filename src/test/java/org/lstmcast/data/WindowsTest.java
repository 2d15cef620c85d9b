package org.lstmcast.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class WindowsTest {
    // row r holds (r, 100 + r)
    private static final double[][] VALUES = new double[12][];

    static {
        for (int r = 0; r < VALUES.length; r++) {
            VALUES[r] = new double[] {r, 100 + r};
        }
    }

    @Test
    void windowEndsAtTheOriginAndTheFutureStartsRightAfter() {
        double[][] w = Windows.window(VALUES, 5, 3);
        assertEquals(3, w.length);
        assertArrayEquals(new double[] {3, 103}, w[0]);
        assertArrayEquals(new double[] {5, 105}, w[2]);
        assertArrayEquals(new double[] {106, 107}, Windows.future(VALUES, 5, 2, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> Windows.window(VALUES, 1, 3));
    }

    @Test
    void trainingOriginsKeepInputsAndTargetsInsideTheirPart() {
        // rows [0, 8), lookback 3, horizon 2: origins 2..5 (targets of 5 are rows 6 and 7)
        assertArrayEquals(new int[] {2, 3, 4, 5}, Windows.origins(0, 8, 3, 2, false));
        // validation rows [8, 12): inputs may come from before 8, targets must be in 8..11: origins 7..9
        assertArrayEquals(new int[] {7, 8, 9}, Windows.origins(8, 12, 3, 2, true));
        assertEquals(0, Windows.origins(8, 9, 3, 2, true).length);
    }

    @Test
    void ncwLayoutPutsTimeInnermost() {
        float[][][] batch = {
            {{1, 10}, {2, 20}, {3, 30}},
            {{4, 40}, {5, 50}, {6, 60}}};
        // [batch][feature][step]
        assertArrayEquals(new float[] {1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60}, Windows.toNcw(batch));
    }
}
