package org.lstmcast.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.lstmcast.data.Seasons;
import org.lstmcast.data.Series;
import org.lstmcast.data.Split;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.metrics.MetricSet;

/**
 * What a run reports: {@code metrics.json}'s entries, which {@code train} prints from (see {@link Report}), and the
 * kept model in words, the first line it prints.
 */
final class RunMetrics {
    private RunMetrics() {
    }

    /** The entries the run's jobs fill as they go: where the transform came from, the ensemble, refit and export. */
    record Sections(Map<String, Object> transform, Map<String, Object> ensemble, Map<String, Object> refit,
                    Map<String, Object> exported) {
        Sections() {
            this(new LinkedHashMap<>(), new LinkedHashMap<>(), new LinkedHashMap<>(), new LinkedHashMap<>());
        }
    }

    /** "5 LSTM networks on diff", "naive: the last value (no network)". */
    static String kept(TrainConfig config, Trainer.Result trained, AnchorDrift anchorDrift) {
        return anchorDrift != null ? anchorDrift.kept(config.transform()) + " (no network)"
                : trained.forecaster().networks().size() + " LSTM network" + (trained.forecaster().networks().size() == 1
                ? "" : "s") + " on " + config.transform().id();
    }

    /** metrics.json: {@code seconds} is the whole run's wall time so far. */
    static Map<String, Object> of(Evaluation evaluation, Trainer.Result trained, TrainConfig config, Series series,
                                  Split split, String sha256, String kept, double seconds, Seasons.Period season,
                                  Intervals intervals, Sections sections) {
        Map<String, Object> metrics = common(evaluation, trained, config, series, split, sha256);
        metrics.put("kept", kept);
        metrics.put("seconds", seconds);
        metrics.put("exported", sections.exported());
        Map<String, Object> seasonJson = new LinkedHashMap<>();
        seasonJson.put("period", season.period());
        seasonJson.put("from", season.reason());
        metrics.put("season", seasonJson);
        metrics.put("intervals", intervalsJson(intervals, evaluation));
        metrics.put("transform", sections.transform());
        if (!sections.ensemble().isEmpty()) {
            metrics.put("ensemble", sections.ensemble());
        }
        if (!sections.refit().isEmpty()) {
            metrics.put("refit", sections.refit());
        }
        return metrics;
    }

    /** The entries of every run: the test scores, the training, the config and the data's provenance. */
    private static Map<String, Object> common(Evaluation ev, Trainer.Result trained, TrainConfig config,
                                              Series series, Split split, String sha256) {
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
        data.put("source", series.source());
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

    /** The test scores, also kept in model.zip. */
    static Map<String, Object> testSummary(Evaluation ev) {
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
    static List<Double> jsonNumbers(double[] values) {
        List<Double> out = new ArrayList<>(values.length);
        for (double v : values) {
            out.add(jsonNumber(v));
        }
        return out;
    }

    static Double jsonNumber(double v) {
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
}
