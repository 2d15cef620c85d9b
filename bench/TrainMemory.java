import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.lstmcast.data.Split;
import org.lstmcast.data.Transform;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.Trainer;
import org.lstmcast.train.TrainingListener;

/**
 * The resident memory of one JVM as it trains networks one after another through {@code Trainer.train}, as train-many
 * does for series after series: 60 networks of 32 units on a 120-row series, 30 epochs of 3 batches each. With {@code
 * gc}, a garbage collection after each network shows whether Java could return the memory.
 *
 *   OMP_NUM_THREADS=1 java -Xmx2g -cp 'target/lstmcast.jar:target/lib/*' bench/TrainMemory.java [gc]
 */
public class TrainMemory {
    public static void main(String[] args) throws Exception {
        boolean gc = args.length > 0 && args[0].equals("gc");
        Trainer.useThreads(1);
        Random random = new Random(1);
        double[][] values = new double[120][1];
        for (int t = 0; t < values.length; t++) {
            values[t][0] = 100 + 10 * Math.sin(t / 2.0) + random.nextGaussian();
        }
        Split split = Split.of(values.length, 0.1, 0.2, 5);
        TrainConfig config = new TrainConfig("y", List.of(), 30, 5, Transform.DIFF, 0, 1, 32, 0, 30, 32, 1e-3, 100, 0.1,
                0.2, 1);
        for (int n = 1; n <= 60; n++) {
            Trainer.train(values, split, config, TrainingListener.NONE);
            if (gc) {
                System.gc();
            }
            if (n % 10 == 0) {
                System.out.println(n + " networks: resident " + residentMb() + " MB");
            }
        }
    }

    private static long residentMb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }
}
