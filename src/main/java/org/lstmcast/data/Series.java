package org.lstmcast.data;

import java.util.List;

/**
 * A multivariate time series read from a table: one row per time step, in time order.
 *
 * @param source    where it came from, for messages
 * @param columns   the value columns, in the order of {@code values[row][column]}
 * @param times     the time label of each row (the time column's text, or the row number)
 * @param values    row-major values, finite
 * @param filled    the gaps the reader filled ({@link Gaps.Filled#NOTHING} for none)
 */
public record Series(String source, List<String> columns, List<String> times, double[][] values, Gaps.Filled filled) {

    public Series(String source, List<String> columns, List<String> times, double[][] values) {
        this(source, columns, times, values, Gaps.Filled.NOTHING);
    }

    public int rows() {
        return values.length;
    }

    public int columnIndex(String name) {
        int i = columns.indexOf(name);
        if (i < 0) {
            throw new DataException(source + ": no column '" + name + "' (columns: " + String.join(", ", columns) + ")");
        }
        return i;
    }

    /** One column as an array. */
    public double[] column(int index) {
        double[] out = new double[values.length];
        for (int r = 0; r < values.length; r++) {
            out[r] = values[r][index];
        }
        return out;
    }
}
