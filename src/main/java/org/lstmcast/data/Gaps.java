package org.lstmcast.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Gaps in a series, filled by a policy: empty cells, and time steps missing where the labels have a calendar step
 * (which labels have one, and why business days and timestamps do not, is {@link Cadence}'s rule). The readers pass
 * empty cells here as NaN and only when a policy other than {@code none} is given; under {@code none} they stop at the
 * first with its line and column.
 */
public final class Gaps {
    /** How gaps are filled; {@code none} refuses them. */
    public enum Fill {
        NONE, PREVIOUS, LINEAR, ZERO;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** @throws IllegalArgumentException naming the choices, for any other word */
        public static Fill parse(String text) {
            for (Fill f : values()) {
                if (f.id().equals(text)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("--fill must be none, previous, linear or zero, not '" + text + "'");
        }
    }

    /** What a reader filled: empty cells and missing time steps (each inserted row counts once). */
    public record Filled(Fill fill, int cells, int steps) {
        public static final Filled NOTHING = new Filled(Fill.NONE, 0, 0);

        public int gaps() {
            return cells + steps;
        }

        /** For messages: {@code filled 2 gaps (linear): 1 empty cell, 1 missing time step}. */
        public String describe() {
            return String.format(Locale.ROOT, "filled %d %s (%s): %d empty %s, %d missing time %s", gaps(),
                    gaps() == 1 ? "gap" : "gaps", fill.id(), cells, cells == 1 ? "cell" : "cells", steps,
                    steps == 1 ? "step" : "steps");
        }

        /** For metrics.json. */
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("policy", fill.id());
            m.put("gaps", gaps());
            m.put("empty_cells", cells);
            m.put("missing_steps", steps);
            return m;
        }
    }

    /** Appended to the message a gap stops a reader with. */
    public static final String HINT = "(or --fill previous|linear|zero to fill gaps)";

    private Gaps() {
    }

    /**
     * The series with its gaps filled. Missing time steps become rows with labels in the others' style. {@code previous}
     * carries the last value forward, and a gap at the start takes the first value after it, as there is none before;
     * {@code linear} interpolates between the neighbouring values by row (by time, where the steps are regular), and a
     * gap at either end takes the nearest value; {@code zero} puts 0.
     *
     * @param series empty cells as NaN
     * @param lines  each row's line in its file, for messages; a line below 1 is unknown and the row is named by its label
     * @throws DataException under {@code none} for a missing time step, naming the rows either side of the first; for a
     *                       column with no value at all to fill from
     */
    public static Series fill(Series series, Fill fill, long[] lines) {
        List<String> times = series.times();
        Cadence cadence = Cadence.of(times);
        int rows = series.rows();
        int steps = 0;
        int first = -1;
        for (int r = 1; r < rows && cadence != null; r++) {
            long m = cadence.missingBefore(r);
            if (m > 0 && first < 0) {
                first = r;
            }
            steps = (int) Math.min(Integer.MAX_VALUE, steps + m);
        }
        if (fill == Fill.NONE) {
            if (steps > 0) {
                long m = cadence.missingBefore(first);
                throw new DataException(String.format(Locale.ROOT, "%s: %d time %s missing between %s and %s%s %s",
                        series.source(), m, m == 1 ? "step" : "steps", row(first - 1, times, lines),
                        row(first, times, lines), steps > m ? " (" + steps + " in all)" : "", HINT));
            }
            return series;
        }
        List<String> outTimes = new ArrayList<>(rows + steps);
        List<double[]> outValues = new ArrayList<>(rows + steps);
        int columns = series.columns().size();
        int cells = 0;
        for (int r = 0; r < rows; r++) {
            if (r > 0 && cadence != null && cadence.missingBefore(r) > 0) {
                for (String label : cadence.missingLabels(r)) {
                    outTimes.add(label);
                    double[] empty = new double[columns];
                    Arrays.fill(empty, Double.NaN);
                    outValues.add(empty);
                }
            }
            outTimes.add(times.get(r));
            double[] row = series.values()[r].clone();
            for (double v : row) {
                cells += Double.isNaN(v) ? 1 : 0;
            }
            outValues.add(row);
        }
        double[][] values = outValues.toArray(new double[0][]);
        for (int c = 0; c < columns; c++) {
            fillColumn(series.source(), series.columns().get(c), values, c, fill);
        }
        return new Series(series.source(), series.columns(), List.copyOf(outTimes), values,
                new Filled(fill, cells, steps));
    }

    private static void fillColumn(String source, String name, double[][] values, int c, Fill fill) {
        int known = -1;
        for (int r = 0; r < values.length; r++) {
            if (Double.isNaN(values[r][c])) {
                continue;
            }
            if (fill == Fill.ZERO) {
                known = r;
                continue;
            }
            for (int g = known + 1; g < r; g++) {
                if (known < 0) {
                    values[g][c] = values[r][c];
                } else if (fill == Fill.PREVIOUS) {
                    values[g][c] = values[known][c];
                } else {
                    values[g][c] = values[known][c] + (values[r][c] - values[known][c]) * (g - known) / (r - known);
                }
            }
            known = r;
        }
        if (known < 0) {
            throw new DataException(String.format(Locale.ROOT, "%s, column '%s': no value to fill the gaps from",
                    source, name));
        }
        for (int r = 0; r < values.length; r++) {
            if (Double.isNaN(values[r][c])) {
                values[r][c] = fill == Fill.ZERO ? 0 : values[known][c];
            }
        }
    }

    private static String row(int r, List<String> times, long[] lines) {
        return lines != null && lines[r] > 0 ? String.format(Locale.ROOT, "line %d ('%s')", lines[r], times.get(r))
                : "'" + times.get(r) + "'";
    }
}
