package org.lstmcast.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.lstmcast.data.DataException;
import org.lstmcast.many.LongFormat;

/** Reads a long table, CSV or Parquet, as rows spread over the cluster. */
final class LongTables {
    private LongTables() {
    }

    /** The table's series ids, sorted: the plan every job makes before its tasks start. */
    static List<String> ids(JavaRDD<LongFormat.Row> rows, String source) {
        List<String> ids;
        try {
            ids = new ArrayList<>(rows.map(LongFormat.Row::id).distinct().collect());
        } catch (RuntimeException e) {
            throw JobErrors.rethrow(e);
        }
        if (ids.isEmpty()) {
            throw new DataException(source + ": no data rows after the header");
        }
        ids.sort(Comparator.naturalOrder());
        return ids;
    }

    static JavaRDD<LongFormat.Row> read(SparkSession spark, String path, LongFormat format) {
        return LongFormat.parquet(path) ? readParquet(spark, path, format) : readCsv(spark, path, format);
    }

    /**
     * A CSV file read as numbered lines, so that every message names its line, as {@code train}'s do; the lines are
     * parsed on the workers.
     */
    private static JavaRDD<LongFormat.Row> readCsv(SparkSession spark, String path, LongFormat format) {
        String source = path;
        JavaRDD<String> lines;
        List<String> first;
        try {
            // The RDD reader: Spark SQL's would spend seconds of a cold start on its planner for a plain text file.
            lines = org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext()).textFile(path);
            first = lines.take(1);
        } catch (Exception e) {
            // Hadoop's "Input path does not exist" is a checked exception that Scala throws undeclared.
            throw new DataException(path + ": cannot read: " + JobErrors.message(e), e);
        }
        if (first.isEmpty()) {
            throw new DataException(source + ": empty file (a header row is required)");
        }
        int[] positions = format.positions(source, LongFormat.fields(source, 1, first.get(0)));
        return lines.zipWithIndex()
                .filter(t -> t._2() > 0 && !t._1().isBlank())
                .map(t -> {
                    long line = t._2() + 1;
                    return format.row(source, line, LongFormat.fields(source, line, t._1()), positions);
                });
    }

    private static JavaRDD<LongFormat.Row> readParquet(SparkSession spark, String path, LongFormat format) {
        Dataset<org.apache.spark.sql.Row> table;
        try {
            table = spark.read().parquet(path);
        } catch (Exception e) {
            throw new DataException(path + ": cannot read as Parquet: " + JobErrors.message(e), e);
        }
        format.positions(path, Arrays.asList(table.columns()));
        List<String> columns = format.columns();
        Column[] asText = columns.stream().map(c -> functions.col("`" + c + "`").cast("string")).toArray(Column[]::new);
        String idColumn = format.idColumn();
        return table.select(asText).javaRDD().map(r -> {
            if (r.isNullAt(0) || r.getString(0).isEmpty()) {
                throw new DataException(path + ": a row has no value in the id column '" + idColumn + "'");
            }
            String[] cells = new String[columns.size() - 2];
            for (int i = 0; i < cells.length; i++) {
                cells[i] = r.isNullAt(i + 2) ? null : r.getString(i + 2);
            }
            return new LongFormat.Row(r.getString(0), -1, r.isNullAt(1) ? "" : r.getString(1), cells);
        });
    }
}
