package org.lstmcast.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Series;
import org.lstmcast.data.Split;

/**
 * The networks of a run: the candidates' training, then the kept candidate's ensemble members, its refit on the
 * training and validation rows and its final fit on every row, members side by side.
 */
final class MemberFits {
    private MemberFits() {
    }

    /**
     * The model the test part scores and the one whose validation forecasts calibrate the intervals: they differ after
     * a refit, whose networks trained on the validation rows.
     */
    record Evaluated(Trainer.Result trained, Forecaster calibrating) {
    }

    /**
     * The kept candidate made into the model the test part scores: refitted on the training and validation rows, or
     * without a refit, averaged with the ensemble's other members. What was done is recorded in {@code refitJson} or
     * {@code ensembleJson}.
     *
     * @param anchorDrift null where a network was kept; for the anchor alone, its drift
     */
    static Evaluated forEvaluation(Series series, Split split, TrainConfig config, Trainer.Result trained,
                                   AnchorDrift anchorDrift, Map<String, Object> ensembleJson,
                                   Map<String, Object> refitJson, TrainingListener listener) {
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
        return new Evaluated(trained, calibrating);
    }

    /** The model written and exported: the final fit on every row, or with --no-final-fit the evaluated one. */
    static Forecaster forExport(Series series, Split split, TrainConfig config, Trainer.Result evaluated,
                                AnchorDrift anchorDrift, Map<String, Object> json, TrainingListener listener) {
        return config.finalFit()
                ? finalFit(series, config, evaluated, anchorDrift, json, listener)
                : evaluated(split, config, evaluated, json);
    }

    /** One network trained with early stopping; validation rows no epoch could score are named in the failure. */
    static Trainer.Result train(Series series, Split split, TrainConfig config, TrainingListener listener) {
        try {
            return Trainer.train(series.values(), split, config, listener);
        } catch (Trainer.UnscorableValidation e) {
            throw new DataException(unscorable(series, split, e), e);
        }
    }

    /** Ensemble members trained at once; {@link TrainingRun#parallelMembers}. */
    private static volatile int parallelMembers = Runtime.getRuntime().availableProcessors();

    static void parallelMembers(int members) {
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
        List<Callable<Trainer.Result>> others = new ArrayList<>();
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
        json.put("validation_rmse_members", RunMetrics.jsonNumbers(memberRmse));
        json.put("validation_rmse", RunMetrics.jsonNumber(Evaluation.validationRmse(forecaster, series.values(), split)));
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
        List<Callable<Forecaster>> jobs = new ArrayList<>();
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
    private static <T> List<T> inParallel(List<Callable<T>> jobs, TrainingListener.Stage stage,
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
}
