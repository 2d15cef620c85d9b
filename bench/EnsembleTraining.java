import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.lstmcast.data.Split;
import org.lstmcast.data.Transform;
import org.lstmcast.train.Forecaster;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.Trainer;

/**
 * An ensemble's K members trained side by side as one computation against one network, on the bundled DAX with
 * `train`'s defaults (diff, lookback 30, horizon 5, 32 units, batches of 32, Adam 1e-3) for a fixed number of epochs on
 * the training and validation rows, as the refit and the final fit train them. Rounds alternate one network, K members
 * side by side, and (with `alone`) K members one after another; the medians and their ratios are printed. Then each
 * member trained side by side is compared with the same seed trained alone: the largest difference between their
 * weights and between their forecasts from every window of the series.
 *
 *   OMP_NUM_THREADS=1 java -cp 'target/lstmcast.jar:target/lib/*' bench/EnsembleTraining.java [K] [EPOCHS] [ROUNDS] [alone]
 */
public class EnsembleTraining {
    public static void main(String[] args) throws Exception {
        int k = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int epochs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        boolean alone = args.length > 3 && args[3].equals("alone");
        Trainer.useThreads(1);
        double[][] values = dax();
        Split split = Split.of(values.length, 0.1, 0.2);
        TrainConfig config = new TrainConfig("DAX", List.of(), 30, 5, Transform.DIFF, 0, 1, 32, 0, epochs, 32, 1e-3,
                10, 0.1, 0.2, 42);
        List<TrainConfig> members = new ArrayList<>();
        for (int m = 0; m < k; m++) {
            members.add(config.withSeed(42 + m));
        }
        int end = split.valEnd();
        List<Double> one = new ArrayList<>();
        List<Double> together = new ArrayList<>();
        List<Double> sequential = new ArrayList<>();
        List<Forecaster> sideBySide = null;
        for (int r = 0; r <= rounds; r++) {
            // Round 0 warms the JIT and is not counted.
            long t0 = System.nanoTime();
            Trainer.refit(values, end, config, epochs);
            long t1 = System.nanoTime();
            sideBySide = Trainer.refit(values, end, members, epochs);
            long t2 = System.nanoTime();
            if (alone) {
                for (TrainConfig c : members) {
                    Trainer.refit(values, end, c, epochs);
                }
            }
            long t3 = System.nanoTime();
            if (r > 0) {
                one.add((t1 - t0) / 1e9);
                together.add((t2 - t1) / 1e9);
                sequential.add((t3 - t2) / 1e9);
            }
            System.out.printf(Locale.ROOT, "round %d: one %.3f s, %d side by side %.3f s%s%n", r, (t1 - t0) / 1e9, k,
                    (t2 - t1) / 1e9, alone ? String.format(Locale.ROOT, ", %d one after another %.3f s", k,
                            (t3 - t2) / 1e9) : "");
        }
        double o = median(one);
        double t = median(together);
        System.out.printf(Locale.ROOT, "medians of %d rounds, %d epochs of %d windows: one network %.3f s, %d members side by "
                + "side %.3f s = %.2fx one network%n", rounds, epochs, end, o, k, t, t / o);
        if (alone) {
            double s = median(sequential);
            System.out.printf(Locale.ROOT, "%d members one after another %.3f s = %.2fx one network; side by side is %.2fx "
                    + "faster%n", k, s, s / o, s / t);
        }
        double weights = 0;
        double forecasts = 0;
        double scale = 0;
        for (int m = 0; m < k; m++) {
            Forecaster a = Trainer.refit(values, end, members.get(m), epochs);
            Forecaster b = sideBySide.get(m);
            float[] pa = a.network().params().toFloatVector();
            float[] pb = b.network().params().toFloatVector();
            for (int i = 0; i < pa.length; i++) {
                weights = Math.max(weights, Math.abs(pa[i] - pb[i]));
            }
            List<double[][]> windows = new ArrayList<>();
            for (int origin = 31; origin <= values.length; origin++) {
                windows.add(Arrays.copyOfRange(values, origin - 31, origin));
            }
            double[][] fa = a.forecast(windows);
            double[][] fb = b.forecast(windows);
            for (int w = 0; w < fa.length; w++) {
                double last = windows.get(w)[windows.get(w).length - 1][0];
                for (int h = 0; h < fa[w].length; h++) {
                    forecasts = Math.max(forecasts, Math.abs(fa[w][h] - fb[w][h]));
                    scale = Math.max(scale, Math.abs(fa[w][h] - last));
                }
            }
        }
        System.out.printf(Locale.ROOT, "side by side against alone, %d members: weights differ by %.2e at most; forecasts "
                + "by %.2e index points at most (forecast moves up to %.1f points from the last value)%n", k, weights,
                forecasts, scale);
    }

    private static double[][] dax() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("data/eustockmarkets_daily.csv"));
        List<String> header = Arrays.asList(lines.get(0).split(","));
        int column = header.indexOf("DAX");
        double[][] values = new double[lines.size() - 1][1];
        for (int i = 1; i < lines.size(); i++) {
            values[i - 1][0] = Double.parseDouble(lines.get(i).split(",")[column]);
        }
        return values;
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
