package org.lstmcast.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.lstmcast.data.Transform;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The fused training graph against DL4J's own LSTM layer, which serves as the reference implementation. */
class FusedLstmTest {

    private static TrainConfig config(int layers, int hidden, int horizon, double dropout) {
        return new TrainConfig("value", List.of(), 12, horizon, Transform.DIFF, 0, layers, hidden, dropout, 1, 16,
                0.01, 5, 0.1, 0.2, 7);
    }

    /** {@code [n, steps, features]} to DL4J's {@code [n, features, steps]}. */
    private static INDArray ncw(INDArray nts) {
        return nts.permute(0, 2, 1).dup('c');
    }

    private static double maxAbsDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    @ParameterizedTest
    @CsvSource({"1, 8, 1, 1", "1, 32, 3, 5", "2, 16, 2, 3", "3, 8, 1, 2"})
    void startsFromDl4jWeightsAndGivesDl4jOutputs(int layers, int hidden, int features, int horizon) {
        Nd4j.getRandom().setSeed(1);
        int steps = 11;
        MultiLayerNetwork net = Networks.build(config(layers, hidden, horizon, 0), features);
        FusedLstm fused = new FusedLstm(config(layers, hidden, horizon, 0), net, steps);
        INDArray x = Nd4j.randn(DataType.FLOAT, 6, steps, features);
        INDArray expected = net.output(ncw(x), false);
        double diff = maxAbsDiff(fused.output(x), expected);
        assertTrue(diff < 1e-5, "fused vs DL4J before training: " + diff + " on outputs of size "
                + expected.amaxNumber());
    }

    @ParameterizedTest
    @CsvSource({"1, 16, 1, 3", "2, 8, 2, 2"})
    void trainsLikeDl4jStepForStep(int layers, int hidden, int features, int horizon) {
        Nd4j.getRandom().setSeed(2);
        int steps = 9;
        TrainConfig config = config(layers, hidden, horizon, 0);
        MultiLayerNetwork reference = Networks.build(config, features);
        MultiLayerNetwork copy = reference.clone();
        FusedLstm fused = new FusedLstm(config, reference, steps);
        for (int i = 0; i < 25; i++) {
            INDArray x = Nd4j.randn(DataType.FLOAT, 16, steps, features);
            // Large targets drive gradient norms past 1 now and then, so clipping is exercised too.
            INDArray y = Nd4j.randn(DataType.FLOAT, 16, horizon).muli(i % 5 == 0 ? 20 : 1);
            reference.fit(ncw(x), y);
            double fusedLoss = fused.fit(x, y);
            assertTrue(Double.isFinite(fusedLoss));
        }
        INDArray probe = Nd4j.randn(DataType.FLOAT, 8, steps, features);
        INDArray expected = reference.output(ncw(probe), false);
        double diff = maxAbsDiff(fused.output(probe), expected);
        assertTrue(diff < 1e-4, "fused vs DL4J after 25 steps: " + diff);

        // Weights copied back into a DL4J network give the fused graph's outputs.
        fused.copyTo(copy);
        double back = maxAbsDiff(copy.output(ncw(probe), false), fused.output(probe));
        assertTrue(back < 1e-5, "copied back: " + back);
        assertTrue(maxAbsDiff(copy.output(ncw(probe), false), Networks.build(config, features)
                .output(ncw(probe), false)) > 1e-3, "training moved the weights");
    }

    @ParameterizedTest
    @CsvSource({"1, 16", "2, 16"})
    void dropoutTrainsButEvaluatesDeterministically(int layers, int hidden) {
        Nd4j.getRandom().setSeed(3);
        TrainConfig config = config(layers, hidden, 2, 0.3);
        FusedLstm fused = new FusedLstm(config, Networks.build(config, 1), 10);
        INDArray x = Nd4j.randn(DataType.FLOAT, 32, 10, 1);
        INDArray y = x.get(NDArrayIndex.all(),
                NDArrayIndex.interval(8, 10), NDArrayIndex.point(0)).dup();
        double before = fused.loss(x, y);
        assertTrue(before == fused.loss(x, y), "evaluation uses no random mask");
        for (int i = 0; i < 200; i++) {
            fused.fit(x, y);
        }
        double after = fused.loss(x, y);
        assertTrue(after < 0.5 * before, "loss " + before + " -> " + after);
    }
}
