package org.lstmcast.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.lstmcast.data.DataException;
import org.lstmcast.global.GlobalPredict;
import org.lstmcast.many.SeriesForecast;
import org.lstmcast.many.JobProgress;
import org.lstmcast.many.SparkJobs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "predict-many",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        sortOptions = false,
        description = {
            "Forecast what comes after every series of a long table: each with its own model, on Apache Spark "
                    + "(--models), or all with one model, such as train-global's (--model).",
            "",
            "With --models, series id X is forecast by the newest version of model X in the repository (ids that are "
                    + "not model names map as in train-many). With --model, every series is forecast by that model in "
                    + "batches of many windows per run. Each forecast equals the served one for that series alone."},
        footer = {"", "Writes one row per series and step: id, model, version, step, time, forecast, and lower_L, upper_L "
                + "per interval level when the models have intervals.",
            "Exit codes: 0 every series forecast, 100+N N series had no forecast (199: 99 or more), 1 the job failed, "
                    + "2 bad command line."})
final class PredictManyCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ManyOptions many;

    @Option(names = "--models", paramLabel = "REPO", description = "Model repository: REPO/<model>/<version>/model.onnx, one model per series.")
    Path models;

    @Option(names = "--model", paramLabel = "REPO/NAME", description = "One model for every series: a model folder (its newest version) or an .onnx file.")
    Path model;

    @Option(names = "--horizon", paramLabel = "H", description = "Steps to forecast (default: each model's horizon).")
    int horizon;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "Forecast table: FILE.csv, or FILE.parquet (one Parquet file).")
    Path out;

    @Option(names = "--quiet", description = "No progress and no summary; errors still go to stderr.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        if (horizon != 0) {
            Checks.between(spec, "--horizon", horizon, 1, 100_000);
        }
        if ((models == null) == (model == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give either --models REPO (a model per series) "
                    + "or --model REPO/NAME (one model for every series)");
        }
        PrintWriter err = spec.commandLine().getErr();
        if (model != null) {
            return oneModel(err);
        }
        SparkJobs.PredictSummary summary;
        try {
            summary = SparkJobs.load().predictMany(new SparkJobs.PredictJob(many.data, many.format(spec.commandLine()), models, horizon, out,
                    many.master), quiet ? JobProgress.NONE : ManyProgress.create(err, "predict-many"));
        } catch (NoClassDefFoundError e) {
            throw new DataException(ManyOptions.noSpark("predict-many"));
        }
        return report(err, summary.forecasts(), String.format(Locale.ROOT, "in %.1f s (%d Spark tasks)",
                summary.seconds(), summary.tasks()));
    }

    /** Each series without a forecast on stderr, the summary line on stdout; the exit code counts the failures. */
    private int report(PrintWriter err, List<SeriesForecast> forecasts, String how) {
        List<SeriesForecast> failed = forecasts.stream().filter(f -> !f.ok()).toList();
        for (SeriesForecast f : failed) {
            err.printf(Locale.ROOT, "predict-many: series '%s': %s%n", f.id(), f.error());
        }
        forecasts.stream().filter(f -> f.bands() != null && f.bands().extrapolatedFrom() > 0).findFirst()
                .ifPresent(f -> err.printf(Locale.ROOT, "predict-many: note: the intervals past each model's horizon are "
                        + "extrapolated (from step %d for series '%s'): the last calibrated half-width times "
                        + "sqrt(step / horizon)%n", f.bands().extrapolatedFrom(), f.id()));
        err.flush();
        if (!quiet) {
            PrintWriter o = spec.commandLine().getOut();
            o.printf(Locale.ROOT, "Forecast %d of %d series %s.%nWrote %s%n", forecasts.size() - failed.size(),
                    forecasts.size(), how, out);
            o.flush();
        }
        return ManyOptions.failed(failed.size());
    }

    private int oneModel(PrintWriter err) throws Exception {
        GlobalPredict.Summary summary;
        try {
            summary = GlobalPredict.run(new GlobalPredict.Job(many.data, many.format(spec.commandLine()), model, horizon,
                    out, many.master));
        } catch (NoClassDefFoundError e) {
            throw new DataException(ManyOptions.noSpark("predict-many with --master or Parquet"));
        }
        return report(err, summary.forecasts(), String.format(Locale.ROOT, "with %s in %.1f s (%d model runs)",
                summary.model(), summary.seconds(), summary.runs()));
    }
}
