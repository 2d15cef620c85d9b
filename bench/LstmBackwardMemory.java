import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMActivations;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMDataFormat;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMDirectionMode;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMLayerConfig;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.weights.LSTMLayerWeights;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Resident memory and time per batch of two ways to train one LSTM (hidden 48, 3 features, 8 outputs, batch 128):
 * the backward pass of libnd4j's fused lstmLayer op through SameDiff (what train's FusedLstm runs), and DL4J's own
 * MultiLayerNetwork.fit (what train-global runs).
 *
 *   OMP_NUM_THREADS=1 java -Xmx512m -cp target/lstmcast.jar bench/LstmBackwardMemory.java fused|dl4j STEPS BATCHES
 */
public class LstmBackwardMemory {
    static long rssMb() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS")) {
                return Long.parseLong(l.replaceAll("\\D", "")) / 1024;
            }
        }
        return -1;
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int steps = Integer.parseInt(args[1]);
        int batches = Integer.parseInt(args[2]);
        int n = 128, f = 3, h = 48, out = 8;
        INDArray y = Nd4j.rand(DataType.FLOAT, n, out);
        Runnable step;
        if (mode.equals("fused")) {
            SameDiff sd = SameDiff.create();
            SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, steps, f);
            SDVariable label = sd.placeHolder("y", DataType.FLOAT, -1, out);
            LSTMLayerWeights w = LSTMLayerWeights.builder().weights(sd.var("wx", Nd4j.rand(DataType.FLOAT, f, 4 * h)))
                    .rWeights(sd.var("wr", Nd4j.rand(DataType.FLOAT, h, 4 * h))).bias(sd.var("b", Nd4j.zeros(DataType.FLOAT, 4 * h)))
                    .build();
            LSTMLayerConfig c = LSTMLayerConfig.builder().lstmdataformat(LSTMDataFormat.NTS).directionMode(LSTMDirectionMode.FWD)
                    .gateAct(LSTMActivations.SIGMOID).cellAct(LSTMActivations.TANH).outAct(LSTMActivations.TANH)
                    .retFullSequence(false).retLastH(true).retLastC(false).build();
            SDVariable last = sd.rnn().lstmLayer(x, w, c)[0];
            SDVariable o = last.mmul(sd.var("w", Nd4j.rand(DataType.FLOAT, h, out))).add(sd.var("bo", Nd4j.zeros(DataType.FLOAT, out)));
            sd.loss().meanSquaredError("loss", label, o, null);
            sd.setLossVariables("loss");
            Map<String, INDArray> feed = Map.of("x", Nd4j.rand(DataType.FLOAT, n, steps, f), "y", y);
            List<String> params = List.of("wx", "wr", "b", "w", "bo");
            step = () -> sd.calculateGradients(feed, params).values().forEach(INDArray::close);
        } else {
            MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
                    .updater(new Adam(1e-3)).gradientNormalization(GradientNormalization.ClipL2PerLayer)
                    .gradientNormalizationThreshold(1.0).list()
                    .layer(new LastTimeStep(new LSTM.Builder().nIn(f).nOut(h).activation(Activation.TANH).build()))
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(h).nOut(out)
                            .activation(Activation.IDENTITY).build())
                    .build());
            net.init();
            DataSet ds = new DataSet(Nd4j.rand(DataType.FLOAT, n, f, steps), y);
            step = () -> net.fit(ds);
        }
        long start = System.nanoTime();
        for (int i = 1; i <= batches; i++) {
            step.run();
            if (i % (batches / 4) == 0) {
                System.out.printf("%s steps=%d batch %d: rss %d MB, %.1f ms/batch%n", mode, steps, i, rssMb(),
                        (System.nanoTime() - start) / 1e6 / i);
            }
        }
    }
}
