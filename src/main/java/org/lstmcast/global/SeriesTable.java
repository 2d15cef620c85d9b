package org.lstmcast.global;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.lstmcast.data.DataException;
import org.lstmcast.data.Series;
import org.lstmcast.many.LongFormat;
import org.lstmcast.many.SparkJobs;

/**
 * The series of a long table, each whole in memory: what a global model trains on and forecasts. A CSV file is read
 * here, line by line, with train-many's parsing (so every message names its line and column); Parquet, a CSV file
 * over {@link #LARGE_CSV} and {@code --master} go through train-many's Spark reader, with the same messages.
 */
public final class SeriesTable {
    /** One series: its id, time labels and target values, oldest first. */
    public record Entry(String id, List<String> times, double[] values) {
    }

    /**
     * Above this a CSV file is parsed by Spark's tasks on every core rather than line by line here; either way the
     * values end up in this process, 8 bytes each.
     */
    static final long LARGE_CSV = 256L << 20;

    private SeriesTable() {
    }

    public static List<Entry> read(String data, LongFormat format, String master) throws IOException {
        if (!format.features().isEmpty()) {
            throw new DataException("a global model forecasts one column from its own history; --features is not "
                    + "supported by train-global");
        }
        boolean parquet = LongFormat.parquet(data);
        boolean large = !parquet && Files.isRegularFile(Path.of(data)) && Files.size(Path.of(data)) > LARGE_CSV;
        Map<String, List<LongFormat.Row>> rows = parquet || master != null || large
                ? SparkJobs.load().readSeries(data, format, master)
                : readCsv(data, format);
        if (rows.isEmpty()) {
            throw new DataException(data + ": no data rows after the header");
        }
        List<Entry> out = new ArrayList<>(rows.size());
        List<String> ids = new ArrayList<>(rows.keySet());
        ids.sort(Comparator.naturalOrder());
        for (String id : ids) {
            Series s = format.series(data, id, rows.get(id));
            out.add(new Entry(id, s.times(), s.column(0)));
        }
        return out;
    }

    private static Map<String, List<LongFormat.Row>> readCsv(String data, LongFormat format) throws IOException {
        Map<String, List<LongFormat.Row>> rows = new LinkedHashMap<>();
        try (BufferedReader in = Files.newBufferedReader(Path.of(data), StandardCharsets.UTF_8)) {
            String header = in.readLine();
            if (header == null) {
                throw new DataException(data + ": empty file (a header row is required)");
            }
            int[] positions = format.positions(data, LongFormat.fields(data, 1, header));
            long line = 1;
            for (String text = in.readLine(); text != null; text = in.readLine()) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                LongFormat.Row row = format.row(data, line, LongFormat.fields(data, line, text), positions);
                rows.computeIfAbsent(row.id(), k -> new ArrayList<>()).add(row);
            }
        } catch (NoSuchFileException e) {
            throw new DataException(data + ": no such file");
        }
        return rows;
    }
}
