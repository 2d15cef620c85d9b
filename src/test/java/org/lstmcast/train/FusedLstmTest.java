package org.lstmcast.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

    /** Arrays joined along their last axis, in a fresh row-major array as the trainer builds its batches. */
    private static INDArray sideBySide(List<INDArray> parts) {
        long[] shape = parts.get(0).shape().clone();
        int last = shape.length - 1;
        long width = shape[last];
        shape[last] = width * parts.size();
        INDArray out = Nd4j.create(DataType.FLOAT, shape, 'c');
        for (int m = 0; m < parts.size(); m++) {
            INDArray part = last == 1 ? out.get(NDArrayIndex.all(), NDArrayIndex.interval(m * width, (m + 1) * width))
                    : out.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(m * width, (m + 1) * width));
            part.assign(parts.get(m));
        }
        return out;
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
            double fusedLoss = fused.fit(x, y)[0];
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
        double before = fused.loss(x, y)[0];
        assertTrue(before == fused.loss(x, y)[0], "evaluation uses no random mask");
        for (int i = 0; i < 200; i++) {
            fused.fit(x, y);
        }
        double after = fused.loss(x, y)[0];
        assertTrue(after < 0.5 * before, "loss " + before + " -> " + after);
    }

    /**
     * K networks trained as one wider network with block-diagonal weights, each fed its own batches, against the same
     * K networks trained one at a time on the same batches: step for step the same losses, the same clipping, the same
     * weights, to float rounding. Dropout draws each member's masks from its own stream, so it is covered too.
     */
    @ParameterizedTest
    @CsvSource({"1, 16, 1, 3, 0", "2, 8, 2, 2, 0", "2, 8, 1, 2, 0.3"})
    void membersSideBySideTrainAsTheyWouldAlone(int layers, int hidden, int features, int horizon, double dropout) {
        int steps = 9;
        int k = 3;
        List<MultiLayerNetwork> alone = new ArrayList<>();
        List<MultiLayerNetwork> together = new ArrayList<>();
        List<Long> seeds = new ArrayList<>();
        List<FusedLstm> single = new ArrayList<>();
        for (int m = 0; m < k; m++) {
            TrainConfig c = config(layers, hidden, horizon, dropout).withSeed(20 + m);
            seeds.add(c.seed());
            alone.add(Networks.build(c, features));
            together.add(Networks.build(c, features));
            single.add(new FusedLstm(c, alone.get(m), steps));
        }
        TrainConfig config = config(layers, hidden, horizon, dropout);
        FusedLstm wide = new FusedLstm(config, together, seeds, steps);
        Nd4j.getRandom().setSeed(5);
        int clipped = 0;
        for (int i = 0; i < 25; i++) {
            List<INDArray> xs = new ArrayList<>();
            List<INDArray> ys = new ArrayList<>();
            for (int m = 0; m < k; m++) {
                xs.add(Nd4j.randn(DataType.FLOAT, 16, steps, features));
                // Member 1 gets large targets now and then: its gradients pass the clipping norm, the others' do not.
                ys.add(Nd4j.randn(DataType.FLOAT, 16, horizon).muli(m == 1 && i % 4 == 0 ? 30 : 0.1));
            }
            double[] wideLoss = wide.fit(sideBySide(xs), sideBySide(ys));
            for (int m = 0; m < k; m++) {
                double loss = single.get(m).fit(xs.get(m), ys.get(m))[0];
                assertEquals(loss, wideLoss[m], 1e-5 * Math.max(1, loss), "step " + i + ", member " + m);
                clipped += loss > 100 ? 1 : 0;
            }
        }
        assertTrue(clipped > 0, "some steps clip one member");
        INDArray probe = Nd4j.randn(DataType.FLOAT, 8, steps, features);
        INDArray wideOut = wide.output(sideBySide(List.of(probe, probe, probe)));
        Map<String, INDArray> params = wide.snapshot();
        for (int m = 0; m < k; m++) {
            INDArray expected = single.get(m).output(probe);
            INDArray got = wideOut.get(NDArrayIndex.all(), NDArrayIndex.interval(m * horizon, (m + 1) * horizon));
            assertTrue(maxAbsDiff(got, expected) < 1e-4, "member " + m + ": " + maxAbsDiff(got, expected));
            single.get(m).copyTo(alone.get(m));
            wide.copyTo(m, params, together.get(m));
            double weights = maxAbsDiff(together.get(m).params(), alone.get(m).params());
            assertTrue(weights < 1e-4, "member " + m + " weights: " + weights);
        }
        // The blocks that would join members are still exactly zero.
        INDArray wr = params.get("wr0");
        double crossing = 0;
        for (int m = 0; m < k; m++) {
            for (int g = 0; g < 4; g++) {
                for (int other = 0; other < k; other++) {
                    if (other != m) {
                        crossing += wr.get(NDArrayIndex.interval(m * hidden, (m + 1) * hidden),
                                NDArrayIndex.interval((g * k + other) * hidden, (g * k + other + 1) * hidden))
                                .amaxNumber().doubleValue();
                    }
                }
            }
        }
        assertEquals(0.0, crossing);
        assertTrue(maxAbsDiff(together.get(0).params(), together.get(2).params()) > 1e-3, "members differ");
    }
}
