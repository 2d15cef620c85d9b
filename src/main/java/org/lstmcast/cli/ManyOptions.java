package org.lstmcast.cli;

import java.util.ArrayList;
import java.util.List;

import org.lstmcast.many.LongFormat;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The long table and the Spark master, shared by train-many and predict-many. */
final class ManyOptions {
    @Option(names = "--data", paramLabel = "FILE", required = true, description = "Long table: a CSV file, or Parquet (a .parquet file or folder); one row per series and time.")
    String data;

    @Option(names = "--id-column", paramLabel = "COL", description = "Column naming the series (default: ${DEFAULT-VALUE}).")
    String idColumn = "unique_id";

    @Option(names = "--time-column", paramLabel = "COL", description = "Column with time labels (default: ${DEFAULT-VALUE}).")
    String timeColumn = "ds";

    @Option(names = "--target", paramLabel = "COL", description = "Column to forecast (default: ${DEFAULT-VALUE}).")
    String target = "y";

    @Option(names = "--features", paramLabel = "COL", split = ",", description = "Extra input columns, comma-separated, the same for every series.")
    List<String> features = new ArrayList<>();

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: the one spark-submit sets, else local[*]: every core of this machine).")
    String master;

    LongFormat format(CommandLine cl) {
        try {
            return new LongFormat(idColumn, timeColumn, target, features);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
    }

    /** Spark is provided: a build or image without target/spark-lib has none, and says so in one line. */
    static String noSpark(String command) {
        return command + " runs on Apache Spark, which this installation lacks: spark-lib/ (made by ./mvnw package) "
                + "must sit beside lstmcast.jar, or run it with spark-submit";
    }

    /** Exit code for a job in which some series failed: 100 plus their number, at most 199. */
    static int failed(long count) {
        return count == 0 ? 0 : (int) (100 + Math.min(count, 99));
    }
}
