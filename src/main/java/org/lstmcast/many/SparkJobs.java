package org.lstmcast.many;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.lstmcast.train.TrainConfig;

/**
 * The work that runs on Apache Spark: {@code train-many}, {@code predict-many}, and long tables read or written with
 * Spark's readers (Parquet, a cluster, a large CSV file). Implemented in {@code org.lstmcast.spark}, reached through
 * {@link #load()}: Spark is not on the program's class path, where its 141 jars would be opened by the first service
 * lookup of every command, {@code serve} included (docs/BENCHMARKS.md, "Start to ready").
 */
public interface SparkJobs {
    /**
     * A {@code train-many} job.
     *
     * @param data   a CSV file or a Parquet file or folder
     * @param export the model repository, null for no export
     * @param master Spark master URL, null for spark-submit's or {@code local[*]}
     */
    record TrainJob(String data, LongFormat format, TrainConfig config, Path runs, Path export, String master) {
    }

    /** Every series' result, sorted by id, and where the table of them was written. */
    record TrainSummary(List<SeriesResult> results, Path metrics, int tasks, double seconds) {
        public long failed() {
            return results.stream().filter(r -> !r.ok()).count();
        }
    }

    /**
     * A {@code predict-many} job with a model per series.
     *
     * @param out     a {@code .csv} file, or a {@code .parquet} file
     * @param horizon steps to forecast, 0 for each model's own horizon
     */
    record PredictJob(String data, LongFormat format, Path models, int horizon, Path out, String master) {
    }

    /** Every series' forecast or reason, sorted by id. */
    record PredictSummary(List<SeriesForecast> forecasts, int tasks, double seconds) {
        public long failed() {
            return forecasts.stream().filter(f -> !f.ok()).count();
        }
    }

    TrainSummary trainMany(TrainJob job, JobProgress progress) throws IOException;

    PredictSummary predictMany(PredictJob job, JobProgress progress) throws IOException;

    /** A long table's rows grouped by series, read with Spark's CSV or Parquet reader and brought to the driver. */
    Map<String, List<LongFormat.Row>> readSeries(String data, LongFormat format, String master) throws IOException;

    /** Forecasts as one Parquet file. */
    void writeParquet(Path out, List<SeriesForecast> forecasts) throws IOException;

    /**
     * The Spark jobs: from the class path the program was started with when Spark is on it (the tests,
     * {@code spark-submit}), else from {@code spark-lib/} beside the program's jar, where {@code ./mvnw package} puts
     * Spark.
     *
     * @throws NoClassDefFoundError when there is no Spark in either place (the serving images)
     */
    static SparkJobs load() {
        return SparkClasses.jobs();
    }
}
