package org.lstmcast.many;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/** predict-many's output: one row per series and step, as a CSV file or (with Spark's Parquet writer) a Parquet file. */
public final class ForecastTable {
    private ForecastTable() {
    }

    /** Writes forecasts as a CSV file, or a Parquet file when {@code out} ends in .parquet. */
    public static void write(Path out, List<SeriesForecast> results) throws IOException {
        if (LongFormat.parquet(out.toString())) {
            SparkJobs.load().writeParquet(out, results);
        } else {
            writeCsv(out, results);
        }
    }

    private static void writeCsv(Path out, List<SeriesForecast> results) throws IOException {
        // Interval columns when any model has intervals: empty for a model without them (or without that level).
        int[] levels = SeriesForecast.levels(results);
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        CSVFormat csv = CSVFormat.DEFAULT.builder().setHeader(SeriesForecast.header(levels).toArray(new String[0])).get();
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8); CSVPrinter printer = new CSVPrinter(w, csv)) {
            for (SeriesForecast f : results) {
                for (List<Object> r : f.rows(levels)) {
                    printer.printRecord(r);
                }
            }
        }
    }
}
