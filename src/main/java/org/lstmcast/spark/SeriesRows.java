package org.lstmcast.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.sql.SparkSession;
import org.lstmcast.many.LongFormat;

/** A long table's rows grouped by series and brought to the driver, read with Spark's CSV or Parquet reader. */
final class SeriesRows {
    private SeriesRows() {
    }

    static Map<String, List<LongFormat.Row>> read(String data, LongFormat format, String master) {
        SparkSession spark = Sessions.open(master);
        try {
            Map<String, List<LongFormat.Row>> out = new LinkedHashMap<>();
            List<LongFormat.Row> rows;
            try {
                rows = LongTables.read(spark, data, format).collect();
            } catch (RuntimeException e) {
                throw JobErrors.rethrow(e);
            }
            for (LongFormat.Row r : rows) {
                out.computeIfAbsent(r.id(), k -> new ArrayList<>()).add(r);
            }
            return out;
        } finally {
            spark.stop();
        }
    }
}
