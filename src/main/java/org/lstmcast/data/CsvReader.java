package org.lstmcast.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.io.input.BOMInputStream;

/**
 * Reads the columns a forecaster needs from a CSV file with a header row.
 *
 * <p>Only the requested columns are parsed; every cell of them must be a finite decimal number, and
 * anything else is reported with its line and column so the user can fix the file.
 */
public final class CsvReader {

    /** Column names tried, in order, when no time column is given. */
    private static final List<String> TIME_COLUMN_GUESSES = List.of("date", "time", "timestamp", "datetime", "ds", "t", "month", "week", "day", "year");

    private CsvReader() {
    }

    /**
     * @param valueColumns columns to read as numbers, in the order wanted
     * @param timeColumn   the column holding time labels; null to guess one by its name, "" for none
     */
    public static Series read(Path file, List<String> valueColumns, String timeColumn) {
        return read(file, valueColumns, timeColumn, false, null);
    }

    /** As {@link #read(Path, List, String)}, refusing values a float32 cannot hold (see the stream variant). */
    public static Series readFloat32(Path file, List<String> valueColumns, String timeColumn) {
        return read(file, valueColumns, timeColumn, true, null);
    }

    /** As {@link #readFloat32(Path, List, String)}, with gaps filled by {@code fill} (see the stream variant). */
    public static Series readFloat32(Path file, List<String> valueColumns, String timeColumn, Gaps.Fill fill) {
        return read(file, valueColumns, timeColumn, true, Objects.requireNonNull(fill));
    }

    private static Series read(Path file, List<String> valueColumns, String timeColumn, boolean float32,
                               Gaps.Fill fill) {
        if (!Files.exists(file)) {
            throw new DataException(file + ": no such file");
        }
        if (Files.isDirectory(file)) {
            throw new DataException(file + ": is a directory, not a CSV file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString(), valueColumns, timeColumn, float32, fill);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static Series read(InputStream in, String source, List<String> valueColumns, String timeColumn)
            throws IOException {
        return read(in, source, valueColumns, timeColumn, false, null);
    }

    /**
     * Reads as {@link #read(InputStream, String, List, String)} does, and also refuses any value a float32 cannot
     * hold: a network computes in float32, where such a value becomes infinite and every loss it touches undefined.
     */
    public static Series readFloat32(InputStream in, String source, List<String> valueColumns, String timeColumn)
            throws IOException {
        return read(in, source, valueColumns, timeColumn, true, null);
    }

    /**
     * Reads as {@link #readFloat32(InputStream, String, List, String)} does, and handles gaps by {@code fill}: under
     * {@code none} an empty cell or a missing time step stops the reading with its place and a hint of
     * {@code --fill}; under the other policies they are filled, and the series' {@link Series#filled()} counts them.
     */
    public static Series readFloat32(InputStream in, String source, List<String> valueColumns, String timeColumn,
                                     Gaps.Fill fill) throws IOException {
        return read(in, source, valueColumns, timeColumn, true, Objects.requireNonNull(fill));
    }

    /** @param fill how gaps are handled; null for not at all: every cell must hold a number, and steps may be missing */
    private static Series read(InputStream in, String source, List<String> valueColumns, String timeColumn,
                               boolean float32, Gaps.Fill fill) throws IOException {
        Set<String> wanted = new LinkedHashSet<>(valueColumns);
        if (wanted.isEmpty()) {
            throw new IllegalArgumentException("no value columns requested");
        }
        CSVFormat format = CSVFormat.DEFAULT.builder()
                .setHeader()
                .setSkipHeaderRecord(true)
                .setIgnoreSurroundingSpaces(true)
                .setIgnoreEmptyLines(true)
                .setTrim(true)
                .get();
        // Spreadsheet exports often start with a byte-order mark that would otherwise become part of the first name.
        InputStream unmarked = BOMInputStream.builder().setInputStream(in).get();
        BufferedReader buffered = new BufferedReader(new InputStreamReader(unmarked, StandardCharsets.UTF_8));
        char delimiter = Delimiters.sniff(buffered);
        format = format.builder().setDelimiter(delimiter).get();
        try (Reader reader = buffered;
             CSVParser parser = CSVParser.parse(reader, format)) {
            List<String> header = parser.getHeaderNames();
            if (header.isEmpty()) {
                throw new DataException(source + ": empty file (a header row is required)");
            }
            Map<String, Integer> index = new TreeMap<>();
            for (int i = 0; i < header.size(); i++) {
                index.putIfAbsent(header.get(i), i);
            }
            int[] valueIdx = new int[wanted.size()];
            int k = 0;
            for (String col : wanted) {
                Integer i = index.get(col);
                if (i == null) {
                    throw new DataException(source + ": no column '" + col + "' (columns: " + String.join(", ", header) + ")"
                            + Delimiters.hint(header, delimiter));
                }
                valueIdx[k++] = i;
            }
            int timeIdx = resolveTimeColumn(source, header, index, timeColumn, wanted);

            List<double[]> rows = new ArrayList<>();
            List<String> times = new ArrayList<>();
            List<Long> lines = new ArrayList<>();
            long lastLine = 1; // the header
            for (CSVRecord record : parser) {
                long line = lastLine + 1;
                lastLine = parser.getCurrentLineNumber();
                double[] row = new double[valueIdx.length];
                int c = 0;
                for (String col : wanted) {
                    row[c] = parseCell(source, record, line, valueIdx[c], col, float32, fill);
                    c++;
                }
                rows.add(row);
                lines.add(line);
                if (timeIdx >= 0) {
                    if (timeIdx >= record.size()) {
                        throw new DataException(String.format(Locale.ROOT, "%s line %d, column '%s': missing (the row has %d fields, the header %d)",
                                source, line, header.get(timeIdx), record.size(), header.size()));
                    }
                    times.add(record.get(timeIdx));
                } else {
                    times.add(Integer.toString(rows.size() - 1));
                }
            }
            if (rows.isEmpty()) {
                throw new DataException(source + ": no data rows after the header");
            }
            Series series = new Series(source, List.copyOf(wanted), times, rows.toArray(new double[0][]));
            return fill == null ? series
                    : Gaps.fill(series, fill, lines.stream().mapToLong(Long::longValue).toArray());
        } catch (UncheckedIOException | IllegalStateException | IllegalArgumentException e) {
            // commons-csv reports malformed quoting and duplicate headers this way.
            throw new DataException(source + ": not a readable CSV file: " + rootMessage(e), e);
        }
    }

    private static int resolveTimeColumn(String source, List<String> header, Map<String, Integer> index,
                                         String timeColumn, Set<String> valueColumns) {
        if (timeColumn == null) {
            for (String guess : TIME_COLUMN_GUESSES) {
                for (int i = 0; i < header.size(); i++) {
                    if (header.get(i).equalsIgnoreCase(guess) && !valueColumns.contains(header.get(i))) {
                        return i;
                    }
                }
            }
            return -1;
        }
        if (timeColumn.isEmpty()) {
            return -1;
        }
        Integer i = index.get(timeColumn);
        if (i == null) {
            throw new DataException(source + ": no time column '" + timeColumn + "' (columns: " + String.join(", ", header) + ")");
        }
        return i;
    }

    private static double parseCell(String source, CSVRecord record, long line, int column, String name,
                                    boolean float32, Gaps.Fill fill) {
        if (column >= record.size()) {
            throw new DataException(String.format(Locale.ROOT, "%s line %d, column '%s': missing (the row has %d fields)",
                    source, line, name, record.size()));
        }
        return cell(source + " line " + line, name, record.get(column), float32, fill);
    }

    /**
     * As {@link #number}, where an empty cell is a gap: NaN for {@link Gaps#fill} to fill, or under {@code none} an
     * error that says how to fill it; with no policy (null) the plain error.
     */
    public static double cell(String where, String name, String text, boolean float32, Gaps.Fill fill) {
        if (fill != null && (text == null || text.isEmpty())) {
            if (fill == Gaps.Fill.NONE) {
                throw new DataException(String.format(Locale.ROOT, "%s, column '%s': empty cell %s", where, name,
                        Gaps.HINT));
            }
            return Double.NaN;
        }
        return number(where, name, text, float32);
    }

    /**
     * One cell as a number, by the rules every reader of tables here follows: plain decimals only, finite, and (for
     * {@code float32}) within a float's range.
     *
     * @param where the cell's place for messages, e.g. {@code "data.csv line 12"}
     */
    public static double number(String where, String name, String text, boolean float32) {
        if (text == null || text.isEmpty()) {
            throw new DataException(String.format(Locale.ROOT, "%s, column '%s': empty cell", where, name));
        }
        double value;
        try {
            // BigDecimal accepts plain decimals only; Double.parseDouble would also take "NaN", "0x1p3" or "1.5f".
            value = new BigDecimal(text).doubleValue();
        } catch (NumberFormatException e) {
            throw new DataException(String.format(Locale.ROOT, "%s, column '%s': '%s' is not a number",
                    where, name, abbreviate(text)));
        }
        if (!Double.isFinite(value)) {
            throw new DataException(String.format(Locale.ROOT, "%s, column '%s': %s is out of range",
                    where, name, abbreviate(text)));
        }
        // Rounding, not |value| > Float.MAX_VALUE, decides: "3.4028235E38", as Float.toString writes the largest
        // float, is a hair above it as a double yet rounds to it.
        if (float32 && Float.isInfinite((float) value)) {
            throw new DataException(String.format(Locale.ROOT,
                    "%s, column '%s': %s is too large for the network, which computes in float32 (magnitudes up to %.4g)",
                    where, name, abbreviate(text), Float.MAX_VALUE));
        }
        return value;
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 37) + "...";
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
