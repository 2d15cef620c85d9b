package org.lstmcast.cli;

import java.util.List;

import org.lstmcast.data.Gaps;
import org.lstmcast.data.Transform;
import org.lstmcast.train.TrainConfig;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options that shape a network and its training, shared by train and train-many. */
final class TrainOptions {
    @Option(names = "--lookback", paramLabel = "N", description = "Rows of history per forecast (default: fitted to the data: "
            + TrainConfig.DEFAULT_LOOKBACK + ", or two seasons and a row where longer, shortened on short series so "
            + "the training rows hold enough windows).")
    Integer lookback;

    @Option(names = "--horizon", paramLabel = "H", description = "Steps forecast at once (default: ${DEFAULT-VALUE}).")
    int horizon = TrainConfig.DEFAULT_HORIZON;

    @Option(names = "--transform", paramLabel = "T", description = "level, diff, relative, seasonal, seasonal-mean, or auto: the "
            + "networks (diff, and seasonal and seasonal-mean when the lookback spans their anchors) and the anchors "
            + "alone (naive, drift, and the seasonal ones where the season shows) scored on the validation rows; a "
            + "network is kept only where it beats the best anchor by more than one standard error (default: "
            + "${DEFAULT-VALUE}).")
    String transform = TrainConfig.DEFAULT_TRANSFORM.id();

    @Option(names = "--season", paramLabel = "M", description = "Seasonal period for the seasonal-naive baseline and MASE (default: from the time column: 12 monthly, 4 quarterly, 52 weekly, 7 daily, 5 business days, 24 hourly, 48 half-hourly; 0 or 1 for none).")
    Integer season;

    @Option(names = "--layers", paramLabel = "N", description = "Stacked LSTM layers (default: ${DEFAULT-VALUE}).")
    int layers = 1;

    @Option(names = "--hidden", paramLabel = "N", description = "Units per LSTM layer (default: ${DEFAULT-VALUE}).")
    int hidden = 32;

    @Option(names = "--dropout", paramLabel = "P", description = "Probability of dropping an activation between layers (default: ${DEFAULT-VALUE}).")
    double dropout = 0;

    @Option(names = "--epochs", paramLabel = "N", description = "Most epochs to train (default: ${DEFAULT-VALUE}).")
    int epochs = 100;

    @Option(names = "--batch-size", paramLabel = "N", description = "Windows per minibatch (default: ${DEFAULT-VALUE}).")
    int batchSize = 32;

    @Option(names = "--learning-rate", paramLabel = "X", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate = 1e-3;

    @Option(names = "--patience", paramLabel = "N", description = "Stop after N epochs without a better validation loss, keeping the best (default: ${DEFAULT-VALUE}).")
    int patience = 10;

    @Option(names = "--val-fraction", paramLabel = "F", description = "Share of the non-test rows used for validation (default: ${DEFAULT-VALUE}).")
    double valFraction = 0.1;

    @Option(names = "--test-fraction", paramLabel = "F", description = "Share of the rows held out for the test (default: ${DEFAULT-VALUE}).")
    double testFraction = 0.2;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed; the same seed and data give the same model (default: ${DEFAULT-VALUE}).")
    long seed = 42;

    @Option(names = "--ensemble", paramLabel = "K", description = "Networks to train on the chosen transform (seeds N, N+1, ...) and average, as one model and one ONNX graph; 1 for a single network (default: ${DEFAULT-VALUE}).")
    int ensemble = TrainConfig.DEFAULT_ENSEMBLE;

    // For a negatable option that defaults to true, picocli needs fallbackValue "true" too, or --refit turns it off.
    @Option(names = "--refit", negatable = true, defaultValue = "true", fallbackValue = "true", description = "Train the kept model again on "
            + "the training and validation rows together, for the epochs early stopping chose; --no-refit keeps the "
            + "networks trained on the training rows only (default: ${DEFAULT-VALUE}).")
    boolean refit = TrainConfig.DEFAULT_REFIT;

    @Option(names = "--final-fit", negatable = true, defaultValue = "true", fallbackValue = "true", description = "After "
            + "the evaluation, fit the kept recipe once more on every row, test rows included, for the epochs it chose, "
            + "and write and export that model; --no-final-fit writes the model the test part scored (default: "
            + "${DEFAULT-VALUE}).")
    boolean finalFit = TrainConfig.DEFAULT_FINAL_FIT;

    @Option(names = "--fill", paramLabel = "POLICY", description = "Gaps: empty cells, and time steps missing from "
            + "labels with a calendar step (months, quarters, years, weeks, numbers with a constant step, days when every weekday "
            + "occurs; not business days or timestamps). none: stop at the first, "
            + "naming it; previous: carry the last value forward; linear: interpolate between the neighbours; zero: "
            + "put 0 (default: ${DEFAULT-VALUE}).")
    String fillPolicy = Gaps.Fill.NONE.id();

    Gaps.Fill fill(CommandLine cl) {
        try {
            return Gaps.Fill.parse(fillPolicy);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
    }

    TrainConfig config(CommandLine cl, String target, List<String> features) {
        try {
            int period = season == null ? TrainConfig.SEASON_FROM_DATA : season == 1 ? 0 : season;
            return new TrainConfig(target, features, lookback == null ? TrainConfig.LOOKBACK_FROM_DATA : lookback, horizon,
                    Transform.parse(transform), period, layers, hidden, dropout, epochs, batchSize, learningRate,
                    patience, valFraction, testFraction, seed, ensemble, refit, finalFit);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
    }
}
