package org.lstmcast.many;

import java.io.IOException;
import java.io.Serializable;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.lstmcast.data.CsvReader;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Gaps;
import org.lstmcast.data.Series;
import org.lstmcast.data.TimeAxis;

/**
 * The long format many series arrive in: one row per series and time, as NeuralForecast's and statsforecast's
 * {@code unique_id, ds, y} or Amazon Forecast's {@code item_id, timestamp, target_value}.
 *
 * @param idColumn   the column naming the series
 * @param timeColumn the column with time labels
 * @param target     the column to forecast
 * @param features   further input columns, the same for every series
 * @param fill       how a series' gaps are handled (see {@link Gaps}); null for not at all: every cell must hold a
 *                   number, and time steps may be missing
 */
public record LongFormat(String idColumn, String timeColumn, String target, List<String> features, Gaps.Fill fill)
        implements Serializable {

    /**
     * One row of the table: its series, where it came from (a line of a CSV file, or -1 where a format has no
     * lines) and its cells as text, parsed only when its series is assembled, so a bad cell fails its series alone.
     *
     * @param error why the row is unusable (too few fields), null when it is whole; it fails its series alone
     */
    public record Row(String id, long line, String time, String[] cells, String error) implements Serializable {
        public Row(String id, long line, String time, String[] cells) {
            this(id, line, time, cells, null);
        }
    }

    private static final CSVFormat LINE = CSVFormat.DEFAULT.builder()
            .setIgnoreSurroundingSpaces(true)
            .setTrim(true)
            .get();

    public LongFormat(String idColumn, String timeColumn, String target, List<String> features) {
        this(idColumn, timeColumn, target, features, null);
    }

    public LongFormat {
        features = List.copyOf(features);
        for (String c : List.of(idColumn, timeColumn, target)) {
            if (c == null || c.isBlank()) {
                throw new IllegalArgumentException("the id, time and target columns must be named");
            }
        }
        if (idColumn.equals(timeColumn) || idColumn.equals(target) || timeColumn.equals(target)
                || features.contains(idColumn) || features.contains(timeColumn)) {
            throw new IllegalArgumentException("the id, time and value columns must be different columns");
        }
    }

    /** The same table with its series' gaps handled by {@code fill}. */
    public LongFormat withFill(Gaps.Fill fill) {
        return new LongFormat(idColumn, timeColumn, target, features, fill);
    }

    /** The value columns in network order: the target first, then the other features without repeats. */
    public List<String> valueColumns() {
        LinkedHashSet<String> cols = new LinkedHashSet<>();
        cols.add(target);
        cols.addAll(features);
        return List.copyOf(cols);
    }

    /** Every column a row needs: id, time, then the value columns. */
    public List<String> columns() {
        List<String> all = new ArrayList<>(List.of(idColumn, timeColumn));
        all.addAll(valueColumns());
        return all;
    }

    /** Where each of {@link #columns()} sits in a header. */
    public int[] positions(String source, List<String> header) {
        List<String> columns = columns();
        int[] at = new int[columns.size()];
        for (int i = 0; i < at.length; i++) {
            at[i] = header.indexOf(columns.get(i));
            if (at[i] < 0) {
                throw new DataException(source + ": no column '" + columns.get(i) + "' (columns: "
                        + String.join(", ", header) + ")");
            }
        }
        return at;
    }

    /** Whether a path names Parquet (a .parquet file or folder) rather than CSV. */
    public static boolean parquet(String path) {
        return path.replaceAll("/+$", "").toLowerCase(Locale.ROOT).endsWith(".parquet");
    }

    /**
     * One line of a CSV file as fields. Lines are read one by one so that a file splits across workers and every
     * message names its line; a quoted field that spans lines is therefore refused.
     *
     * @param line the line's number in the file, from 1
     */
    public static List<String> fields(String source, long line, String text) {
        String unmarked = line == 1 && text.startsWith("\uFEFF") ? text.substring(1) : text;
        try (CSVParser parser = CSVParser.parse(new StringReader(unmarked), LINE)) {
            List<CSVRecord> records = parser.getRecords();
            if (records.size() != 1) {
                throw new DataException(String.format(Locale.ROOT, "%s line %d: a quoted field spans lines, which the "
                        + "long format does not allow", source, line));
            }
            return records.get(0).toList();
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            throw new DataException(String.format(Locale.ROOT, "%s line %d: not a CSV row: %s", source, line,
                    e.getMessage()), e);
        }
    }

    /**
     * A row from its fields, picked by {@link #positions}. A row without its series id fails the whole table (it
     * belongs to no series); a row that has its id but lacks another field fails that series only.
     */
    public Row row(String source, long line, List<String> fields, int[] positions) {
        if (positions[0] >= fields.size()) {
            throw new DataException(String.format(Locale.ROOT, "%s line %d, column '%s': missing (the row has %d "
                    + "fields)", source, line, idColumn, fields.size()));
        }
        String id = fields.get(positions[0]);
        if (id.isEmpty()) {
            throw new DataException(String.format(Locale.ROOT, "%s line %d, column '%s': empty series id", source,
                    line, idColumn));
        }
        for (int i = 1; i < positions.length; i++) {
            if (positions[i] >= fields.size()) {
                return new Row(id, line, "", null, String.format(Locale.ROOT, "%s line %d, column '%s': missing "
                        + "(the row has %d fields)", source, line, columns().get(i), fields.size()));
            }
        }
        String[] cells = new String[positions.length - 2];
        for (int i = 0; i < cells.length; i++) {
            cells[i] = fields.get(positions[i + 2]);
        }
        return new Row(id, line, fields.get(positions[1]), cells);
    }

    /**
     * One series from its rows, in any order: numbers checked as a single series' CSV is, rows put in time order
     * (file order where the labels are not times or numbers), and a time given twice refused.
     */
    public Series series(String source, String id, List<Row> rows) {
        String name = source + " series '" + id + "'";
        if (rows.isEmpty()) {
            throw new DataException(name + ": no rows");
        }
        List<Row> ordered = new ArrayList<>(rows);
        ordered.sort(Comparator.comparingLong(Row::line));
        for (Row row : ordered) {
            if (row.error() != null) {
                throw new DataException(row.error());
            }
        }
        List<String> labels = ordered.stream().map(Row::time).toList();
        TimeAxis axis = TimeAxis.of(labels);
        if (axis.kind() != TimeAxis.Kind.INDEX) {
            Integer[] order = new Integer[ordered.size()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            double[] x = axis.x();
            Arrays.sort(order, Comparator.comparingDouble(i -> x[i]));
            List<Row> sorted = new ArrayList<>(order.length);
            for (int i = 1; i < order.length; i++) {
                if (x[order[i]] == x[order[i - 1]]) {
                    throw new DataException(String.format(Locale.ROOT, "%s: %s and %s both hold time '%s'", name,
                            where(source, ordered.get(order[i - 1])), where(source, ordered.get(order[i])),
                            ordered.get(order[i]).time()));
                }
            }
            for (Integer i : order) {
                sorted.add(ordered.get(i));
            }
            ordered = sorted;
        }
        List<String> columns = valueColumns();
        double[][] values = new double[ordered.size()][columns.size()];
        List<String> times = new ArrayList<>(ordered.size());
        for (int r = 0; r < values.length; r++) {
            Row row = ordered.get(r);
            for (int c = 0; c < columns.size(); c++) {
                values[r][c] = CsvReader.cell(where(source, row), columns.get(c), row.cells()[c], true, fill);
            }
            times.add(row.time());
        }
        Series series = new Series(name, columns, times, values);
        return fill == null ? series
                : Gaps.fill(series, fill, ordered.stream().mapToLong(Row::line).toArray());
    }

    private String where(String source, Row row) {
        return row.line() > 0 ? source + " line " + row.line()
                : String.format(Locale.ROOT, "%s, the row with %s '%s' and %s '%s'", source, idColumn, row.id(),
                timeColumn, row.time());
    }
}
