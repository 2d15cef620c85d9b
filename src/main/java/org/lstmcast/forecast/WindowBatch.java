package org.lstmcast.forecast;

import java.util.Arrays;
import java.util.List;

/**
 * Windows of equal length in one row-major array, {@code values[(window * steps + step) * features + feature]}: what
 * one model run reads, batch-first. Requests travel to the batcher and into the input tensor in this form, since an
 * array per row cost a 64-window request about a tenth of its model run in allocation and copying.
 */
public record WindowBatch(float[] values, int count, int steps, int features) {
    public WindowBatch {
        if (count < 0 || steps < 0 || features < 0 || (long) count * steps * features != values.length) {
            throw new IllegalArgumentException(values.length + " values are not " + count + " windows of " + steps
                    + " steps of " + features + " features");
        }
    }

    /** Windows {@code [window][step][feature]}, refused unless all have the same length and {@code features} per row. */
    public static WindowBatch of(float[][][] windows, int features) {
        int steps = windows.length == 0 ? 0 : windows[0].length;
        float[] values = new float[windows.length * steps * features];
        int k = 0;
        for (float[][] w : windows) {
            if (w.length != steps) {
                throw new InvalidInputException("windows in one run must have equal length");
            }
            for (float[] row : w) {
                if (row.length != features) {
                    throw new InvalidInputException("each step needs " + features + " features, got " + row.length);
                }
                System.arraycopy(row, 0, values, k, features);
                k += features;
            }
        }
        return new WindowBatch(values, windows.length, steps, features);
    }

    /** Batches of the same window length and features, one after another, as one batch; the one batch itself alone. */
    public static WindowBatch concat(List<WindowBatch> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        WindowBatch first = parts.get(0);
        int count = 0;
        for (WindowBatch p : parts) {
            if (p.steps != first.steps || p.features != first.features) {
                throw new IllegalArgumentException("batches of different window shapes cannot run together");
            }
            count += p.count;
        }
        float[] values = new float[count * first.steps * first.features];
        int k = 0;
        for (WindowBatch p : parts) {
            System.arraycopy(p.values, 0, values, k, p.values.length);
            k += p.values.length;
        }
        return new WindowBatch(values, count, first.steps, first.features);
    }

    /** Windows {@code from} (inclusive) to {@code to} (exclusive), copied. */
    public WindowBatch slice(int from, int to) {
        int size = steps * features;
        return new WindowBatch(Arrays.copyOfRange(values, from * size, to * size), to - from, steps, features);
    }

    /** The value of one window's step and feature. */
    public float get(int window, int step, int feature) {
        return values[(window * steps + step) * features + feature];
    }
}
