package org.lstmcast.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.commons.math3.stat.descriptive.SummaryStatistics;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Series;
import org.lstmcast.data.Split;
import org.lstmcast.data.Transform;

/**
 * Transform auto's choice among the candidates, all scored on the validation rows: a network per transform the
 * lookback allows, and the anchors alone, weighed against the best network by the one-standard-error rule.
 */
final class CandidateChoice {
    private CandidateChoice() {
    }

    /**
     * @param anchorDrift  null where a network was kept; for the anchor alone, its drift
     * @param trained      the network's training, or for the anchor alone the anchor's forecaster with the training
     *                     history of the best network (the one it beat; none where no network was trained)
     * @param seasonShows  whether the seasonal anchors could compete, and why; null without a season
     * @param network      the best network's transform, whose training history {@code trained} holds; null for none
     */
    record Choice(Transform transform, Trainer.Result trained, Map<String, Double> scores, double seconds,
                  AnchorDrift anchorDrift, Map<String, Object> againstNetwork, String seasonShows,
                  Transform network) {
        /** Where the transform came from and how each candidate scored, as {@code metrics.json}'s transform entry. */
        void describe(Map<String, Object> json, boolean networks) {
            json.put("used", transform.id());
            if (anchorDrift != null) {
                json.put("network", "none: " + anchorDrift.kept(transform));
            }
            json.put("from", networks ? "auto: the network with the lowest validation RMSE (mean over "
                    + "the steps), or the best anchor alone unless that network beats it by more than one standard "
                    + "error" : "auto: the anchor alone with the lowest validation RMSE (mean over the steps); the "
                    + "series is too short to train a network");
            json.put("validation_rmse", scores);
            json.put("seconds_all_candidates", Math.round(seconds * 1000) / 1000.0);
            if (!againstNetwork.isEmpty()) {
                json.put("anchor_against_network", againstNetwork);
            }
            if (seasonShows != null) {
                json.put("season_shows", seasonShows);
            }
        }
    }

    /** An anchor alone: the transform whose anchor it is (diff for naive and drift) and what it adds for growth. */
    private record Anchor(Transform transform, AnchorDrift drift) {
    }

    private static final Anchor NAIVE = new Anchor(Transform.DIFF, AnchorDrift.NONE);
    private static final Anchor SEASONAL_NAIVE = new Anchor(Transform.SEASONAL, AnchorDrift.NONE);

    /**
     * Transform auto: trains each candidate network and scores its rolling-origin forecasts of the validation rows, so
     * the test part stays unseen. Candidates: first differences always; each seasonal transform whose anchors the
     * lookback spans. The measured reason for each is in docs/BENCHMARKS.md: each is far better than the others on some
     * real seasonal series. The lowest-scoring network is kept unless an anchor alone matches it ({@link #keepAlone}).
     * Where the series is too short for a network ({@code networks} false), the best anchor alone is kept.
     */
    static Choice choose(Series series, Split split, TrainConfig config, boolean networks,
                         TrainingListener listener) {
        Map<String, Double> scores = new LinkedHashMap<>();
        BestNetwork network = bestNetwork(series, split, config, networks, scores, listener);
        Map<Anchor, Double> anchorScores = new LinkedHashMap<>();
        Map<Anchor, Forecaster> anchors = anchors(series, split, config, scores, anchorScores);
        String seasonShows = seasonShows(anchorScores);
        Anchor bestAnchor = bestAnchor(anchorScores, seasonal(anchorScores));
        Transform best = network.transform();
        Trainer.Result bestResult = network.result();
        if (best == null && network.firstFailure() != null) {
            // Every network failed on the data (validation rows no epoch could score): the rows it names matter more
            // than an anchor that would carry the bad value into the forecasts.
            throw network.firstFailure();
        }
        if (best == null && bestAnchor == null) {
            throw new DataException(series.source() + ": no candidate gave a finite validation error");
        }
        Trainer.Result alone = bestAnchor == null ? null : new Trainer.Result(anchors.get(bestAnchor),
                bestResult == null ? new double[0] : bestResult.trainLoss(),
                bestResult == null ? new double[0] : bestResult.valLoss(),
                bestResult == null ? new double[0] : bestResult.epochSeconds(),
                bestResult == null ? 0 : bestResult.bestEpoch(), bestResult == null ? 0 : bestResult.seconds());
        Map<String, Object> againstNetwork = new LinkedHashMap<>();
        if (best == null) {
            return new Choice(bestAnchor.transform(), alone, scores, network.seconds(), bestAnchor.drift(),
                    againstNetwork, seasonShows, null);
        }
        if (bestAnchor != null && keepAlone(series, split, network, alone, anchorScores.get(bestAnchor),
                bestAnchor.drift().candidate(bestAnchor.transform()), againstNetwork)) {
            return new Choice(bestAnchor.transform(), alone, scores, network.seconds(), bestAnchor.drift(),
                    againstNetwork, seasonShows, best);
        }
        return new Choice(best, bestResult, scores, network.seconds(), null, againstNetwork, seasonShows, best);
    }

    /**
     * The network with the lowest validation RMSE and its training; none where no candidate scored.
     *
     * @param seconds      the training time of every candidate
     * @param firstFailure the first candidate that failed on the data, null for none
     */
    private record BestNetwork(Transform transform, Trainer.Result result, double score, double seconds,
                               DataException firstFailure) {
    }

    /** Trains each candidate network, its validation RMSE added to {@code scores} (null for one that failed). */
    private static BestNetwork bestNetwork(Series series, Split split, TrainConfig config, boolean networks,
                                           Map<String, Double> scores, TrainingListener listener) {
        List<Transform> candidates = new ArrayList<>();
        if (networks) {
            candidates.add(Transform.DIFF);
            for (Transform t : List.of(Transform.SEASONAL, Transform.SEASONAL_MEAN)) {
                if (config.season() >= 2 && config.lookback() >= t.anchorSeasons() * config.season()) {
                    candidates.add(t);
                }
            }
        }
        Transform best = null;
        Trainer.Result bestResult = null;
        double bestScore = Double.POSITIVE_INFINITY;
        double seconds = 0;
        DataException firstFailure = null;
        for (Transform t : candidates) {
            Trainer.Result r;
            listener.candidate(t.id());
            try {
                r = MemberFits.train(series, split, config.withTransform(t), listener);
            } catch (DataException e) {
                firstFailure = firstFailure == null ? e : firstFailure;
                scores.put(t.id(), null);
                continue;
            }
            seconds += r.seconds();
            double score = Evaluation.validationRmse(r.forecaster(), series.values(), split);
            scores.put(t.id(), RunMetrics.jsonNumber(score));
            if (!Double.isNaN(score) && (best == null || score < bestScore)) {
                best = t;
                bestResult = r;
                bestScore = score;
            }
        }
        return new BestNetwork(best, bestResult, bestScore, seconds, firstFailure);
    }

    /**
     * The anchors alone as candidates beside the networks, at no training cost: naive and drift always (a series whose
     * season was removed, or that has none, forecasts best from its last value), and the seasonal anchors with the
     * training rows' mean seasonal drift, without drift and with the window's own, where the lookback spans them. On
     * short series (72 monthly rows) the networks fitted to 17-23 windows and the drift of a few years both fail to
     * carry into later years, and the validation rows can say so; a series that grows faster each year outgrows the
     * mean drift (docs/BENCHMARKS.md, "The anchor alone as a candidate", "A drift from the window"). Each one's
     * validation RMSE goes into {@code scores} by its candidate name and into {@code anchorScores}.
     */
    private static Map<Anchor, Forecaster> anchors(Series series, Split split, TrainConfig config,
                                                   Map<String, Double> scores, Map<Anchor, Double> anchorScores) {
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
        Map<Anchor, Forecaster> anchors = new LinkedHashMap<>();
        for (Anchor a : tried) {
            Forecaster alone = Trainer.anchorAlone(series.values(), split.trainEnd(), config.withTransform(a.transform()),
                    a.drift());
            double score = Evaluation.validationRmse(alone, series.values(), split);
            scores.put(a.drift().candidate(a.transform()), RunMetrics.jsonNumber(score));
            anchors.put(a, alone);
            anchorScores.put(a, score);
        }
        return anchors;
    }

    /**
     * A seasonal anchor competes only where the season shows on the validation rows: seasonal naive forecasts them
     * better than naive. A series whose season was taken out has months that carry no pattern, and there a seasonal
     * anchor with drift beat naive at random on a few validation rows and lost on the test rows.
     */
    private static boolean seasonal(Map<Anchor, Double> anchorScores) {
        return anchorScores.containsKey(SEASONAL_NAIVE) && anchorScores.get(SEASONAL_NAIVE) < anchorScores.get(NAIVE);
    }

    /** Whether the seasonal anchors compete, and why, for metrics.json; null where none was scored. */
    private static String seasonShows(Map<Anchor, Double> anchorScores) {
        if (!anchorScores.containsKey(SEASONAL_NAIVE)) {
            return null;
        }
        return String.format(Locale.ROOT, "%s: seasonal naive's validation RMSE %.6g against naive's %.6g",
                seasonal(anchorScores) ? "yes, the seasonal anchors compete" : "no, the seasonal anchors do not compete",
                anchorScores.get(SEASONAL_NAIVE), anchorScores.get(NAIVE));
    }

    /** The anchor with the lowest validation RMSE among those that compete; null for none. */
    private static Anchor bestAnchor(Map<Anchor, Double> anchorScores, boolean seasonal) {
        Anchor bestAnchor = null;
        double bestAnchorScore = Double.POSITIVE_INFINITY;
        for (var e : anchorScores.entrySet()) {
            boolean eligible = e.getKey().transform() == Transform.DIFF || seasonal;
            if (eligible && !Double.isNaN(e.getValue()) && e.getValue() < bestAnchorScore) {
                bestAnchor = e.getKey();
                bestAnchorScore = e.getValue();
            }
        }
        return bestAnchor;
    }

    /**
     * The one-standard-error rule (Breiman et al., CART; Hastie, Tibshirani and Friedman, 7.10): the simpler model is
     * kept unless the network beats it on the validation rows by more than the standard error of the difference. A
     * network's validation score is the best of its epochs on those same rows, and a handful of rows (6 on a 72-row
     * monthly series) cannot tell a small gain from that selection's luck. The standard error treats the forecasts as
     * independent, which overlapping windows are not: it errs toward the network (Newey-West's, which does not, was
     * measured and kept worse models: docs/BENCHMARKS.md, "A drift from the window"). The comparison goes into
     * {@code json}.
     */
    private static boolean keepAlone(Series series, Split split, BestNetwork network, Trainer.Result alone,
                                     double aloneScore, String anchor, Map<String, Object> json) {
        double[] a = Evaluation.validationSquaredErrors(alone.forecaster(), series.values(), split);
        double[] b = Evaluation.validationSquaredErrors(network.result().forecaster(), series.values(), split);
        SummaryStatistics difference = new SummaryStatistics();
        for (int i = 0; i < a.length; i++) {
            difference.addValue(a[i] - b[i]);
        }
        double mean = difference.getMean();
        double se = difference.getStandardDeviation() / Math.sqrt(a.length);
        boolean keepAlone = aloneScore < network.score() || mean <= se;
        json.put("network", network.transform().id());
        json.put("anchor", anchor);
        json.put("mse_difference", RunMetrics.jsonNumber(mean));
        json.put("standard_error", RunMetrics.jsonNumber(se));
        json.put("kept", keepAlone ? "anchor" : "network");
        return keepAlone;
    }
}
