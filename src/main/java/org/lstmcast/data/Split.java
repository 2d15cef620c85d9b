package org.lstmcast.data;

/**
 * A chronological three-way split: training rows {@code [0, trainEnd)}, validation rows
 * {@code [trainEnd, valEnd)} and test rows {@code [valEnd, rows)}.
 */
public record Split(int rows, int trainEnd, int valEnd) {

    /**
     * The test part is the last {@code ceil(testFraction * rows)} rows; the validation part is the last
     * {@code ceil(valFraction * r)} of the {@code r} rows before it; training is the rest.
     */
    public static Split of(int rows, double valFraction, double testFraction) {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("test fraction must be in (0, 1), got " + testFraction);
        }
        if (!(valFraction > 0 && valFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + valFraction);
        }
        int test = (int) Math.ceil(testFraction * rows - 1e-9);
        int rest = rows - test;
        int val = (int) Math.ceil(valFraction * rest - 1e-9);
        return new Split(rows, rest - val, rest);
    }

    /**
     * As {@link #of(int, double, double)}, with test and validation parts of at least {@code horizon} rows each: every
     * step of the horizon is then scored on both, and a short series is not left with a part shorter than one forecast.
     */
    public static Split of(int rows, double valFraction, double testFraction, int horizon) {
        Split s = of(rows, valFraction, testFraction);
        int test = Math.max(horizon, s.testRows());
        int rest = rows - test;
        int val = Math.max(horizon, (int) Math.ceil(valFraction * rest - 1e-9));
        return new Split(rows, rest - val, rest);
    }

    /** The last {@code horizon} rows to test, the {@code horizon} before them to validate, the rest to fit. */
    public static Split tight(int rows, int horizon) {
        return new Split(rows, rows - 2 * horizon, rows - horizon);
    }

    public int trainRows() {
        return trainEnd;
    }

    public int valRows() {
        return valEnd - trainEnd;
    }

    public int testRows() {
        return rows - valEnd;
    }
}
