package org.lstmcast.global;

/**
 * Everything that decides a global training run. Two runs with equal configs on equal tables give equal models.
 *
 * @param lookback        values each window reads for the profile and Theta; 0 for {@link Normaliser#defaultLookback}
 * @param steps           the last steps of it the network reads; 0 for {@link Normaliser#defaultSteps}
 * @param season          seasonal period; 0 to read it from the time labels, 1 for none
 * @param scale           how windows are normalised; null to take {@code log} when every value is positive
 * @param windowsPerEpoch windows sampled per epoch (fewer when the table has fewer)
 * @param ensemble        networks trained with seeds {@code seed, seed + 1, ...} and averaged in one graph
 * @param threads         members trained at the same time, one native thread each
 */
public record GlobalConfig(int lookback, int steps, int season, int horizon, Normaliser.Scale scale, int layers, int hidden,
                           int epochs, int batchSize, double learningRate, int patience, long seed, int ensemble,
                           int windowsPerEpoch, Loss loss, int threads) {

    /** What training minimises in the normalised space: the mean absolute error (closest to sMAPE and MASE) or squared. */
    public enum Loss { MAE, MSE }

    public GlobalConfig {
        require(lookback >= 0, "lookback must be at least 1, got " + lookback);
        require(steps >= 0, "steps must be at least 1, got " + steps);
        require(season >= 0, "season must be 1 (none) or a period, got " + season);
        require(horizon >= 1, "horizon must be at least 1, got " + horizon);
        require(layers >= 1 && layers <= 8, "layers must be between 1 and 8, got " + layers);
        require(hidden >= 1 && hidden <= 4096, "hidden must be between 1 and 4096, got " + hidden);
        require(epochs >= 1, "epochs must be at least 1, got " + epochs);
        require(batchSize >= 1, "batch size must be at least 1, got " + batchSize);
        require(learningRate > 0 && learningRate < 10, "learning rate must be in (0, 10), got " + learningRate);
        require(patience >= 1, "patience must be at least 1, got " + patience);
        require(ensemble >= 1 && ensemble <= 32, "ensemble must be between 1 and 32 networks, got " + ensemble);
        require(windowsPerEpoch >= 1, "windows per epoch must be at least 1, got " + windowsPerEpoch);
        require(threads >= 1, "threads must be at least 1, got " + threads);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
