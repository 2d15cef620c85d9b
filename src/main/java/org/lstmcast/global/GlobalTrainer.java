package org.lstmcast.global;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.lstmcast.data.Transform;
import org.lstmcast.train.Networks;
import org.lstmcast.train.TrainConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Trains the networks of a global model on windows drawn from every series, with DL4J's own training loop (its LSTM
 * layer, workspaces, per-layer clipping and Adam). Not the fused SameDiff graph {@code train} uses: the backward pass
 * of libnd4j 1.0.0-M2.1's {@code lstmLayer} op leaks about 4 MB of native memory per batch of 128 windows, which a
 * run of thousands of batches cannot afford; DL4J's loop is 1.2-1.5x slower at this batch size and its memory stays
 * bounded by the heap. An epoch is a fixed number of windows
 * sampled uniformly from all (series, origin) pairs, so its cost does not grow with the table; only the series'
 * values are held, never the windows. A window whose series ends before the horizon trains on the steps it has (the
 * others weigh zero), so short series teach the network too.
 */
public final class GlobalTrainer {

    /** One member's outcome: its network, the epochs run, the epoch kept and each epoch's losses. */
    public record Member(MultiLayerNetwork network, int bestEpoch, double[] trainLoss, double[] valLoss) {
    }

    /** Validation windows: each history forecast, and the values that followed it (at most the horizon). */
    public record Validation(List<double[]> histories, List<double[]> futures) {
        public Validation {
            if (histories.size() != futures.size()) {
                throw new IllegalArgumentException("one future per history");
            }
        }

        public boolean isEmpty() {
            return histories.isEmpty();
        }
    }

    private GlobalTrainer() {
    }

    /**
     * Trains {@code settings.ensemble()} members with seeds {@code seed, seed + 1, ...}, {@code parallel} at a time.
     *
     * @param epochs per member, the epochs to run with nothing held out; null to stop early on {@code validation}
     */
    public static List<Member> train(Normaliser norm, List<double[]> series, Validation validation, GlobalConfig settings,
                                     int[] epochs, int parallel, IntConsumer epochDone) {
        int k = settings.ensemble();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(parallel, k)), r -> {
            Thread t = new Thread(r, "global-member");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Member>> jobs = new ArrayList<>();
            for (int m = 0; m < k; m++) {
                long seed = settings.seed() + m;
                int fixed = epochs == null ? 0 : epochs[m];
                jobs.add(pool.submit(() -> member(norm, series, validation, settings, seed, fixed, epochDone)));
            }
            List<Member> out = new ArrayList<>();
            for (Future<Member> job : jobs) {
                out.add(job.get());
            }
            return out;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while training", e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The network config shared with {@code train}: its layers, head, initialisation and update rule. */
    static TrainConfig networkConfig(Normaliser norm, GlobalConfig s, long seed) {
        // TrainConfig's lookback must be 2 or more; the network itself does not depend on it.
        return new TrainConfig("y", List.of(), Math.max(2, norm.steps()), norm.horizon(),
                Transform.LEVEL, 0, s.layers(), s.hidden(), 0, s.epochs(), s.batchSize(),
                s.learningRate(), s.patience(), 0.1, 0.2, seed);
    }

    private static Member member(Normaliser norm, List<double[]> series, Validation validation, GlobalConfig s,
                                 long seed, int fixedEpochs, IntConsumer epochDone) {
        TrainConfig config = networkConfig(norm, s, seed);
        MultiLayerNetwork net;
        // DL4J's builders share static state; building two networks at once has raced in the past.
        synchronized (GlobalTrainer.class) {
            Nd4j.getRandom().setSeed(seed);
            net = Networks.build(config, Normaliser.FEATURES, s.loss() == GlobalConfig.Loss.MAE
                    ? LossFunctions.LossFunction.MEAN_ABSOLUTE_ERROR : LossFunctions.LossFunction.MSE);
        }
        Origins origins = new Origins(series);
        if (origins.total == 0) {
            throw new IllegalArgumentException("no series has two values to train on");
        }
        Random random = new Random(seed);
        DataSet val = validation.isEmpty() ? null : batch(norm, validation.histories(), validation.futures());
        int maxEpochs = fixedEpochs > 0 ? fixedEpochs : s.epochs();
        List<Double> trainLoss = new ArrayList<>();
        List<Double> valLoss = new ArrayList<>();
        double best = Double.POSITIVE_INFINITY;
        int bestEpoch = 0;
        INDArray bestParams = null;
        int perEpoch = (int) Math.max(s.batchSize(), Math.min(s.windowsPerEpoch(), Math.max(origins.total, s.batchSize())));
        for (int epoch = 1; epoch <= maxEpochs; epoch++) {
            double sum = 0;
            int batches = 0;
            for (int done = 0; done < perEpoch; done += s.batchSize()) {
                int n = Math.min(s.batchSize(), perEpoch - done);
                List<double[]> histories = new ArrayList<>(n);
                List<double[]> futures = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    origins.sample(random, norm.lookback(), norm.horizon(), histories, futures);
                }
                net.fit(batch(norm, histories, futures));
                sum += net.score();
                batches++;
            }
            double train = sum / batches;
            if (!Double.isFinite(train)) {
                throw new IllegalStateException("training diverged at epoch " + epoch + " (loss " + train
                        + "); lower --learning-rate");
            }
            trainLoss.add(train);
            if (epochDone != null) {
                epochDone.accept(epoch);
            }
            if (fixedEpochs > 0 || val == null) {
                bestEpoch = epoch;
                continue;
            }
            double v = net.score(val, false);
            valLoss.add(v);
            if (v < best) {
                best = v;
                bestEpoch = epoch;
                bestParams = net.params().dup();
            }
            if (epoch - bestEpoch >= s.patience()) {
                break;
            }
        }
        if (bestParams != null) {
            net.setParams(bestParams);
        } else if (fixedEpochs == 0 && val != null) {
            throw new IllegalStateException("the validation loss was not finite in any epoch; the table holds values "
                    + "the network cannot score (a unit error, a missing-value code?)");
        }
        return new Member(net, bestEpoch, trainLoss.stream().mapToDouble(Double::doubleValue).toArray(),
                valLoss.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * Windows as DL4J's input {@code [n, features, steps]}, targets {@code [n, horizon]} and a mask of the same shape
     * that leaves out the steps past a series' end.
     */
    static DataSet batch(Normaliser norm, List<double[]> histories, List<double[]> futures) {
        int n = histories.size();
        int l = norm.steps();
        int h = norm.horizon();
        float[] x = new float[n * l * Normaliser.FEATURES];
        float[] y = new float[n * h];
        float[] w = new float[n * h];
        for (int i = 0; i < n; i++) {
            Normaliser.Window win = norm.window(histories.get(i));
            float[][] in = win.input();
            for (int f = 0; f < Normaliser.FEATURES; f++) {
                System.arraycopy(in[f], 0, x, (i * Normaliser.FEATURES + f) * l, l);
            }
            float[] target = norm.target(win, futures.get(i));
            for (int j = 0; j < target.length; j++) {
                y[i * h + j] = target[j];
                w[i * h + j] = 1f;
            }
        }
        return new DataSet(Nd4j.create(x, new long[] {n, Normaliser.FEATURES, l}, 'c'),
                Nd4j.create(y, new long[] {n, h}, 'c'), null, Nd4j.create(w, new long[] {n, h}, 'c'));
    }

    /** Every (series, origin) pair with at least one value on either side, numbered for uniform sampling. */
    private static final class Origins {
        private final List<double[]> series;
        private final long[] cumulative;
        private final long total;

        Origins(List<double[]> series) {
            this.series = series;
            this.cumulative = new long[series.size()];
            long sum = 0;
            for (int i = 0; i < series.size(); i++) {
                sum += Math.max(0, series.get(i).length - 1);
                cumulative[i] = sum;
            }
            this.total = sum;
        }

        void sample(Random random, int lookback, int horizon, List<double[]> histories, List<double[]> futures) {
            long r = (long) (random.nextDouble() * total);
            int lo = 0;
            int hi = cumulative.length - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cumulative[mid] > r) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            double[] s = series.get(lo);
            long before = lo == 0 ? 0 : cumulative[lo - 1];
            int end = (int) (r - before) + 1;
            histories.add(Arrays.copyOfRange(s, Math.max(0, end - lookback), end));
            futures.add(Arrays.copyOfRange(s, end, Math.min(s.length, end + horizon)));
        }
    }
}
