package org.lstmcast.data;

/**
 * Supervised samples cut from a series: the sample at origin {@code t} reads rows
 * {@code [t - lookback + 1, t]} and predicts the target at rows {@code t + 1 .. t + horizon}.
 */
public final class Windows {
    private Windows() {
    }

    /** The raw input window ending at row {@code origin}: {@code [lookback][features]}. */
    public static double[][] window(double[][] values, int origin, int lookback) {
        if (origin - lookback + 1 < 0 || origin >= values.length) {
            throw new IndexOutOfBoundsException("no window of " + lookback + " rows ends at row " + origin);
        }
        double[][] w = new double[lookback][];
        for (int j = 0; j < lookback; j++) {
            w[j] = values[origin - lookback + 1 + j];
        }
        return w;
    }

    /** The raw target values after {@code origin}: {@code [horizon]}. */
    public static double[] future(double[][] values, int origin, int horizon, int targetIndex) {
        double[] y = new double[horizon];
        for (int h = 1; h <= horizon; h++) {
            y[h - 1] = values[origin + h][targetIndex];
        }
        return y;
    }

    /**
     * Origins whose whole sample (inputs and every target) lies in rows {@code [from, to)}, inputs allowed
     * to reach back before {@code from} when {@code inputsMayPrecede}: validation samples read true history
     * from the training rows but predict validation rows only.
     */
    public static int[] origins(int from, int to, int lookback, int horizon, boolean inputsMayPrecede) {
        int first = inputsMayPrecede ? Math.max(lookback - 1, from - 1) : from + lookback - 1;
        int last = to - 1 - horizon;
        if (last < first) {
            return new int[0];
        }
        int[] out = new int[last - first + 1];
        for (int i = 0; i < out.length; i++) {
            out[i] = first + i;
        }
        return out;
    }

    /** A batch in DL4J's NCW layout, {@code [batch][features][steps]} flattened in C order. */
    public static float[] toNcw(float[][][] inputs) {
        int batch = inputs.length;
        int steps = inputs[0].length;
        int features = inputs[0][0].length;
        float[] flat = new float[batch * features * steps];
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < steps; s++) {
                for (int f = 0; f < features; f++) {
                    flat[(b * features + f) * steps + s] = inputs[b][s][f];
                }
            }
        }
        return flat;
    }
}
