package org.lstmcast.train;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.apache.commons.codec.digest.DigestUtils;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.lstmcast.Version;
import org.lstmcast.chart.Charts;
import org.lstmcast.data.CsvReader;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Seasons;
import org.lstmcast.data.Series;
import org.lstmcast.data.Split;
import org.lstmcast.data.TimeAxis;
import org.lstmcast.data.Transform;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.metrics.MetricSet;

/**
 * One {@code lstmcast train}: read the CSV, split it, train, evaluate on the test part and write the run
 * directory. The directory appears complete or not at all: everything is written to a sibling temporary
 * directory that is renamed into place at the end.
 */
public final class TrainingRun {
    /** The files a run directory holds. */
    public static final List<String> OUTPUTS = List.of("model.zip", "metrics.json", "predictions.csv", "forecast.png", "loss.png");

    /**
     * What a finished run reports.
     *
     * @param season  the seasonal period used (0 for none) and where it came from
     * @param kept     what the model is, for the report's first line: "5 LSTM networks on diff", "naive (no network)"
     * @param networks the LSTM networks in the model written: 0 where an anchor alone was kept
     * @param seconds  the whole run's wall time, every candidate and fit included
     */
    public record Outcome(Path directory, Evaluation evaluation, Trainer.Result training, Map<String, Object> metrics,
                          Seasons.Period season, Intervals intervals, String kept, int networks, double seconds) {
    }

    private TrainingRun() {
    }

    /**
     * @param csv        the CSV file's bytes (hashed into the model's provenance, then parsed)
     * @param source     the CSV's name, for messages
     * @param timeColumn time column name, null to guess one by name, "" for none
     */
    public static Outcome run(byte[] csv, String source, String timeColumn, TrainConfig config, Path outDir,
                              TrainingListener listener) throws IOException {
        checkOutputDirectory(outDir);
        return run(read(csv, source, config, timeColumn, org.lstmcast.data.Gaps.Fill.NONE), DigestUtils.sha256Hex(csv),
                timeColumn, config, outDir, listener);
    }

    /** The config's columns of a CSV file's bytes, in float32 as the network reads them, gaps filled by {@code fill}. */
    public static Series read(byte[] csv, String source, TrainConfig config, String timeColumn,
                              org.lstmcast.data.Gaps.Fill fill) {
        try {
            return CsvReader.readFloat32(new ByteArrayInputStream(csv), source, config.inputColumns(), timeColumn, fill);
        } catch (IOException e) {
            throw new DataException(source + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Trains on a series already read (one of many in a long table, say).
     *
     * @param sha256     the data's digest, recorded as the model's provenance
     * @param timeColumn the time column's name, null or "" for none
     */
    public static Outcome run(Series series, String sha256, String timeColumn, TrainConfig given, Path outDir,
                              TrainingListener listener) throws IOException {
        long started = System.nanoTime();
        checkOutputDirectory(outDir);
        String source = series.source();
        TimeAxis time = TimeAxis.of(series.times());
        int disorder = time.firstOutOfOrder();
        if (time.kind() != TimeAxis.Kind.INDEX && disorder >= 0) {
            throw new DataException(String.format(Locale.ROOT,
                    "%s: rows must be in ascending time order, but row %d ('%s') does not come after '%s'",
                    source, disorder + 1, series.times().get(disorder), series.times().get(disorder - 1)));
        }
        if (given.transform() == Transform.RELATIVE) {
            requirePositive(series);
        }
        Seasons.Period labelled = season(series, time, timeColumn, given);
        Plan plan = Plan.of(source, series.rows(), given, labelled.period());
        Split split = plan.split();
        Seasons.Period season = atLeastOneSeason(labelled, split);
        TrainConfig config = given.withSeason(season.period()).withLookback(plan.lookback());
        int seasons = config.transform().anchorSeasons();
        if (seasons > 0 && (config.season() < 2 || config.lookback() < seasons * config.season())) {
            throw new DataException(String.format(Locale.ROOT, "%s: the %s transform needs a season of at least 2 "
                    + "and a lookback of at least %s; the season is %d (%s) and the lookback %d%s", source,
                    config.transform().id(), seasons == 1 ? "one season" : seasons + " seasons", config.season(),
                    season.reason(), config.lookback(), given.lookbackFromData() ? " (fitted to the "
                            + series.rows() + " rows)" : ""));
        }

        Map<String, Object> transformJson = new LinkedHashMap<>();
        if (!plan.shortened().isEmpty()) {
            transformJson.put("fitted_to_the_data", plan.shortened());
        }
        Trainer.Result trained;
        AnchorDrift anchorDrift = null;
        Transform lossOf = config.transform();
        if (config.transform() == Transform.AUTO) {
            Choice choice = choose(series, split, config, plan.networks(), listener);
            lossOf = choice.network();
            trained = choice.trained();
            config = config.withTransform(choice.transform());
            anchorDrift = choice.anchorDrift();
            transformJson.put("used", choice.transform().id());
            if (anchorDrift != null) {
                transformJson.put("network", "none: " + anchorDrift.kept(choice.transform()));
            }
            transformJson.put("from", plan.networks() ? "auto: the network with the lowest validation RMSE (mean over "
                    + "the steps), or the best anchor alone unless that network beats it by more than one standard "
                    + "error" : "auto: the anchor alone with the lowest validation RMSE (mean over the steps); the "
                    + "series is too short to train a network");
            transformJson.put("validation_rmse", choice.scores());
            transformJson.put("seconds_all_candidates", Math.round(choice.seconds() * 1000) / 1000.0);
            if (!choice.againstNetwork().isEmpty()) {
                transformJson.put("anchor_against_network", choice.againstNetwork());
            }
            if (choice.seasonShows() != null) {
                transformJson.put("season_shows", choice.seasonShows());
            }
        } else {
            trained = train(series, split, config, listener);
            transformJson.put("used", config.transform().id());
            transformJson.put("from", "--transform");
        }
        Map<String, Object> ensembleJson = new LinkedHashMap<>();
        Map<String, Object> refitJson = new LinkedHashMap<>();
        // The intervals are calibrated on validation forecasts, so by networks that never trained on those rows.
        Forecaster calibrating = trained.forecaster();
        if (anchorDrift != null) {
            if (config.refit()) {
                trained = refitAnchor(series, split, config, trained, anchorDrift, refitJson);
            }
        } else if (config.refit()) {
            trained = refit(series, split, config, trained, refitJson, listener);
        } else if (config.ensemble() > 1) {
            trained = ensemble(series, split, config, trained, ensembleJson, listener);
            calibrating = trained.forecaster();
        }
        Preprocessor chosen = trained.forecaster().preprocessor();
        if (chosen.carriesAnchorError()) {
            transformJson.put("anchor_carry", jsonNumbers(chosen.anchorCarry()));
        }
        Evaluation evaluation = Evaluation.of(trained.forecaster(), series.values(), split, config.season());
        Intervals intervals = Evaluation.calibrate(calibrating, series.values(), split, Intervals.DEFAULT_LEVELS);

        String kept = anchorDrift != null ? anchorDrift.kept(config.transform()) + " (no network)"
                : trained.forecaster().networks().size() + " LSTM network" + (trained.forecaster().networks().size() == 1
                ? "" : "s") + " on " + config.transform().id();
        Map<String, Object> exportedJson = new LinkedHashMap<>();
        Forecaster exported = config.finalFit()
                ? finalFit(series, config, trained, anchorDrift, exportedJson, listener)
                : evaluated(split, config, trained, exportedJson);
        Preprocessor written = exported.preprocessor();

        Map<String, Object> metrics = metricsJson(evaluation, trained, config, series, split, source, sha256);
        metrics.put("kept", kept);
        metrics.put("seconds", Math.round((System.nanoTime() - started) / 1e6) / 1000.0);
        metrics.put("exported", exportedJson);
        Map<String, Object> seasonJson = new LinkedHashMap<>();
        seasonJson.put("period", season.period());
        seasonJson.put("from", season.reason());
        metrics.put("season", seasonJson);
        metrics.put("intervals", intervalsJson(intervals, evaluation));
        metrics.put("transform", transformJson);
        if (!ensembleJson.isEmpty()) {
            metrics.put("ensemble", ensembleJson);
        }
        if (!refitJson.isEmpty()) {
            metrics.put("refit", refitJson);
        }
        Path parent = outDir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path staging = Files.createTempDirectory(parent, "." + outDir.getFileName() + ".tmp-");
        try {
            // A temporary directory is private (rwx------); the finished run should read like any other directory.
            if (staging.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.setPosixFilePermissions(staging, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            ModelFile.Info info = new ModelFile.Info(ModelFile.Info.formatFor(written), Version.get(),
                    Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), config.target(),
                    config.inputColumns(), timeColumnName(timeColumn), config.transform().id(),
                    config.lookback(), config.horizon(), config.season(),
                    written.inShift(), written.inScale(), written.outShift(), written.outScale(),
                    source, sha256, config.asMap(), testSummary(evaluation), testHistory(config),
                    ModelFile.JSON.valueToTree(intervals.toJson()), written.anchorCarry(), written.windowDrift(),
                    anchorDrift != null ? "none: " + anchorDrift.kept(config.transform()) : kept,
                    "final".equals(exportedJson.get("model")) ? "every row" : "the rows before the test part");
            ModelFile.save(staging.resolve("model.zip"), exported.networks(), info,
                    testRows(series, split.valEnd() - testHistory(config)));
            ModelFile.JSON.writeValue(staging.resolve("metrics.json").toFile(), metrics);
            writePredictions(staging.resolve("predictions.csv"), series, evaluation, intervals);
            double[] step1 = new double[series.rows()];
            java.util.Arrays.fill(step1, Double.NaN);
            for (int i = 0; i < evaluation.testRows().length; i++) {
                step1[evaluation.testRows()[i]] = evaluation.forecasts()[i][0];
            }
            List<Charts.Band> bands = new ArrayList<>();
            for (int l = intervals.levels().length - 1; l >= 0; l--) {
                double[] lower = new double[series.rows()];
                double[] upper = new double[series.rows()];
                Arrays.fill(lower, Double.NaN);
                Arrays.fill(upper, Double.NaN);
                for (int i = 0; i < evaluation.testRows().length; i++) {
                    double half = intervals.halfWidth(step1[evaluation.testRows()[i]], 0, l);
                    lower[evaluation.testRows()[i]] = step1[evaluation.testRows()[i]] - half;
                    upper[evaluation.testRows()[i]] = step1[evaluation.testRows()[i]] + half;
                }
                bands.add(new Charts.Band(intervals.levels()[l] + "% interval, 1 step ahead", lower, upper));
            }
            Charts.forecast(staging.resolve("forecast.png"),
                    config.target() + ": one-step-ahead test forecasts (" + (anchorDrift != null ? "the anchor alone"
                            : "LSTM") + ", " + config.transform().id() + ")",
                    config.target(), time, series.column(0), step1, (anchorDrift != null ? "seasonal anchor"
                            : "LSTM") + " forecast, 1 step ahead",
                    split.trainEnd(), split.valEnd(), bands);
            Charts.loss(staging.resolve("loss.png"), lossOf == null ? "No network was trained: the series is too short; "
                    + "kept: " + kept : anchorDrift != null ? "Loss per epoch of the best network, " + lossOf.id()
                    + ", not kept: " + kept : "Loss per epoch of the kept " + lossOf.id() + " network (MSE on scaled values)",
                    trained.trainLoss(), trained.valLoss(), trained.bestEpoch());
            replace(staging, outDir);
        } catch (IOException | RuntimeException e) {
            deleteTree(staging);
            throw e;
        }
        return new Outcome(outDir, evaluation, trained, metrics, season, intervals, kept,
                anchorDrift != null ? 0 : exported.networks().size(), (System.nanoTime() - started) / 1e9);
    }

    private static Trainer.Result train(Series series, Split split, TrainConfig config, TrainingListener listener) {
        try {
            return Trainer.train(series.values(), split, config, listener);
        } catch (Trainer.UnscorableValidation e) {
            throw new DataException(unscorable(series, split, e), e);
        }
    }

    /** Ensemble members trained at once; {@link #parallelMembers}. */
    private static volatile int parallelMembers = Runtime.getRuntime().availableProcessors();

    /**
     * How many ensemble members train at the same time: the cores divided by the threads each training uses (see
     * {@link Trainer#useThreads}); 1 where something else already keeps every core busy (train-many's tasks).
     */
    public static void parallelMembers(int members) {
        if (members < 1) {
            throw new IllegalArgumentException("members must be at least 1, got " + members);
        }
        parallelMembers = members;
    }

    /**
     * Trains the ensemble's other members on the chosen transform, with seeds {@code seed + 1} on, and returns the
     * averaged model with the first member's training history. Each member's validation RMSE and the ensemble's are
     * recorded in {@code json}, so the gain from averaging is seen on the validation part, never the test part.
     */
    private static Trainer.Result ensemble(Series series, Split split, TrainConfig config, Trainer.Result first,
                                           Map<String, Object> json, TrainingListener listener) {
        long started = System.nanoTime();
        List<java.util.concurrent.Callable<Trainer.Result>> others = new ArrayList<>();
        for (int m = 1; m < config.ensemble(); m++) {
            TrainConfig member = config.withSeed(config.seed() + m);
            others.add(() -> train(series, split, member, TrainingListener.NONE));
        }
        List<Trainer.Result> members = new ArrayList<>(List.of(first));
        members.addAll(inParallel(others, TrainingListener.Stage.ENSEMBLE, listener));
        List<MultiLayerNetwork> networks = new ArrayList<>();
        double[] memberRmse = new double[members.size()];
        List<Long> seeds = new ArrayList<>();
        for (int m = 0; m < members.size(); m++) {
            networks.add(members.get(m).forecaster().network());
            memberRmse[m] = Evaluation.validationRmse(members.get(m).forecaster(), series.values(), split);
            seeds.add(config.seed() + m);
        }
        Forecaster forecaster = new Forecaster(networks, first.forecaster().preprocessor());
        double seconds = (System.nanoTime() - started) / 1e9;
        json.put("members", networks.size());
        json.put("combine", "mean");
        json.put("seeds", seeds);
        json.put("validation_rmse_members", jsonNumbers(memberRmse));
        json.put("validation_rmse", jsonNumber(Evaluation.validationRmse(forecaster, series.values(), split)));
        json.put("seconds_other_members", Math.round(seconds * 1000) / 1000.0);
        return new Trainer.Result(forecaster, first.trainLoss(), first.valLoss(), first.epochSeconds(), first.bestEpoch(),
                first.seconds() + seconds);
    }

    /**
     * Trains the kept model again, {@code config.ensemble()} networks with seeds {@code seed} on, on every window of
     * the training and validation rows, for the epochs early stopping chose for {@code chosen} on the validation rows.
     * What the refit cannot have, a validation score of its own, is not reported; the epochs, rows and seeds are.
     */
    private static Trainer.Result refit(Series series, Split split, TrainConfig config, Trainer.Result chosen,
                                        Map<String, Object> json, TrainingListener listener) {
        long started = System.nanoTime();
        int epochs = chosen.bestEpoch();
        List<Long> seeds = new ArrayList<>();
        Forecaster refitted = fitMembers(series, split.valEnd(), config, epochs, config.ensemble(),
                TrainingListener.Stage.REFIT, seeds, listener);
        double seconds = (System.nanoTime() - started) / 1e9;
        json.put("rows", split.valEnd());
        json.put("epochs", epochs);
        json.put("from", "the training and validation rows, for the epochs early stopping chose on the validation rows");
        json.put("networks", refitted.networks().size());
        json.put("combine", "mean");
        json.put("seeds", seeds);
        json.put("seconds", Math.round(seconds * 1000) / 1000.0);
        return new Trainer.Result(refitted, chosen.trainLoss(), chosen.valLoss(), chosen.epochSeconds(),
                chosen.bestEpoch(), chosen.seconds() + seconds);
    }

    /**
     * {@code count} networks with seeds {@code seed} on, each trained on rows {@code [0, rows)} for {@code epochs}
     * epochs with nothing held out, side by side, as one averaged model; their seeds are added to {@code seeds}.
     */
    private static Forecaster fitMembers(Series series, int rows, TrainConfig config, int epochs, int count,
                                         TrainingListener.Stage stage, List<Long> seeds, TrainingListener listener) {
        List<java.util.concurrent.Callable<Forecaster>> jobs = new ArrayList<>();
        for (int m = 0; m < count; m++) {
            TrainConfig member = config.withSeed(config.seed() + m);
            seeds.add(member.seed());
            jobs.add(() -> Trainer.refit(series.values(), rows, member, epochs));
        }
        List<Forecaster> fitted = inParallel(jobs, stage, listener);
        List<MultiLayerNetwork> networks = new ArrayList<>();
        fitted.forEach(f -> networks.add(f.network()));
        return new Forecaster(networks, fitted.get(0).preprocessor());
    }

    /**
     * The evaluated model fitted once more on every row, for the epochs early stopping chose: the test rows, the latest
     * of the series, are what a forecast from its end depends on most. Its test scores cannot exist; the evaluated
     * model's stand for the recipe.
     */
    private static Forecaster finalFit(Series series, TrainConfig config, Trainer.Result evaluated, AnchorDrift drift,
                                       Map<String, Object> json, TrainingListener listener) {
        long started = System.nanoTime();
        int rows = series.rows();
        Forecaster out;
        List<Long> seeds = new ArrayList<>();
        if (drift != null) {
            out = Trainer.anchorAlone(series.values(), rows, config, drift);
            seeds.add(config.seed());
        } else {
            out = fitMembers(series, rows, config, evaluated.bestEpoch(), evaluated.forecaster().networks().size(),
                    TrainingListener.Stage.FINAL, seeds, listener);
        }
        json.put("model", "final");
        json.put("rows", rows);
        json.put("epochs", drift != null ? 0 : evaluated.bestEpoch());
        json.put("networks", drift != null ? 0 : out.networks().size());
        json.put("seeds", seeds);
        json.put("from", drift != null ? "every row: the anchor's carry and drift, no network"
                : "every row, test rows included, for the epochs early stopping chose; the test scores are the "
                + "evaluated model's, fitted without the test rows");
        json.put("seconds", Math.round((System.nanoTime() - started) / 1e6) / 1000.0);
        return out;
    }

    /** --no-final-fit: the model the test part scored is the one written. */
    private static Forecaster evaluated(Split split, TrainConfig config, Trainer.Result trained,
                                        Map<String, Object> json) {
        json.put("model", "evaluated");
        // With --no-refit the evaluated networks never trained on the validation rows.
        json.put("rows", config.refit() ? split.valEnd() : split.trainEnd());
        json.put("from", "the model the test part scored, fitted without the test rows (--no-final-fit)");
        return trained.forecaster();
    }

    /** The anchor alone, its carry and drift fitted again on the training and validation rows: nothing to train. */
    private static Trainer.Result refitAnchor(Series series, Split split, TrainConfig config, Trainer.Result chosen,
                                              AnchorDrift drift, Map<String, Object> json) {
        Forecaster f = Trainer.anchorAlone(series.values(), split.valEnd(), config, drift);
        json.put("rows", split.valEnd());
        json.put("epochs", 0);
        json.put("from", "the training and validation rows: the anchor's carry" + (drift == AnchorDrift.MEAN ? " and drift"
                : "") + ", no network");
        json.put("networks", 1);
        json.put("combine", "mean");
        json.put("seeds", List.of(config.seed()));
        json.put("seconds", 0.0);
        return new Trainer.Result(f, chosen.trainLoss(), chosen.valLoss(), chosen.epochSeconds(), chosen.bestEpoch(),
                chosen.seconds());
    }

    /** Runs independent trainings, {@link #parallelMembers} at a time, and returns their results in order. */
    private static <T> List<T> inParallel(List<java.util.concurrent.Callable<T>> jobs, TrainingListener.Stage stage,
                                          TrainingListener listener) {
        if (jobs.isEmpty()) {
            return List.of();
        }
        int atOnce = Math.min(jobs.size(), parallelMembers);
        listener.membersStarted(jobs.size(), atOnce, stage);
        ExecutorService pool = Executors.newFixedThreadPool(atOnce, r -> {
            Thread t = new Thread(r, "ensemble-member");
            t.setDaemon(true);
            return t;
        });
        List<T> done = new ArrayList<>();
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (var job : jobs) {
                futures.add(pool.submit(job));
            }
            for (var f : futures) {
                done.add(f.get());
                listener.memberFinished(done.size(), jobs.size());
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while training", e);
        } finally {
            pool.shutdownNow();
        }
        return done;
    }

    /**
     * @param anchorDrift  null where a network was kept; for the anchor alone, its drift
     * @param trained      the network's training, or for the anchor alone the anchor's forecaster with the training
     *                     history of the best network (the one it beat; none where no network was trained)
     * @param seasonShows  whether the seasonal anchors could compete, and why; null without a season
     * @param network      the best network's transform, whose training history {@code trained} holds; null for none
     */
    private record Choice(Transform transform, Trainer.Result trained, Map<String, Double> scores, double seconds,
                          AnchorDrift anchorDrift, Map<String, Object> againstNetwork, String seasonShows,
                          Transform network) {
    }

    /** An anchor alone: the transform whose anchor it is (diff for naive and drift) and what it adds for growth. */
    private record Anchor(Transform transform, AnchorDrift drift) {
    }

    /**
     * Transform auto: trains each candidate network and scores its rolling-origin forecasts of the validation rows,
     * so the test part stays unseen. Candidates: first differences always; each seasonal transform whose anchors the
     * lookback spans. The measured reason for each is in docs/BENCHMARKS.md: each is far better than the others on
     * some real seasonal series. The lowest-scoring network is kept unless an anchor alone matches it (below). Where
     * the series is too short for a network ({@code networks} false), the best anchor alone is kept.
     */
    private static Choice choose(Series series, Split split, TrainConfig config, boolean networks,
                                 TrainingListener listener) {
        List<Transform> candidates = new ArrayList<>();
        if (networks) {
            candidates.add(Transform.DIFF);
            for (Transform t : List.of(Transform.SEASONAL, Transform.SEASONAL_MEAN)) {
                if (config.season() >= 2 && config.lookback() >= t.anchorSeasons() * config.season()) {
                    candidates.add(t);
                }
            }
        }
        Map<String, Double> scores = new LinkedHashMap<>();
        Transform best = null;
        Trainer.Result bestResult = null;
        double bestScore = Double.POSITIVE_INFINITY;
        double seconds = 0;
        DataException firstFailure = null;
        for (Transform t : candidates) {
            Trainer.Result r;
            listener.candidate(t.id());
            try {
                r = train(series, split, config.withTransform(t), listener);
            } catch (DataException e) {
                firstFailure = firstFailure == null ? e : firstFailure;
                scores.put(t.id(), null);
                continue;
            }
            seconds += r.seconds();
            double score = Evaluation.validationRmse(r.forecaster(), series.values(), split);
            scores.put(t.id(), jsonNumber(score));
            if (!Double.isNaN(score) && (best == null || score < bestScore)) {
                best = t;
                bestResult = r;
                bestScore = score;
            }
        }
        // The anchors alone as candidates beside the networks, at no training cost: naive and drift always (a series
        // whose season was removed, or that has none, forecasts best from its last value), and the seasonal anchors
        // with the training rows' mean seasonal drift, without drift and with the window's own, where the season
        // shows. On short series (72 monthly rows) the networks fitted to 17-23 windows and the drift of a few years
        // both fail to carry into later years, and the validation rows can say so; a series that grows faster each
        // year outgrows the mean drift (docs/BENCHMARKS.md, "The anchor alone as a candidate", "A drift from the
        // window").
        Map<Anchor, Double> anchorScores = new LinkedHashMap<>();
        Map<Anchor, Forecaster> anchors = new LinkedHashMap<>();
        List<Anchor> tried = new ArrayList<>(List.of(new Anchor(Transform.DIFF, AnchorDrift.NONE),
                new Anchor(Transform.DIFF, AnchorDrift.MEAN)));
        for (Transform t : List.of(Transform.SEASONAL, Transform.SEASONAL_MEAN)) {
            if (config.season() < 2 || config.lookback() < t.anchorSeasons() * config.season()) {
                continue;
            }
            for (AnchorDrift drift : AnchorDrift.values()) {
                if (drift != AnchorDrift.WINDOW || Preprocessor.allowsWindowDrift(t, config.lookback(), config.season())) {
                    tried.add(new Anchor(t, drift));
                }
            }
        }
        for (Anchor a : tried) {
            Forecaster alone = Trainer.anchorAlone(series.values(), split.trainEnd(), config.withTransform(a.transform()),
                    a.drift());
            double score = Evaluation.validationRmse(alone, series.values(), split);
            scores.put(a.drift().candidate(a.transform()), jsonNumber(score));
            anchors.put(a, alone);
            anchorScores.put(a, score);
        }
        // A seasonal anchor competes only where the season shows on the validation rows: seasonal naive forecasts
        // them better than naive. A series whose season was taken out has months that carry no pattern, and there a
        // seasonal anchor with drift beat naive at random on a few validation rows and lost on the test rows.
        String seasonShows = null;
        Anchor seasonalNaive = new Anchor(Transform.SEASONAL, AnchorDrift.NONE);
        Anchor naive = new Anchor(Transform.DIFF, AnchorDrift.NONE);
        boolean seasonal = false;
        if (anchorScores.containsKey(seasonalNaive)) {
            double s = anchorScores.get(seasonalNaive);
            double n = anchorScores.get(naive);
            seasonal = s < n;
            seasonShows = String.format(Locale.ROOT, "%s: seasonal naive's validation RMSE %.6g against naive's %.6g",
                    seasonal ? "yes, the seasonal anchors compete" : "no, the seasonal anchors do not compete", s, n);
        }
        Anchor bestAnchor = null;
        double bestAnchorScore = Double.POSITIVE_INFINITY;
        for (var e : anchorScores.entrySet()) {
            boolean eligible = e.getKey().transform() == Transform.DIFF || seasonal;
            if (eligible && !Double.isNaN(e.getValue()) && e.getValue() < bestAnchorScore) {
                bestAnchor = e.getKey();
                bestAnchorScore = e.getValue();
            }
        }
        if (best == null && firstFailure != null) {
            // Every network failed on the data (validation rows no epoch could score): the rows it names matter more
            // than an anchor that would carry the bad value into the forecasts.
            throw firstFailure;
        }
        if (best == null && bestAnchor == null) {
            throw firstFailure != null ? firstFailure : new DataException(series.source()
                    + ": no candidate gave a finite validation error");
        }
        Trainer.Result alone = bestAnchor == null ? null : new Trainer.Result(anchors.get(bestAnchor),
                bestResult == null ? new double[0] : bestResult.trainLoss(),
                bestResult == null ? new double[0] : bestResult.valLoss(),
                bestResult == null ? new double[0] : bestResult.epochSeconds(),
                bestResult == null ? 0 : bestResult.bestEpoch(), bestResult == null ? 0 : bestResult.seconds());
        Map<String, Object> againstNetwork = new LinkedHashMap<>();
        if (best == null) {
            return new Choice(bestAnchor.transform(), alone, scores, seconds, bestAnchor.drift(), againstNetwork,
                    seasonShows, null);
        }
        if (bestAnchor != null) {
            // The one-standard-error rule (Breiman et al., CART; Hastie, Tibshirani and Friedman, 7.10): the simpler
            // model is kept unless the network beats it on the validation rows by more than the standard error of the
            // difference. A network's validation score is the best of its epochs on those same rows, and a handful
            // of rows (6 on a 72-row monthly series) cannot tell a small gain from that selection's luck. The standard
            // error treats the forecasts as independent, which overlapping windows are not: it errs toward the network
            // (Newey-West's, which does not, was measured and kept worse models: docs/BENCHMARKS.md, "A drift from
            // the window").
            double[] a = Evaluation.validationSquaredErrors(alone.forecaster(), series.values(), split);
            double[] b = Evaluation.validationSquaredErrors(bestResult.forecaster(), series.values(), split);
            SummaryStatistics difference = new SummaryStatistics();
            for (int i = 0; i < a.length; i++) {
                difference.addValue(a[i] - b[i]);
            }
            double mean = difference.getMean();
            double se = difference.getStandardDeviation() / Math.sqrt(a.length);
            boolean keepAlone = bestAnchorScore < bestScore || mean <= se;
            againstNetwork.put("network", best.id());
            againstNetwork.put("anchor", bestAnchor.drift().candidate(bestAnchor.transform()));
            againstNetwork.put("mse_difference", jsonNumber(mean));
            againstNetwork.put("standard_error", jsonNumber(se));
            againstNetwork.put("kept", keepAlone ? "anchor" : "network");
            if (keepAlone) {
                return new Choice(bestAnchor.transform(), alone, scores, seconds, bestAnchor.drift(), againstNetwork,
                        seasonShows, best);
            }
        }
        return new Choice(best, bestResult, scores, seconds, null, againstNetwork, seasonShows, best);
    }

    /** The season given, or the one the time column implies: none without a time column. */
    private static Seasons.Period season(Series series, TimeAxis time, String timeColumn, TrainConfig config) {
        if (config.season() != TrainConfig.SEASON_FROM_DATA) {
            return new Seasons.Period(config.season(), "--season");
        }
        if (time.kind() == TimeAxis.Kind.INDEX || "".equals(timeColumn)) {
            return new Seasons.Period(0, "no time column to read a season from");
        }
        Seasons.Period found = Seasons.of(series.times());
        return new Seasons.Period(found.period(), found.period() > 0 ? "the time column: " + found.reason()
                : found.reason());
    }

    /**
     * No season where the training part is not longer than one: neither the seasonal-naive forecast nor a seasonal
     * MASE could be scored.
     */
    private static Seasons.Period atLeastOneSeason(Seasons.Period season, Split split) {
        if (season.period() > 0 && split.trainEnd() <= season.period()) {
            return new Seasons.Period(0, String.format(Locale.ROOT, "%s, but the %d training rows are not more than one "
                    + "season of %d", season.reason(), split.trainEnd(), season.period()));
        }
        return season;
    }

    /** Rows before the test part that its first forecasts read: the longest step back plus the window. */
    private static int testHistory(TrainConfig config) {
        return config.horizon() + config.lookback() - 1;
    }

    private static Series testRows(Series series, int from) {
        return new Series(series.source(), series.columns(), series.times().subList(from, series.rows()),
                java.util.Arrays.copyOfRange(series.values(), from, series.rows()));
    }

    /** Fails before any training when the run directory could not be written. */
    static void checkOutputDirectory(Path outDir) throws IOException {
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new DataException(outDir + ": exists and is not a directory");
        }
        if (Files.isDirectory(outDir) && !isEmptyOrRun(outDir)) {
            throw new DataException(outDir + ": exists and is not an lstmcast run directory; choose another --out");
        }
    }

    private static boolean isEmptyOrRun(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            List<Path> list = entries.toList();
            return list.isEmpty() || list.stream().anyMatch(p -> p.getFileName().toString().equals("metrics.json"))
                    && list.stream().allMatch(p -> OUTPUTS.contains(p.getFileName().toString()));
        }
    }

    private static void requirePositive(Series series) {
        for (int r = 0; r < series.rows(); r++) {
            for (int c = 0; c < series.columns().size(); c++) {
                if (!(series.values()[r][c] > 0)) {
                    throw new DataException(String.format(Locale.ROOT,
                            "%s row %d, column '%s': %s; the relative transform needs values > 0 (use --transform diff)",
                            series.source(), r + 1, series.columns().get(c), series.values()[r][c]));
                }
            }
        }
    }

    /**
     * Names the validation rows that could not be scored and, among them, the value furthest outside its column's
     * training range (measured in training ranges), the likeliest culprit.
     */
    private static String unscorable(Series series, Split split, Trainer.UnscorableValidation e) {
        double[][] v = series.values();
        int worstRow = -1;
        int worstColumn = -1;
        double worstDistance = 0;
        double[] lo = new double[series.columns().size()];
        double[] hi = new double[lo.length];
        for (int c = 0; c < lo.length; c++) {
            lo[c] = Double.POSITIVE_INFINITY;
            hi[c] = Double.NEGATIVE_INFINITY;
            for (int r = 0; r < split.trainEnd(); r++) {
                lo[c] = Math.min(lo[c], v[r][c]);
                hi[c] = Math.max(hi[c], v[r][c]);
            }
            double range = Math.max(hi[c] - lo[c], Double.MIN_NORMAL);
            for (int r = e.firstRow; r < e.endRow; r++) {
                double distance = Math.max(lo[c] - v[r][c], v[r][c] - hi[c]) / range;
                if (distance > worstDistance) {
                    worstDistance = distance;
                    worstRow = r;
                    worstColumn = c;
                }
            }
        }
        StringBuilder message = new StringBuilder(String.format(Locale.ROOT,
                "%s: the validation loss was not finite in any of the %d epochs, so there is no epoch to keep: "
                        + "validation rows %d to %d ('%s' to '%s') hold values too far from the training rows for the "
                        + "network's float32 arithmetic",
                series.source(), e.epochs, e.firstRow + 1, e.endRow, series.times().get(e.firstRow),
                series.times().get(e.endRow - 1)));
        if (worstRow >= 0) {
            message.append(String.format(Locale.ROOT, ", e.g. row %d ('%s'), column '%s': %s, where the training rows "
                            + "span %.4g to %.4g", worstRow + 1, series.times().get(worstRow),
                    series.columns().get(worstColumn), v[worstRow][worstColumn], lo[worstColumn], hi[worstColumn]));
        }
        return message.append("; correct or remove such values").toString();
    }

    private static String timeColumnName(String timeColumn) {
        return timeColumn == null || timeColumn.isEmpty() ? null : timeColumn;
    }

    private static Map<String, Object> metricsJson(Evaluation ev, Trainer.Result trained, TrainConfig config,
                                                   Series series, Split split, String source, String sha256) {
        Map<String, Object> m = testSummary(ev);
        m.put("test_rows", split.testRows());
        m.put("test_windows", ev.windows());
        m.put("epochs_run", trained.epochsRun());
        m.put("best_epoch", trained.bestEpoch());
        m.put("train_seconds", Math.round(trained.seconds() * 1000) / 1000.0);
        m.put("epoch_seconds", Arrays.stream(trained.epochSeconds()).map(s -> Math.round(s * 1000) / 1000.0)
                .toArray());
        m.put("config", config.asMap());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("source", source);
        data.put("sha256", sha256);
        data.put("rows", series.rows());
        data.put("train_rows", split.trainRows());
        data.put("val_rows", split.valRows());
        data.put("first_time", series.times().get(0));
        data.put("last_time", series.times().get(series.rows() - 1));
        data.put("filled", series.filled().toJson());
        m.put("data", data);
        m.put("mase_scale", ev.maseScale());
        m.put("train_loss", trained.trainLoss());
        m.put("val_loss", trained.valLoss());
        return m;
    }

    private static Map<String, Object> testSummary(Evaluation ev) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", metricMap(ev.model()));
        Map<String, Object> baselines = new LinkedHashMap<>();
        ev.baselines().forEach((name, set) -> baselines.put(name, metricMap(set)));
        m.put("baselines", baselines);
        return m;
    }

    private static Map<String, Object> metricMap(MetricSet s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mae", jsonNumbers(s.mae()));
        m.put("rmse", jsonNumbers(s.rmse()));
        m.put("mape", jsonNumbers(s.mape()));
        m.put("smape", jsonNumbers(s.smape()));
        m.put("mase", jsonNumbers(s.mase()));
        return m;
    }

    /** JSON has no NaN: an undefined metric (MAPE with a zero actual) is written as null. */
    private static List<Double> jsonNumbers(double[] values) {
        List<Double> out = new ArrayList<>(values.length);
        for (double v : values) {
            out.add(jsonNumber(v));
        }
        return out;
    }

    private static Double jsonNumber(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** The calibration and how the intervals did on the test part, per level and step. */
    private static Map<String, Object> intervalsJson(Intervals intervals, Evaluation ev) {
        Map<String, Object> m = new LinkedHashMap<>(intervals.toJson());
        m.put("calibrated_on", "validation rows, forecast from every origin as the test rows are (split conformal, per step)");
        Map<String, Object> guaranteed = new LinkedHashMap<>();
        int fewest = Arrays.stream(intervals.calibrationWindows()).min().orElse(0);
        for (int level : intervals.levels()) {
            guaranteed.put(Integer.toString(level), Intervals.guaranteed(fewest, level));
        }
        // False where the validation part holds too few forecasts for the level's guarantee: the half-width is then
        // the larger of the widest error seen and Student's t quantile (n degrees of freedom) times the errors' root mean square.
        m.put("enough_calibration_windows", guaranteed);
        Map<String, Object> test = intervals.score(ev.forecasts(), ev.actual());
        test.replaceAll((level, scores) -> {
            Map<String, Object> s = new LinkedHashMap<>();
            ((Map<?, ?>) scores).forEach((k, v) -> s.put((String) k, jsonNumbers((double[]) v)));
            return s;
        });
        m.put("test", test);
        return m;
    }

    private static void writePredictions(Path file, Series series, Evaluation ev, Intervals intervals) throws IOException {
        int horizon = ev.forecasts()[0].length;
        List<String> header = new ArrayList<>(List.of("time", "actual"));
        for (int h = 1; h <= horizon; h++) {
            header.add("forecast_" + h);
        }
        for (int level : intervals.levels()) {
            for (int h = 1; h <= horizon; h++) {
                header.add("lower_" + level + "_" + h);
                header.add("upper_" + level + "_" + h);
            }
        }
        CSVFormat format = CSVFormat.DEFAULT.builder().setHeader(header.toArray(new String[0])).get();
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8); CSVPrinter out = new CSVPrinter(w, format)) {
            for (int i = 0; i < ev.testRows().length; i++) {
                List<Object> row = new ArrayList<>();
                row.add(series.times().get(ev.testRows()[i]));
                row.add(ev.actual()[i]);
                for (int h = 0; h < horizon; h++) {
                    row.add(ev.forecasts()[i][h]);
                }
                for (int l = 0; l < intervals.levels().length; l++) {
                    for (int h = 0; h < horizon; h++) {
                        double half = intervals.halfWidth(ev.forecasts()[i][h], h, l);
                        row.add(ev.forecasts()[i][h] - half);
                        row.add(ev.forecasts()[i][h] + half);
                    }
                }
                out.printRecord(row);
            }
        }
    }

    private static void replace(Path staging, Path outDir) throws IOException {
        Path target = outDir.toAbsolutePath();
        Path old = null;
        if (Files.exists(target)) {
            old = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
            Files.delete(old);
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) {
            deleteTree(old);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // Best effort: a leftover temporary directory is harmless and named as such.
        }
    }
}
