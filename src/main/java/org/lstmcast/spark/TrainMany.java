package org.lstmcast.spark;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.lstmcast.many.JobProgress;
import org.lstmcast.many.LongFormat;
import org.lstmcast.many.ModelNames;
import org.lstmcast.many.SeriesResult;
import org.lstmcast.many.SeriesTraining;
import org.lstmcast.many.SparkJobs.TrainJob;
import org.lstmcast.many.SparkJobs.TrainSummary;
import org.lstmcast.repository.ModelRepository;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.Trainer;
import org.lstmcast.train.TrainingRun;

import scala.Tuple2;

/**
 * {@code train-many}: one LSTM per series of a long table, each trained, evaluated and exported in a Spark task as
 * {@code train} does for one series. Run directories go to {@code RUNS/<name>/}, models to
 * {@code REPO/<name>/<version>/model.onnx}; both paths must be visible to every executor (local disk for
 * {@code local[*]}, a shared volume on a cluster).
 */
public final class TrainMany {
    /** The files train-many writes into RUNS beside the series' run directories. */
    static final List<String> OWN_FILES = List.of("metrics.csv", "metrics.parquet", "model_names.csv");

    private TrainMany() {
    }

    static TrainSummary run(TrainJob job, JobProgress progress) throws IOException {
        long started = System.nanoTime();
        Files.createDirectories(job.runs());
        SparkSession spark = Sessions.open(job.master());
        try {
            JavaRDD<LongFormat.Row> rows = LongTables.read(spark, job.data(), job.format()).cache();
            List<String> ids = LongTables.ids(rows, job.data());

            // Decided here, once: each series' model name and version, so a retried task rewrites the same folder.
            Map<String, String> plan = new HashMap<>();
            Map<String, String> owner = new HashMap<>();
            List<SeriesResult> refused = new ArrayList<>();
            for (String id : ids) {
                String name = ModelNames.of(id);
                if (OWN_FILES.contains(name)) {
                    refused.add(SeriesResult.failed(id, name, 0, 0, "the series id '" + id + "' names one of "
                            + "train-many's own files in RUNS (" + String.join(", ", OWN_FILES) + "); rename it"));
                    continue;
                }
                String other = owner.putIfAbsent(name, id);
                if (other != null) {
                    refused.add(SeriesResult.failed(id, name, 0, 0, "the series ids '" + other + "' and '" + id
                            + "' both map to the model name '" + name + "'; rename one"));
                    continue;
                }
                String file = "";
                if (job.export() != null) {
                    file = ModelRepository.nextVersionFile(job.export().resolve(name)).toString();
                }
                plan.put(id, file);
            }
            List<String> trained = ids.stream().filter(plan::containsKey).toList();
            int tasks = BySeries.partitions(trained.size());
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            LongAccumulator done = spark.sparkContext().longAccumulator("series trained");
            LongFormat format = job.format();
            TrainConfig config = job.config();
            String source = job.data();
            String runs = job.runs().toAbsolutePath().toString();
            var planned = sc.broadcast(plan);

            List<SeriesResult> results = new ArrayList<>(refused);
            List<SeriesResult> fromTasks = JobProgress.watch(progress, ids.size(), () -> done.value() + refused.size(), () -> {
                try {
                    return rows.filter(r -> planned.value().containsKey(r.id()))
                            .mapToPair(r -> new Tuple2<>(r.id(), r))
                            .groupByKey(new BySeries(trained, tasks))
                            .mapPartitions(series -> {
                                // Each task sets it, not the driver: on a cluster the driver trains nothing.
                                Trainer.useThreads(1);
                                TrainingRun.parallelMembers(1);
                                List<SeriesResult> out = new ArrayList<>();
                                while (series.hasNext()) {
                                    Tuple2<String, Iterable<LongFormat.Row>> s = series.next();
                                    List<LongFormat.Row> list = new ArrayList<>();
                                    s._2().forEach(list::add);
                                    String file = planned.value().get(s._1());
                                    out.add(SeriesTraining.train(format, source, s._1(), list, config,
                                            Path.of(runs, ModelNames.of(s._1())), file.isEmpty() ? null : Path.of(file)));
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
            results.sort(Comparator.comparing(SeriesResult::id));
            Path metrics = job.runs().resolve(OWN_FILES.get(0));
            writeCsv(metrics, results);
            writeParquet(job.runs().resolve(OWN_FILES.get(1)), results);
            writeNames(job.runs().resolve(OWN_FILES.get(2)), ids);
            return new TrainSummary(results, metrics, tasks, (System.nanoTime() - started) / 1e9);
        } finally {
            spark.stop();
        }
    }

    private static void writeCsv(Path file, List<SeriesResult> results) throws IOException {
        CSVFormat csv = CSVFormat.DEFAULT.builder().setHeader(SeriesResult.HEADER.toArray(new String[0])).get();
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8); CSVPrinter out = new CSVPrinter(w, csv)) {
            for (SeriesResult r : results) {
                out.printRecord(r.values());
            }
        }
    }

    private static void writeParquet(Path file, List<SeriesResult> results) throws IOException {
        List<ParquetTables.Column> columns = new ArrayList<>();
        for (String name : SeriesResult.HEADER) {
            columns.add(new ParquetTables.Column(name, switch (name) {
                case "id", "model", "status", "transform", "kept", "error" -> ParquetTables.Kind.STRING;
                case "version" -> ParquetTables.Kind.LONG;
                case "rows", "networks" -> ParquetTables.Kind.INT;
                default -> ParquetTables.Kind.DOUBLE;
            }));
        }
        ParquetTables.write(file, "metrics", columns, results.stream().map(SeriesResult::values).toList());
    }

    /** Ids that are not model names, beside the names they were given; nothing when every id is a name. */
    private static void writeNames(Path file, List<String> ids) throws IOException {
        List<String> mapped = ids.stream().filter(ModelNames::mapped).toList();
        Files.deleteIfExists(file);
        if (mapped.isEmpty()) {
            return;
        }
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
             CSVPrinter out = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader("id", "model").get())) {
            for (String id : mapped) {
                out.printRecord(id, ModelNames.of(id));
            }
        }
    }
}
