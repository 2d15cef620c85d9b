package org.lstmcast.train;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import org.lstmcast.data.Transform;

/**
 * Everything that decides a training run. Two runs with equal configs on equal data give equal networks.
 *
 * @param features input columns besides the target (the target is always the first input)
 * @param season   seasonal period for the seasonal-naive baseline and MASE; 0 for none, {@link #SEASON_FROM_DATA} to
 *                 read it from the time column when the data is read
 * @param ensemble networks trained with seeds {@code seed, seed + 1, ...} on the chosen transform, their outputs
 *                 averaged; 1 for a single network
 * @param lookback rows of history per forecast, or {@link #LOOKBACK_FROM_DATA} to fit it to the series' length and
 *                 season when the data is read ({@link Plan})
 * @param refit    whether the model kept is trained again, on the training and validation rows together, for the
 *                 epochs early stopping chose on the validation rows (the networks that chose them are discarded)
 * @param finalFit whether the model written and exported is fitted once more on every row, test rows included, after
 *                 it was evaluated: the recipe is what the test part scored, the model is the one that has seen the
 *                 latest data (false: the evaluated model itself is written)
 */
public record TrainConfig(String target, List<String> features, int lookback, int horizon, Transform transform,
                          int season, int layers, int hidden, double dropout, int epochs, int batchSize,
                          double learningRate, int patience, double valFraction, double testFraction, long seed,
                          int ensemble, boolean refit, boolean finalFit)
        implements Serializable {

    /** The lookback of a long series when none is given; {@link Plan} shortens it on short series. */
    public static final int DEFAULT_LOOKBACK = 30;
    /** The lookback is fitted to the data when it is read ({@link Plan}). */
    public static final int LOOKBACK_FROM_DATA = 0;
    public static final int DEFAULT_HORIZON = 5;
    public static final Transform DEFAULT_TRANSFORM = Transform.AUTO;
    /** The season is the one the time column implies ({@link org.lstmcast.data.Seasons}). */
    public static final int SEASON_FROM_DATA = -1;
    /**
     * Members of the command line's ensemble. Five averaged networks beat a single one on the seasonal series of
     * docs/BENCHMARKS.md ("Ensembles") and keep a 500-row monthly series under a minute on 2 cores.
     */
    public static final int DEFAULT_ENSEMBLE = 5;
    public static final int MAX_ENSEMBLE = 32;
    /**
     * The command line refits: the validation rows are the latest before the test part, and on short series a tenth
     * of the rows; leaving them out of the final model cost up to a quarter of the test RMSE (docs/BENCHMARKS.md,
     * "Refitting on the validation rows").
     */
    public static final boolean DEFAULT_REFIT = true;
    /** The command line exports a model fitted on every row (statsforecast's and Darts' practice). */
    public static final boolean DEFAULT_FINAL_FIT = true;

    /** A config for a single network. */
    public TrainConfig(String target, List<String> features, int lookback, int horizon, Transform transform, int season,
                       int layers, int hidden, double dropout, int epochs, int batchSize, double learningRate,
                       int patience, double valFraction, double testFraction, long seed) {
        this(target, features, lookback, horizon, transform, season, layers, hidden, dropout, epochs, batchSize,
                learningRate, patience, valFraction, testFraction, seed, 1, false);
    }

    /** A config whose networks are those trained on the training rows only (no refit). */
    public TrainConfig(String target, List<String> features, int lookback, int horizon, Transform transform, int season,
                       int layers, int hidden, double dropout, int epochs, int batchSize, double learningRate,
                       int patience, double valFraction, double testFraction, long seed, int ensemble) {
        this(target, features, lookback, horizon, transform, season, layers, hidden, dropout, epochs, batchSize,
                learningRate, patience, valFraction, testFraction, seed, ensemble, false);
    }

    /** A config whose evaluated model is the one written (no final fit). */
    public TrainConfig(String target, List<String> features, int lookback, int horizon, Transform transform, int season,
                       int layers, int hidden, double dropout, int epochs, int batchSize, double learningRate,
                       int patience, double valFraction, double testFraction, long seed, int ensemble, boolean refit) {
        this(target, features, lookback, horizon, transform, season, layers, hidden, dropout, epochs, batchSize,
                learningRate, patience, valFraction, testFraction, seed, ensemble, refit, false);
    }

    public TrainConfig {
        features = List.copyOf(features);
        require(lookback >= 2 || lookback == LOOKBACK_FROM_DATA, "lookback must be at least 2, got " + lookback);
        require(horizon >= 1, "horizon must be at least 1, got " + horizon);
        require(season >= SEASON_FROM_DATA, "season must be 0 (none) or a period of at least 1, got " + season);
        require(layers >= 1 && layers <= 8, "layers must be between 1 and 8, got " + layers);
        require(hidden >= 1 && hidden <= 4096, "hidden must be between 1 and 4096, got " + hidden);
        require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got " + dropout);
        require(epochs >= 1, "epochs must be at least 1, got " + epochs);
        require(batchSize >= 1, "batch size must be at least 1, got " + batchSize);
        require(learningRate > 0 && learningRate < 10, "learning rate must be in (0, 10), got " + learningRate);
        require(patience >= 1, "patience must be at least 1, got " + patience);
        require(valFraction > 0 && valFraction < 1, "validation fraction must be in (0, 1), got " + valFraction);
        require(testFraction > 0 && testFraction < 1, "test fraction must be in (0, 1), got " + testFraction);
        require(ensemble >= 1 && ensemble <= MAX_ENSEMBLE, "ensemble must be between 1 and " + MAX_ENSEMBLE
                + " networks, got " + ensemble);
        require(target != null && !target.isBlank(), "a target column is required");
    }

    /** The same config with the transform decided. */
    public TrainConfig withTransform(Transform t) {
        return new TrainConfig(target, features, lookback, horizon, t, season, layers, hidden, dropout, epochs,
                batchSize, learningRate, patience, valFraction, testFraction, seed, ensemble, refit, finalFit);
    }

    /** The same config with the season decided. */
    public TrainConfig withSeason(int period) {
        return new TrainConfig(target, features, lookback, horizon, transform, period, layers, hidden, dropout, epochs,
                batchSize, learningRate, patience, valFraction, testFraction, seed, ensemble, refit, finalFit);
    }

    /** The same config with another seed: an ensemble's member. */
    public TrainConfig withSeed(long s) {
        return new TrainConfig(target, features, lookback, horizon, transform, season, layers, hidden, dropout, epochs,
                batchSize, learningRate, patience, valFraction, testFraction, s, ensemble, refit, finalFit);
    }

    /** The same config with the lookback decided. */
    public TrainConfig withLookback(int rows) {
        return new TrainConfig(target, features, rows, horizon, transform, season, layers, hidden, dropout, epochs,
                batchSize, learningRate, patience, valFraction, testFraction, seed, ensemble, refit, finalFit);
    }

    /** Whether the lookback is still to be fitted to the data. */
    public boolean lookbackFromData() {
        return lookback == LOOKBACK_FROM_DATA;
    }

    /** Input columns in network order: the target first, then the other features without repeats. */
    public List<String> inputColumns() {
        LinkedHashSet<String> cols = new LinkedHashSet<>();
        cols.add(target);
        cols.addAll(features);
        return List.copyOf(cols);
    }

    /** Every option by its command-line name, for metrics.json and the model file. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", target);
        m.put("features", inputColumns());
        m.put("lookback", lookback);
        m.put("horizon", horizon);
        m.put("transform", transform.id());
        m.put("season", season);
        m.put("layers", layers);
        m.put("hidden", hidden);
        m.put("dropout", dropout);
        m.put("epochs", epochs);
        m.put("batch_size", batchSize);
        m.put("learning_rate", learningRate);
        m.put("patience", patience);
        m.put("val_fraction", valFraction);
        m.put("test_fraction", testFraction);
        m.put("seed", seed);
        m.put("ensemble", ensemble);
        m.put("refit", refit);
        m.put("final_fit", finalFit);
        return m;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
