package org.lstmcast.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.lstmcast.data.DataException;
import org.lstmcast.many.SeriesResult;
import org.lstmcast.many.JobProgress;
import org.lstmcast.many.SparkJobs;
import org.lstmcast.train.TrainConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train-many",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        sortOptions = false,
        description = {
            "Train one LSTM per series of a long table (id, time, value per row) on Apache Spark.",
            "",
            "Each series is trained, evaluated against its baselines and exported with its proof exactly as `train` "
                    + "does for one, in its own Spark task; a series that fails is reported and the others go on."},
        footer = {"", "Writes RUNS/<model>/ (a train run directory per series), RUNS/metrics.csv and RUNS/metrics.parquet "
                + "(one row per series) and, for ids that are not model names, RUNS/model_names.csv.",
            "Exit codes: 0 every series trained, 100+N N series failed (199: 99 or more), 1 the job failed, "
                    + "2 bad command line."})
final class TrainManyCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ManyOptions many;

    @CommandLine.Mixin
    TrainOptions training;

    @Option(names = "--out", paramLabel = "RUNS", required = true, description = "Folder for the run directories and the metrics table.")
    Path out;

    @Option(names = "--export", paramLabel = "REPO", description = "Also export every model to ONNX as the next version in a model repository: REPO/<model>/<version>/model.onnx.")
    Path export;

    @Option(names = "--quiet", description = "No progress and no summary; errors still go to stderr.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        TrainConfig config = training.config(spec.commandLine(), many.target, many.features);
        PrintWriter err = spec.commandLine().getErr();
        SparkJobs.TrainSummary summary;
        try {
            summary = SparkJobs.load().trainMany(new SparkJobs.TrainJob(many.data, many.format(spec.commandLine())
                    .withFill(training.fill(spec.commandLine())), config, out, export, many.master), quiet ? JobProgress.NONE : ManyProgress.create(err, "train-many"));
        } catch (NoClassDefFoundError e) {
            throw new DataException(ManyOptions.noSpark("train-many"));
        }
        List<SeriesResult> failed = summary.results().stream().filter(r -> !r.ok()).toList();
        for (SeriesResult r : failed) {
            err.printf(Locale.ROOT, "train-many: series '%s' failed: %s%n", r.id(), r.error());
        }
        err.flush();
        if (!quiet) {
            PrintWriter o = spec.commandLine().getOut();
            int ok = summary.results().size() - failed.size();
            o.printf(Locale.ROOT, "Trained %d of %d series in %.1f s (%d Spark tasks).%n", ok, summary.results().size(),
                    summary.seconds(), summary.tasks());
            long beatNaive = summary.results().stream().filter(r -> r.ok() && r.modelRmseMean() < r.naiveRmseMean())
                    .count();
            long networks = summary.results().stream().filter(r -> r.ok() && r.networks() > 0).count();
            if (ok > 0) {
                o.printf(Locale.ROOT, "Kept LSTM networks on %d of %d series and an anchor alone (no network) on %d.%n",
                        networks, ok, ok - networks);
                o.printf(Locale.ROOT, "The kept model is below the naive baseline's mean RMSE on %d of %d series.%n",
                        beatNaive, ok);
            }
            o.println("Wrote " + summary.metrics());
            o.flush();
        }
        return ManyOptions.failed(failed.size());
    }
}
