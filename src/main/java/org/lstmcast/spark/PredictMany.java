package org.lstmcast.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.lstmcast.data.DataException;
import org.lstmcast.many.ForecastTable;
import org.lstmcast.many.JobProgress;
import org.lstmcast.many.LongFormat;
import org.lstmcast.many.ModelNames;
import org.lstmcast.many.SeriesForecast;
import org.lstmcast.many.SparkJobs.PredictJob;
import org.lstmcast.many.SparkJobs.PredictSummary;
import org.lstmcast.repository.ModelRepository;

import scala.Tuple2;

/**
 * {@code predict-many}: the next steps of every series of a long table, each from its own model in a repository. The
 * driver reads each series' newest model once and ships its bytes to the task that holds the series; a task opens one
 * ONNX Runtime session per model, forecasts, and closes it.
 */
public final class PredictMany {
    private PredictMany() {
    }

    static PredictSummary run(PredictJob job, JobProgress progress) throws IOException {
        long started = System.nanoTime();
        if (!Files.isDirectory(job.models())) {
            throw new DataException(job.models() + ": no such model repository");
        }
        SparkSession spark = Sessions.open(job.master());
        try {
            JavaRDD<LongFormat.Row> rows = LongTables.read(spark, job.data(), job.format()).cache();
            List<String> ids = LongTables.ids(rows, job.data());

            List<SeriesForecast> results = new ArrayList<>();
            List<Tuple2<String, Tuple2<Long, byte[]>>> models = new ArrayList<>();
            for (String id : ids) {
                String name = ModelNames.of(id);
                Path dir = job.models().resolve(name);
                long version = ModelRepository.highestVersion(dir);
                Path file = version == 0 ? null : dir.resolve(Long.toString(version)).resolve(ModelRepository.MODEL_FILE);
                if (file == null || !Files.isRegularFile(file)) {
                    results.add(new SeriesForecast(id, name, version, List.of(), new double[0], version == 0
                            ? "no model '" + name + "' in " + job.models()
                            : "model '" + name + "' version " + version + " has no " + ModelRepository.MODEL_FILE
                            + " (convert its source first)"));
                    continue;
                }
                models.add(new Tuple2<>(id, new Tuple2<>(version, Files.readAllBytes(file))));
            }
            List<String> scored = models.stream().map(Tuple2::_1).toList();
            int tasks = BySeries.partitions(scored.size());
            BySeries partitioner = new BySeries(scored, tasks);
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            LongAccumulator done = spark.sparkContext().longAccumulator("series forecast");
            LongFormat format = job.format();
            String source = job.data();
            int horizon = job.horizon();
            int missing = results.size();
            if (!scored.isEmpty()) {
                JavaPairRDD<String, Tuple2<Long, byte[]>> shipped = sc.parallelizePairs(models, tasks).partitionBy(partitioner);
                List<SeriesForecast> fromTasks = JobProgress.watch(progress, ids.size(), () -> done.value() + missing, () -> {
                    try {
                        return rows.mapToPair(r -> new Tuple2<>(r.id(), r))
                                .groupByKey(partitioner)
                                .join(shipped, partitioner)
                                .mapPartitions(series -> {
                                    List<SeriesForecast> out = new ArrayList<>();
                                    while (series.hasNext()) {
                                        var s = series.next();
                                        List<LongFormat.Row> list = new ArrayList<>();
                                        s._2()._1().forEach(list::add);
                                        Tuple2<Long, byte[]> model = s._2()._2();
                                        out.add(SeriesForecast.of(format, source, s._1(), list, ModelNames.of(s._1()),
                                                model._1(), model._2(), horizon));
                                        done.add(1);
                                    }
                                    return out.iterator();
                                })
                                .collect();
                    } catch (RuntimeException e) {
                        throw JobErrors.rethrow(e);
                    }
                });
                results.addAll(fromTasks);
            }
            results.sort(Comparator.comparing(SeriesForecast::id));
            ForecastTable.write(job.out(), results);
            return new PredictSummary(results, tasks, (System.nanoTime() - started) / 1e9);
        } finally {
            spark.stop();
        }
    }

    /** Writes forecasts as one Parquet file. */
    static void writeParquet(Path out, List<SeriesForecast> results) throws IOException {
        // Interval columns when any model has intervals: empty for a model without them (or without that level).
        int[] levels = SeriesForecast.levels(results);
        List<ParquetTables.Column> columns = new ArrayList<>(List.of(new ParquetTables.Column("id", ParquetTables.Kind.STRING),
                new ParquetTables.Column("model", ParquetTables.Kind.STRING),
                new ParquetTables.Column("version", ParquetTables.Kind.LONG),
                new ParquetTables.Column("step", ParquetTables.Kind.INT),
                new ParquetTables.Column("time", ParquetTables.Kind.STRING),
                new ParquetTables.Column("forecast", ParquetTables.Kind.DOUBLE)));
        for (String name : SeriesForecast.header(levels).subList(SeriesForecast.HEADER.size(),
                SeriesForecast.header(levels).size())) {
            columns.add(new ParquetTables.Column(name, ParquetTables.Kind.DOUBLE));
        }
        List<List<Object>> rows = new ArrayList<>();
        results.forEach(f -> rows.addAll(f.rows(levels)));
        ParquetTables.write(out, "forecast", columns, rows);
    }
}
