import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMActivations;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMDataFormat;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMDirectionMode;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMLayerConfig;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.weights.LSTMLayerWeights;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a training step of `train`'s network goes: the graph `train` fits (libnd4j's fused lstmLayer over a batch of
 * 32 windows of 29 steps, the bundled DAX's shape, a linear head of 5 and the mean squared error), timed for the
 * gradients (forward and backward, as one SameDiff call) and for the forward pass alone, over 300 calls, 4 times.
 * FORMAT is NTS (batch-major, as `train` feeds it) or TNS (time-major); "full" returns the whole sequence and takes
 * the last step in the graph instead of the op's last-step output.
 *
 *   OMP_NUM_THREADS=1 java -cp 'target/lstmcast.jar:target/lib/*' bench/LstmLayerStep.java [NTS|TNS] [HIDDEN] [full]
 */
public class LstmLayerStep {
    public static void main(String[] args) {
        LSTMDataFormat format = LSTMDataFormat.valueOf(args.length > 0 ? args[0] : "NTS");
        int hidden = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        boolean full = args.length > 2 && args[2].equals("full");
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
        int batch = 32;
        int steps = 29;
        int horizon = 5;
        boolean nts = format == LSTMDataFormat.NTS;
        SameDiff sd = SameDiff.create();
        SDVariable x = nts ? sd.placeHolder("x", DataType.FLOAT, -1, steps, 1)
                : sd.placeHolder("x", DataType.FLOAT, steps, -1, 1);
        SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, horizon);
        LSTMLayerWeights weights = LSTMLayerWeights.builder()
                .weights(sd.var("wx", Nd4j.randn(DataType.FLOAT, 1, 4 * hidden).muli(0.1)))
                .rWeights(sd.var("wr", Nd4j.randn(DataType.FLOAT, hidden, 4 * hidden).muli(0.1)))
                .bias(sd.var("b", Nd4j.zeros(DataType.FLOAT, 4 * hidden)))
                .build();
        LSTMLayerConfig cell = LSTMLayerConfig.builder().lstmdataformat(format).directionMode(LSTMDirectionMode.FWD)
                .gateAct(LSTMActivations.SIGMOID).cellAct(LSTMActivations.TANH).outAct(LSTMActivations.TANH)
                .retFullSequence(full).retLastH(!full).retLastC(false).build();
        SDVariable h = sd.rnn().lstmLayer(x, weights, cell)[0];
        if (full) {
            h = nts ? h.get(SDIndex.all(), SDIndex.point(steps - 1), SDIndex.all())
                    : h.get(SDIndex.point(steps - 1), SDIndex.all(), SDIndex.all());
        }
        SDVariable out = h.mmul(sd.var("w", Nd4j.randn(DataType.FLOAT, hidden, horizon).muli(0.1)))
                .add("out", sd.var("bo", Nd4j.zeros(DataType.FLOAT, horizon)));
        sd.loss().meanSquaredError("loss", y, out, null);
        sd.setLossVariables("loss");
        INDArray xs = nts ? Nd4j.randn(DataType.FLOAT, batch, steps, 1) : Nd4j.randn(DataType.FLOAT, steps, batch, 1);
        Map<String, INDArray> feed = Map.of("x", xs, "y", Nd4j.randn(DataType.FLOAT, batch, horizon));
        List<String> params = List.of("wx", "wr", "b", "w", "bo");
        for (int rep = 0; rep < 4; rep++) {
            int n = 300;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sd.calculateGradientsAndOutputs(feed, List.of("loss"), params);
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sd.output(feed, "loss");
            }
            long t2 = System.nanoTime();
            System.out.printf(Locale.ROOT, "%s, %d units%s: gradients %.2f ms a batch, forward alone %.2f ms%n", format,
                    hidden, full ? ", full sequence" : "", (t1 - t0) / 1e6 / n, (t2 - t1) / 1e6 / n);
        }
    }
}
