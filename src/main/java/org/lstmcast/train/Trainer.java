package org.lstmcast.train;

import java.util.ArrayList;
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
        long started = System.nanoTime();
        int lookback = config.lookback();
        int horizon = config.horizon();
        Preprocessor pre = Preprocessor.fit(config.transform(), values, split.trainEnd(), lookback, horizon, 0,
                config.season());
        int[] trainOrigins = Windows.origins(0, split.trainEnd(), lookback, horizon, false);
        int[] valOrigins = Windows.origins(split.trainEnd(), split.valEnd(), lookback, horizon, true);
        if (trainOrigins.length == 0 || valOrigins.length == 0) {
            throw new IllegalArgumentException("no complete training or validation window");
        }
        Nd4j.getRandom().setSeed(config.seed());
        MultiLayerNetwork net = Networks.build(config, values[0].length);
        FusedLstm fused = new FusedLstm(config, net, pre.steps());
        INDArray[] validation = batch(values, valOrigins, 0, valOrigins.length, pre, horizon);

        Random random = new Random(config.seed());
        int[] order = trainOrigins.clone();
        List<Double> trainLoss = new ArrayList<>();
        List<Double> valLoss = new ArrayList<>();
        List<Double> epochSeconds = new ArrayList<>();
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestEpoch = 0;
        Map<String, INDArray> bestParams = null;
        listener.started(config.epochs());
        for (int epoch = 1; epoch <= config.epochs(); epoch++) {
            long epochStart = System.nanoTime();
            double train = epoch(fused, values, order, random, pre, config);
            double val = fused.loss(validation[0], validation[1]);
            epochSeconds.add((System.nanoTime() - epochStart) / 1e9);
            trainLoss.add(train);
            valLoss.add(val);
            boolean best = val < bestLoss;
            if (best) {
                bestLoss = val;
                bestEpoch = epoch;
                bestParams = fused.snapshot();
            }
            listener.epochEnded(epoch, train, val, best);
            if (!Double.isFinite(train)) {
                throw new IllegalStateException("training diverged at epoch " + epoch + " (loss " + train
                        + "); lower --learning-rate");
            }
            if (epoch - bestEpoch >= config.patience()) {
                break;
            }
        }
        if (bestParams == null) {
            // Early stopping had nothing to compare. Falling back to the last epoch would hand over a model no
            // validation vouched for, trained on data whose held-out rows hold values the network cannot even score:
            // almost always a misplaced value (a unit error, a missing-value code such as 9e99). Saying which rows
            // is worth more than a model built around them.
            throw new UnscorableValidation(trainLoss.size(), split.trainEnd(), split.valEnd());
        }
        fused.restore(bestParams);
        fused.copyTo(net);
        listener.finished(trainLoss.size(), bestEpoch);
        return new Result(new Forecaster(net, pre), toArray(trainLoss), toArray(valLoss), toArray(epochSeconds), bestEpoch,
                (System.nanoTime() - started) / 1e9);
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
        Preprocessor pre = Preprocessor.fit(config.transform(), values, end, config.lookback(), config.horizon(), 0,
                config.season());
        int[] order = Windows.origins(0, end, config.lookback(), config.horizon(), false);
        if (order.length == 0) {
            throw new IllegalArgumentException("no complete window in rows 1 to " + end);
        }
        Nd4j.getRandom().setSeed(config.seed());
        MultiLayerNetwork net = Networks.build(config, values[0].length);
        FusedLstm fused = new FusedLstm(config, net, pre.steps());
        Random random = new Random(config.seed());
        for (int epoch = 1; epoch <= epochs; epoch++) {
            double loss = epoch(fused, values, order, random, pre, config);
            if (!Double.isFinite(loss)) {
                throw new IllegalStateException("training diverged at epoch " + epoch + " of the refit (loss " + loss
                        + "); lower --learning-rate or use --no-refit");
            }
        }
        fused.copyTo(net);
        return new Forecaster(net, pre);
    }

    /** One pass over {@code order}, shuffled, in minibatches; returns the mean training loss per window. */
    private static double epoch(FusedLstm fused, double[][] values, int[] order, Random random, Preprocessor pre,
                                TrainConfig config) {
        shuffle(order, random);
        double sum = 0;
        for (int from = 0; from < order.length; from += config.batchSize()) {
            int to = Math.min(order.length, from + config.batchSize());
            INDArray[] xy = batch(values, order, from, to, pre, config.horizon());
            sum += fused.fit(xy[0], xy[1]) * (to - from);
        }
        return sum / order.length;
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

    /** A batch as {@code {x [n, steps, features], y [n, horizon]}}, the layout the fused graph reads. */
    private static INDArray[] batch(double[][] values, int[] origins, int from, int to, Preprocessor pre, int horizon) {
        int n = to - from;
        float[][][] inputs = new float[n][][];
        float[] labels = new float[n * horizon];
        for (int i = 0; i < n; i++) {
            int origin = origins[from + i];
            double[][] window = Windows.window(values, origin, pre.lookback());
            inputs[i] = pre.input(window);
            System.arraycopy(pre.target(window, Windows.future(values, origin, horizon, 0)), 0, labels, i * horizon, horizon);
        }
        INDArray x = Nd4j.create(inputs);
        INDArray y = Nd4j.create(labels, new long[] {n, horizon}, 'c');
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
