import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.lstmcast.data.Transform;
import org.lstmcast.train.Networks;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.Trainer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Training throughput of train-global's network in windows per second: the network train-global builds (one LSTM layer of
 * 48 units over 3 input features, a linear head, the mean absolute error, Adam 3e-3, per-layer clipping) fitted by
 * DL4J's loop, as train-global fits it, on batches of 128 prepared windows. The batches are made once and reused, so
 * the figure is the network's training alone, as bench/global_reference.py measures PyTorch's. Prints one JSON line.
 *
 *   OMP_NUM_THREADS=1 java -cp 'target/lstmcast.jar:target/lib/*' bench/GlobalTrainingSpeed.java STEPS HORIZON [BATCHES]
 */
public class GlobalTrainingSpeed {
    public static void main(String[] args) {
        int steps = Integer.parseInt(args[0]);
        int horizon = Integer.parseInt(args[1]);
        int batches = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int batch = 128;
        int features = 3;
        Trainer.useThreads(1);
        TrainConfig config = new TrainConfig("y", List.of(), Math.max(2, steps), horizon, Transform.LEVEL, 0, 1, 48, 0,
                60, batch, 3e-3, 8, 0.1, 0.2, 1);
        MultiLayerNetwork net = Networks.build(config, features, LossFunctions.LossFunction.MEAN_ABSOLUTE_ERROR);
        Random random = new Random(7);
        List<DataSet> data = new ArrayList<>();
        for (int b = 0; b < 16; b++) {
            float[] x = new float[batch * features * steps];
            float[] y = new float[batch * horizon];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            for (int i = 0; i < y.length; i++) {
                y[i] = (float) random.nextGaussian();
            }
            data.add(new DataSet(Nd4j.create(x, new long[] {batch, features, steps}, 'c'),
                    Nd4j.create(y, new long[] {batch, horizon}, 'c'), null,
                    Nd4j.ones(DataType.FLOAT, batch, horizon)));
        }
        List<Double> rates = new ArrayList<>();
        for (int round = 0; round <= 5; round++) {
            long t0 = System.nanoTime();
            for (int b = 0; b < batches; b++) {
                net.fit(data.get(b % data.size()));
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (round > 0) {
                // Round 0 warms the JIT and is not counted.
                rates.add(batches * batch / seconds);
            }
        }
        double[] sorted = rates.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        System.out.printf(Locale.ROOT, "{\"windows_per_second\": %s, \"median\": %.1f, \"steps\": %d, \"horizon\": %d}%n",
                rates.stream().map(r -> String.format(Locale.ROOT, "%.1f", r)).toList(), sorted[sorted.length / 2], steps,
                horizon);
    }
}
