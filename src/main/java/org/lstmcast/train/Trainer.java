package org.lstmcast.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Split;
import org.lstmcast.data.Windows;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Fits a forecasting network on the training rows, stops early on the validation rows and restores the
 * best epoch's weights.
 */
public final class Trainer {

    /**
     * What training produced. Loss values are mean squared errors in the scaled space the network sees;
     * {@code epochSeconds} times each epoch's fitting and validation, {@code seconds} the whole call.
     */
    public record Result(Forecaster forecaster, double[] trainLoss, double[] valLoss, double[] epochSeconds,
                         int bestEpoch, double seconds) {
        public int epochsRun() {
            return trainLoss.length;
        }
    }

    private Trainer() {
    }

    /**
     * Sets the native threads ND4J and its BLAS use from now on. The matrices of a forecasting LSTM are small, so
     * spreading each op over cores costs more in hand-offs than it gains: on 2 cores one thread trains the bundled
     * DAX network about twice as fast as two.
     */
    public static void useThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
    }

    /**
     * @param values {@code values[row][feature]} with the target in column {@code 0}
     */
    public static Result train(double[][] values, Split split, TrainConfig config, TrainingListener listener) {
        return train(values, split, List.of(config), listener).get(0);
    }

    /**
     * Networks whose configs differ only in their seeds (an ensemble's members), trained side by side as one
     * computation ({@link FusedLstm}). Each member shuffles its own windows, stops early on its own validation loss and
     * keeps its own best epoch, so each result is the one {@link #train(double[][], Split, TrainConfig,
     * TrainingListener)} gives its config alone, up to the order of floating-point sums. The listener hears the first
     * member's epochs.
     */
    public static List<Result> train(double[][] values, Split split, List<TrainConfig> members, TrainingListener listener) {
        long started = System.nanoTime();
        TrainConfig config = sameShape(members);
        int k = members.size();
        int lookback = config.lookback();
        int horizon = config.horizon();
        Preprocessor pre = Preprocessor.fit(config.transform(), values, split.trainEnd(), lookback, horizon, 0,
                config.season());
        int[] trainOrigins = Windows.origins(0, split.trainEnd(), lookback, horizon, false);
        int[] valOrigins = Windows.origins(split.trainEnd(), split.valEnd(), lookback, horizon, true);
        if (trainOrigins.length == 0 || valOrigins.length == 0) {
            throw new IllegalArgumentException("no complete training or validation window");
        }
        List<MultiLayerNetwork> nets = networks(members, values[0].length);
        FusedLstm fused = new FusedLstm(config, nets, seeds(members), pre.steps());
        int[][] sameWindows = new int[k][];
        Arrays.fill(sameWindows, valOrigins);
        INDArray[] validation = batch(values, sameWindows, 0, valOrigins.length, pre, horizon);

        Random[] random = new Random[k];
        int[][] order = new int[k][];
        List<List<Double>> trainLoss = new ArrayList<>();
        List<List<Double>> valLoss = new ArrayList<>();
        List<List<Double>> epochSeconds = new ArrayList<>();
        double[] bestLoss = new double[k];
        int[] bestEpoch = new int[k];
        boolean[] stopped = new boolean[k];
        List<Map<String, INDArray>> bestParams = new ArrayList<>();
        for (int m = 0; m < k; m++) {
            random[m] = new Random(members.get(m).seed());
            order[m] = trainOrigins.clone();
            trainLoss.add(new ArrayList<>());
            valLoss.add(new ArrayList<>());
            epochSeconds.add(new ArrayList<>());
            bestLoss[m] = Double.POSITIVE_INFINITY;
            bestParams.add(null);
        }
        listener.started(config.epochs());
        int running = k;
        for (int epoch = 1; epoch <= config.epochs() && running > 0; epoch++) {
            long epochStart = System.nanoTime();
            double[] train = epoch(fused, values, order, random, pre, config);
            double[] val = fused.loss(validation[0], validation[1]);
            double seconds = (System.nanoTime() - epochStart) / 1e9;
            Map<String, INDArray> snapshot = null;
            for (int m = 0; m < k; m++) {
                if (stopped[m]) {
                    // Its training goes on in the shared computation and is never read again.
                    continue;
                }
                epochSeconds.get(m).add(seconds);
                trainLoss.get(m).add(train[m]);
                valLoss.get(m).add(val[m]);
                boolean best = val[m] < bestLoss[m];
                if (best) {
                    bestLoss[m] = val[m];
                    bestEpoch[m] = epoch;
                    snapshot = snapshot != null ? snapshot : fused.snapshot();
                    bestParams.set(m, snapshot);
                }
                if (m == 0) {
                    listener.epochEnded(epoch, train[m], val[m], best);
                }
                if (!Double.isFinite(train[m])) {
                    throw new IllegalStateException("training diverged at epoch " + epoch + " (loss " + train[m]
                            + "); lower --learning-rate");
                }
                if (epoch - bestEpoch[m] >= config.patience()) {
                    stopped[m] = true;
                    running--;
                }
            }
        }
        List<Result> results = new ArrayList<>();
        for (int m = 0; m < k; m++) {
            if (bestParams.get(m) == null) {
                // Early stopping had nothing to compare. Falling back to the last epoch would hand over a model no
                // validation vouched for, trained on data whose held-out rows hold values the network cannot even
                // score: almost always a misplaced value (a unit error, a missing-value code such as 9e99). Saying
                // which rows is worth more than a model built around them.
                throw new UnscorableValidation(trainLoss.get(m).size(), split.trainEnd(), split.valEnd());
            }
            fused.copyTo(m, bestParams.get(m), nets.get(m));
        }
        listener.finished(trainLoss.get(0).size(), bestEpoch[0]);
        double seconds = (System.nanoTime() - started) / 1e9;
        for (int m = 0; m < k; m++) {
            results.add(new Result(new Forecaster(nets.get(m), pre), toArray(trainLoss.get(m)), toArray(valLoss.get(m)),
                    toArray(epochSeconds.get(m)), bestEpoch[m], seconds));
        }
        return results;
    }

    /**
     * The seasonal anchor alone, as a model: the preprocessing fitted on rows {@code [0, end)} (with its {@code drift})
     * around a network whose output layer is zero, so that it outputs exactly 0 and the model is served and exported
     * like any other. No training.
     */
    public static Forecaster anchorAlone(double[][] values, int end, TrainConfig config, AnchorDrift drift) {
        Preprocessor pre = Preprocessor.fit(config.transform(), values, end, config.lookback(), config.horizon(), 0,
                config.season(), drift == AnchorDrift.WINDOW);
        Nd4j.getRandom().setSeed(config.seed());
        MultiLayerNetwork net = Networks.build(config, values[0].length);
        Layer head = net.getLayer(config.layers());
        head.setParam("W", head.getParam("W").mul(0));
        head.setParam("b", head.getParam("b").mul(0));
        return new Forecaster(net, drift == AnchorDrift.MEAN ? pre : pre.withoutDrift());
    }

    /**
     * Trains a network on every window whose inputs and targets lie in rows {@code [0, end)} for exactly
     * {@code epochs} epochs, with nothing held out: the refit of a model whose epochs early stopping already chose.
     * The preprocessing is fitted on the same rows.
     */
    public static Forecaster refit(double[][] values, int end, TrainConfig config, int epochs) {
        return refit(values, end, List.of(config), epochs).get(0);
    }

    /**
     * {@link #refit(double[][], int, TrainConfig, int)} for networks whose configs differ only in their seeds, side by
     * side as one computation; each equals its refit alone up to the order of floating-point sums.
     */
    public static List<Forecaster> refit(double[][] values, int end, List<TrainConfig> members, int epochs) {
        TrainConfig config = sameShape(members);
        int k = members.size();
        Preprocessor pre = Preprocessor.fit(config.transform(), values, end, config.lookback(), config.horizon(), 0,
                config.season());
        int[] origins = Windows.origins(0, end, config.lookback(), config.horizon(), false);
        if (origins.length == 0) {
            throw new IllegalArgumentException("no complete window in rows 1 to " + end);
        }
        List<MultiLayerNetwork> nets = networks(members, values[0].length);
        FusedLstm fused = new FusedLstm(config, nets, seeds(members), pre.steps());
        Random[] random = new Random[k];
        int[][] order = new int[k][];
        for (int m = 0; m < k; m++) {
            random[m] = new Random(members.get(m).seed());
            order[m] = origins.clone();
        }
        for (int epoch = 1; epoch <= epochs; epoch++) {
            double[] loss = epoch(fused, values, order, random, pre, config);
            for (double l : loss) {
                if (!Double.isFinite(l)) {
                    throw new IllegalStateException("training diverged at epoch " + epoch + " of the refit (loss " + l
                            + "); lower --learning-rate or use --no-refit");
                }
            }
        }
        Map<String, INDArray> last = fused.snapshot();
        List<Forecaster> out = new ArrayList<>();
        for (int m = 0; m < k; m++) {
            fused.copyTo(m, last, nets.get(m));
            out.add(new Forecaster(nets.get(m), pre));
        }
        return out;
    }

    /** The first config, after checking that the others differ from it in their seeds alone. */
    private static TrainConfig sameShape(List<TrainConfig> members) {
        TrainConfig first = members.get(0);
        for (TrainConfig c : members) {
            if (!c.withSeed(first.seed()).equals(first)) {
                throw new IllegalArgumentException("networks trained side by side differ only in their seeds");
            }
        }
        return first;
    }

    private static List<Long> seeds(List<TrainConfig> members) {
        return members.stream().map(TrainConfig::seed).toList();
    }

    /** Each member's network with DL4J's initialisation for its seed. */
    private static List<MultiLayerNetwork> networks(List<TrainConfig> members, int features) {
        List<MultiLayerNetwork> nets = new ArrayList<>();
        for (TrainConfig c : members) {
            Nd4j.getRandom().setSeed(c.seed());
            nets.add(Networks.build(c, features));
        }
        return nets;
    }

    /**
     * One pass over each member's windows, shuffled by the member's own generator, in minibatches; returns each
     * member's mean training loss per window.
     */
    private static double[] epoch(FusedLstm fused, double[][] values, int[][] order, Random[] random,
                                  Preprocessor pre, TrainConfig config) {
        int k = order.length;
        for (int m = 0; m < k; m++) {
            shuffle(order[m], random[m]);
        }
        int n = order[0].length;
        double[] sum = new double[k];
        for (int from = 0; from < n; from += config.batchSize()) {
            int to = Math.min(n, from + config.batchSize());
            INDArray[] xy = batch(values, order, from, to, pre, config.horizon());
            double[] loss = fused.fit(xy[0], xy[1]);
            for (int m = 0; m < k; m++) {
                sum[m] += loss[m] * (to - from);
            }
        }
        for (int m = 0; m < k; m++) {
            sum[m] /= n;
        }
        return sum;
    }

    /**
     * No epoch had a finite validation loss: the validation rows {@code [firstRow, endRow)} put values out of float32
     * range in the network's arithmetic, and there is no best epoch to restore.
     */
    static final class UnscorableValidation extends IllegalStateException {
        final int epochs;
        final int firstRow;
        final int endRow;

        UnscorableValidation(int epochs, int firstRow, int endRow) {
            super(String.format(Locale.ROOT, "the validation loss was not finite in any of the %d epochs, so "
                    + "there is no epoch to keep: rows %d to %d hold values too far from the training rows for float32; "
                    + "correct or remove them", epochs, firstRow + 1, endRow));
            this.epochs = epochs;
            this.firstRow = firstRow;
            this.endRow = endRow;
        }
    }

    /**
     * A batch as {@code {x [n, steps, K * features], y [n, K * horizon]}}, the layout the fused graph reads: member m's
     * windows {@code origins[m][from..to)} in features {@code [m * F, (m + 1) * F)} and its targets likewise.
     */
    private static INDArray[] batch(double[][] values, int[][] origins, int from, int to, Preprocessor pre,
                                    int horizon) {
        int n = to - from;
        int k = origins.length;
        int steps = pre.steps();
        int features = pre.features();
        float[] inputs = new float[n * steps * k * features];
        float[] labels = new float[n * k * horizon];
        for (int i = 0; i < n; i++) {
            for (int m = 0; m < k; m++) {
                int origin = origins[m][from + i];
                double[][] window = Windows.window(values, origin, pre.lookback());
                float[][] in = pre.input(window);
                for (int s = 0; s < steps; s++) {
                    System.arraycopy(in[s], 0, inputs, ((i * steps + s) * k + m) * features, features);
                }
                System.arraycopy(pre.target(window, Windows.future(values, origin, horizon, 0)), 0, labels,
                        (i * k + m) * horizon, horizon);
            }
        }
        INDArray x = Nd4j.create(inputs, new long[] {n, steps, (long) k * features}, 'c');
        INDArray y = Nd4j.create(labels, new long[] {n, (long) k * horizon}, 'c');
        return new INDArray[] {x, y};
    }

    private static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    private static double[] toArray(List<Double> list) {
        return list.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
