package org.lstmcast.train;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.commons.codec.digest.DigestUtils;
import org.lstmcast.data.CsvReader;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Gaps;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Seasons;
import org.lstmcast.data.Series;
import org.lstmcast.data.Split;
import org.lstmcast.data.TimeAxis;
import org.lstmcast.data.Transform;
import org.lstmcast.forecast.Intervals;

/**
 * One {@code lstmcast train}: read the CSV, split it, train, evaluate on the test part and write the run
 * directory. The directory appears complete or not at all: everything is written to a sibling temporary
 * directory that is renamed into place at the end. The jobs are {@link CandidateChoice}'s (transform auto),
 * {@link MemberFits}'s (the networks), {@link RunMetrics}'s (what the run reports) and {@link RunDirectory}'s.
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
        RunDirectory.check(outDir);
        return run(read(csv, source, config, timeColumn, Gaps.Fill.NONE), DigestUtils.sha256Hex(csv),
                timeColumn, config, outDir, listener);
    }

    /** The config's columns of a CSV file's bytes, in float32 as the network reads them, gaps filled by {@code fill}. */
    public static Series read(byte[] csv, String source, TrainConfig config, String timeColumn,
                              Gaps.Fill fill) {
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
        RunDirectory.check(outDir);
        TimeAxis time = TimeAxis.of(series.times());
        requireAscending(series, time);
        if (given.transform() == Transform.RELATIVE) {
            requirePositive(series);
        }
        Seasons.Period labelled = season(series, time, timeColumn, given);
        Plan plan = Plan.of(series.source(), series.rows(), given, labelled.period());
        Split split = plan.split();
        Seasons.Period season = atLeastOneSeason(labelled, split);
        TrainConfig config = given.withSeason(season.period()).withLookback(plan.lookback());
        requireAnchorSeasons(series, given, config, season);

        RunMetrics.Sections json = new RunMetrics.Sections();
        if (!plan.shortened().isEmpty()) {
            json.transform().put("fitted_to_the_data", plan.shortened());
        }
        Trainer.Result trained;
        AnchorDrift anchorDrift = null;
        Transform lossOf = config.transform();
        if (config.transform() == Transform.AUTO) {
            CandidateChoice.Choice choice = CandidateChoice.choose(series, split, config, plan.networks(), listener);
            lossOf = choice.network();
            trained = choice.trained();
            config = config.withTransform(choice.transform());
            anchorDrift = choice.anchorDrift();
            choice.describe(json.transform(), plan.networks());
        } else {
            trained = MemberFits.train(series, split, config, listener);
            json.transform().put("used", config.transform().id());
            json.transform().put("from", "--transform");
        }
        MemberFits.Evaluated fitted = MemberFits.forEvaluation(series, split, config, trained, anchorDrift,
                json.ensemble(), json.refit(), listener);
        trained = fitted.trained();
        Preprocessor chosen = trained.forecaster().preprocessor();
        if (chosen.carriesAnchorError()) {
            json.transform().put("anchor_carry", RunMetrics.jsonNumbers(chosen.anchorCarry()));
        }
        Evaluation evaluation = Evaluation.of(trained.forecaster(), series.values(), split, config.season());
        Intervals intervals = Evaluation.calibrate(fitted.calibrating(), series.values(), split, Intervals.DEFAULT_LEVELS);

        String kept = RunMetrics.kept(config, trained, anchorDrift);
        Forecaster exported = MemberFits.forExport(series, split, config, trained, anchorDrift, json.exported(),
                listener);
        Map<String, Object> metrics = RunMetrics.of(evaluation, trained, config, series, split, sha256, kept,
                Math.round((System.nanoTime() - started) / 1e6) / 1000.0, season, intervals, json);
        RunDirectory.write(outDir, new RunDirectory.Contents(series, time, split, config, timeColumn, sha256,
                evaluation, intervals, trained, lossOf, anchorDrift, kept, exported,
                "final".equals(json.exported().get("model")), metrics));
        return new Outcome(outDir, evaluation, trained, metrics, season, intervals, kept,
                anchorDrift != null ? 0 : exported.networks().size(), (System.nanoTime() - started) / 1e9);
    }

    /**
     * How many ensemble members train at the same time: the cores divided by the threads each training uses (see
     * {@link Trainer#useThreads}); 1 where something else already keeps every core busy (train-many's tasks).
     */
    public static void parallelMembers(int members) {
        MemberFits.parallelMembers(members);
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

    private static void requireAscending(Series series, TimeAxis time) {
        int disorder = time.firstOutOfOrder();
        if (time.kind() != TimeAxis.Kind.INDEX && disorder >= 0) {
            throw new DataException(String.format(Locale.ROOT,
                    "%s: rows must be in ascending time order, but row %d ('%s') does not come after '%s'",
                    series.source(), disorder + 1, series.times().get(disorder), series.times().get(disorder - 1)));
        }
    }

    /** A seasonal transform's anchors lie one or two seasons back: the window must reach them. */
    private static void requireAnchorSeasons(Series series, TrainConfig given, TrainConfig config,
                                             Seasons.Period season) {
        int seasons = config.transform().anchorSeasons();
        if (seasons > 0 && (config.season() < 2 || config.lookback() < seasons * config.season())) {
            throw new DataException(String.format(Locale.ROOT, "%s: the %s transform needs a season of at least 2 "
                    + "and a lookback of at least %s; the season is %d (%s) and the lookback %d%s", series.source(),
                    config.transform().id(), seasons == 1 ? "one season" : seasons + " seasons", config.season(),
                    season.reason(), config.lookback(), given.lookbackFromData() ? " (fitted to the "
                            + series.rows() + " rows)" : ""));
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
}
