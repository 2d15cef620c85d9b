package org.lstmcast.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.rnn.LastTimeStepVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GravesLSTM;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lstmcast.convert.dl4j.Dl4jReader;
import org.lstmcast.data.Transform;
import org.lstmcast.model.ConversionException;
import org.lstmcast.model.Layer;
import org.lstmcast.model.Network;
import org.lstmcast.model.Proof;
import org.lstmcast.model.ReferencePass;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.TrainingListener;
import org.lstmcast.train.TrainingRun;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Real DL4J networks, saved with ModelSerializer, converted; then DL4J's own output (computed here, independently of the
 * reader's source pass), ONNX Runtime on the converted graph and the Java reference pass on the read layers must agree.
 */
class Dl4jConversionTest {
    private static final int F = 3;
    private static final int T = 7;

    @TempDir
    Path tmp;

    private static NeuralNetConfiguration.ListBuilder list(long seed) {
        return new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.FLOAT).weightInit(WeightInit.XAVIER).list();
    }

    private static LSTM.Builder lstm(int in, int out) {
        // The weight init is explicit: DL4J does not pass the network's default into Bidirectional(LastTimeStep(..)).
        return new LSTM.Builder().nIn(in).nOut(out).weightInit(WeightInit.XAVIER).activation(Activation.TANH)
                .gateActivationFunction(Activation.SIGMOID);
    }

    private static OutputLayer head(int in, int out) {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(in).nOut(out).activation(Activation.IDENTITY).build();
    }

    /** Initialised, then every parameter (biases too) drawn at random, so a misplaced gate block shows. */
    private static MultiLayerNetwork mln(NeuralNetConfiguration.ListBuilder list, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        randomise(net, seed);
        return net;
    }

    private static void randomise(Model net, long seed) {
        Nd4j.getRandom().setSeed(seed);
        net.params().assign(Nd4j.randn(DataType.FLOAT, net.params().shape()).muli(0.6));
    }

    @Test
    void lstmLastTimeStepOutputLayerAsLstmcastBuildsIt() throws IOException {
        MultiLayerNetwork net = mln(list(1).layer(new LastTimeStep(lstm(F, 5).build())).layer(head(5, 3)), 1);
        Network read = check(net, false, "lstm-last-output");
        assertEquals(List.of("LSTM(5)", "Dense(3)"), read.layers().stream().map(Layer::describe).toList());
        assertEquals("DL4J 1.0.0-M2.1 MultiLayerNetwork", read.origin());
        assertEquals(F, read.features());
    }

    @Test
    void stackedLstmWithHardSigmoidGatesAndReluDense() throws IOException {
        MultiLayerNetwork net = mln(list(2)
                .layer(lstm(F, 6).gateActivationFunction(Activation.HARDSIGMOID).build())
                .layer(new LastTimeStep(lstm(6, 4).gateActivationFunction(Activation.HARDSIGMOID).build()))
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.RELU).build())
                .layer(head(5, 2)), 2);
        Network read = check(net, false, "stacked-hardsigmoid");
        Layer.Recurrent first = (Layer.Recurrent) read.layers().get(0);
        assertEquals(org.lstmcast.model.Activation.HARD_SIGMOID, first.recurrentActivation());
        assertTrue(first.returnSequences());
    }

    @Test
    void simpleRnnLayers() throws IOException {
        MultiLayerNetwork net = mln(list(3)
                .layer(new SimpleRnn.Builder().nIn(F).nOut(5).activation(Activation.TANH).build())
                .layer(new LastTimeStep(new SimpleRnn.Builder().nIn(5).nOut(4).activation(Activation.RELU).build()))
                .layer(head(4, 2)), 3);
        Network read = check(net, false, "simple-rnn");
        assertEquals(List.of("RNN(5, sequences)", "RNN(4)", "Dense(2)"), read.layers().stream().map(Layer::describe).toList());
    }

    @ParameterizedTest
    @EnumSource(Bidirectional.Mode.class)
    void bidirectionalLstmInEveryMode(Bidirectional.Mode mode) throws IOException {
        int width = mode == Bidirectional.Mode.CONCAT ? 8 : 4;
        long seed = 4 + mode.ordinal();
        MultiLayerNetwork net = mln(list(seed)
                .layer(new Bidirectional(mode, lstm(F, 4).build()))
                .layer(new Bidirectional(mode, new LastTimeStep(lstm(width, 3).build())))
                .layer(head(mode == Bidirectional.Mode.CONCAT ? 6 : 3, 2)), seed);
        Network read = check(net, false, "bidirectional-" + mode);
        assertTrue(read.layers().get(0) instanceof Layer.Bidirectional b && b.forward().returnSequences());
        assertTrue(read.layers().get(1) instanceof Layer.Bidirectional b && !b.forward().returnSequences());
    }

    @Test
    void bidirectionalSimpleRnnIntoSequenceOutput() throws IOException {
        MultiLayerNetwork net = mln(list(5)
                .layer(new Bidirectional(Bidirectional.Mode.CONCAT, new SimpleRnn.Builder().nIn(F).nOut(4)
                        .activation(Activation.TANH).build()))
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(8).nOut(2)
                        .activation(Activation.IDENTITY).build()), 5);
        check(net, true, "bidirectional-simple-rnn-sequence");
    }

    @Test
    void rnnOutputLayerGivesASequence() throws IOException {
        MultiLayerNetwork net = mln(list(6)
                .layer(lstm(F, 5).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(5).nOut(2)
                        .activation(Activation.TANH).build()), 6);
        Network read = check(net, true, "rnn-output");
        assertEquals(List.of("LSTM(5, sequences)", "Dense(2, tanh)"), read.layers().stream().map(Layer::describe).toList());
    }

    @Test
    void denseLayersAfterASequenceApplyPerTimeStep() throws IOException {
        // The input type makes DL4J insert RnnToFeedForward before the dense layer and FeedForwardToRnn after it.
        MultiLayerNetwork net = mln(list(7)
                .layer(lstm(F, 5).build())
                .layer(new DenseLayer.Builder().nIn(5).nOut(4).activation(Activation.SIGMOID).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                        .activation(Activation.IDENTITY).build())
                .setInputType(InputType.recurrent(F)), 7);
        check(net, true, "dense-per-step");
        // An OutputLayer straight after the LSTM: DL4J answers [time, size] rows for one example.
        MultiLayerNetwork rows = mln(list(8).layer(lstm(F, 5).build()).layer(head(5, 2)).setInputType(InputType.recurrent(F)), 8);
        check(rows, true, "output-layer-per-step");
    }

    @Test
    void dropoutLayersAndLayerDropoutAreIdentityAtInference() throws IOException {
        MultiLayerNetwork net = mln(list(9)
                .layer(lstm(F, 5).dropOut(0.7).build())
                .layer(new DropoutLayer.Builder(0.5).nIn(5).nOut(5).build())
                .layer(new LastTimeStep(lstm(5, 4).dropOut(0.6).build()))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2).dropOut(0.5)
                        .activation(Activation.IDENTITY).build()), 9);
        Network read = check(net, false, "dropout");
        assertEquals(3, read.layers().size());
    }

    @Test
    void computationGraphChain() throws IOException {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(10).dataType(DataType.FLOAT)
                .weightInit(WeightInit.XAVIER).graphBuilder()
                .addInputs("in")
                .addLayer("lstm1", lstm(F, 5).build(), "in")
                .addLayer("lstm2", lstm(5, 4).gateActivationFunction(Activation.HARDSIGMOID).build(), "lstm1")
                .addVertex("last", new LastTimeStepVertex("in"), "lstm2")
                .addLayer("dense", new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.TANH).build(), "last")
                .addLayer("out", head(3, 2), "dense")
                .setOutputs("out")
                .build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        randomise(graph, 10);
        Network read = check(graph, false, "graph-chain");
        assertEquals("DL4J 1.0.0-M2.1 ComputationGraph", read.origin());
        assertEquals(List.of("LSTM(5, sequences)", "LSTM(4)", "Dense(3, tanh)", "Dense(2)"),
                read.layers().stream().map(Layer::describe).toList());
    }

    @Test
    void nwcDataFormat() throws IOException {
        MultiLayerNetwork seq = mln(list(11)
                .layer(lstm(F, 5).dataFormat(RNNFormat.NWC).build())
                .layer(new Bidirectional(Bidirectional.Mode.ADD, lstm(5, 4).dataFormat(RNNFormat.NWC).build()))
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2).dataFormat(RNNFormat.NWC)
                        .activation(Activation.IDENTITY).build()), 11);
        check(seq, true, "nwc-sequence");
        MultiLayerNetwork last = mln(list(12)
                .layer(lstm(F, 5).dataFormat(RNNFormat.NWC).build())
                .layer(new LastTimeStep(lstm(5, 4).dataFormat(RNNFormat.NWC).build()))
                .layer(head(4, 2)), 12);
        check(last, false, "nwc-last");
    }

    @Test
    void gravesLstmIsRefused() throws IOException {
        MultiLayerNetwork net = mln(list(13)
                .layer(new GravesLSTM.Builder().nIn(F).nOut(4).activation(Activation.TANH).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(1)
                        .activation(Activation.IDENTITY).build()), 13);
        ConversionException e = assertThrows(ConversionException.class,
                () -> Converter.convert(save(net, "graves"), ConvertOptions.defaults()));
        assertTrue(e.getMessage().contains("GravesLSTM") && e.getMessage().contains("peephole"), e.getMessage());
    }

    @Test
    void graphWithTwoInputsIsRefused() throws IOException {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(14).dataType(DataType.FLOAT)
                .graphBuilder()
                .addInputs("a", "b")
                .addVertex("merge", new MergeVertex(), "a", "b")
                .addLayer("lstm", new LastTimeStep(lstm(2 * F, 4).build()), "merge")
                .addLayer("out", head(4, 1), "lstm")
                .setOutputs("out")
                .build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        ConversionException e = assertThrows(ConversionException.class,
                () -> Converter.convert(save(graph, "two-inputs"), ConvertOptions.defaults()));
        assertTrue(e.getMessage().contains("one input and one output"), e.getMessage());
    }

    @Test
    void lastTimeStepOverBidirectionalIsRefused() throws IOException {
        MultiLayerNetwork net = mln(list(15)
                .layer(new LastTimeStep(new Bidirectional(Bidirectional.Mode.ADD, lstm(F, 4).build())))
                .layer(head(4, 1)), 15);
        ConversionException e = assertThrows(ConversionException.class,
                () -> Converter.convert(save(net, "last-bidi"), ConvertOptions.defaults()));
        assertTrue(e.getMessage().contains("LastTimeStep(Bidirectional)"), e.getMessage());
    }

    @Test
    void anLstmcastEnsembleIsRefusedRatherThanConvertedAsItsFirstMember() throws IOException {
        TrainConfig config = new TrainConfig("y", List.of(), 8, 3, Transform.LEVEL, 0, 1, 4, 0, 1, 32, 0.01, 5,
                0.1, 0.2, 3, 2);
        Path run = tmp.resolve("ensemble");
        TrainingRun.run(series(300, 22L).getBytes(StandardCharsets.UTF_8), "gen.csv", null, config, run, TrainingListener.NONE);
        ConversionException e = assertThrows(ConversionException.class,
                () -> Converter.convert(run.resolve("model.zip"), ConvertOptions.defaults()));
        assertTrue(e.getMessage().contains("ensemble") && e.getMessage().contains("lstmcast export"), e.getMessage());
    }

    @Test
    void aModelTrainedByLstmcastConvertsAsADl4jSource() throws IOException {
        String csv = series(300, 21L);
        TrainConfig config = new TrainConfig("y", List.of(), 8, 3, Transform.LEVEL, 0, 2, 6, 0.2, 1, 32, 0.01, 5,
                0.1, 0.2, 3);
        Path run = tmp.resolve("run");
        TrainingRun.run(csv.getBytes(StandardCharsets.UTF_8), "gen.csv", null, config, run, TrainingListener.NONE);
        Path zip = run.resolve("model.zip");
        MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false);

        Converter.Result result = Converter.convert(zip, ConvertOptions.defaults().withLookback(8));
        assertTrue(result.parity().ok(), result.parity().toString());
        assertTrue(result.forecasting());
        assertEquals(List.of("LSTM(6, sequences)", "LSTM(6)", "Dense(3)"), result.layers());
        compareAll(zip, net, false, 8, "lstmcast-train");
    }

    // ---------------------------------------------------------------------------------------------------------------

    private Path save(Model net, String name) throws IOException {
        Path zip = tmp.resolve(name + ".zip");
        ModelSerializer.writeModel(net, zip.toFile(), false);
        return zip;
    }

    /** Converts through the public entry point, then checks DL4J, ONNX Runtime and the reference pass agree. */
    private Network check(Model net, boolean sequenceOut, String name) throws IOException {
        Path zip = save(net, name);
        Converter.Result result = Converter.convert(zip, ConvertOptions.defaults().withLookback(T));
        System.out.printf(Locale.ROOT, "%s: %s parity %s%n", name, result.layers(), result.parity());
        assertTrue(result.parity().ok(), name + ": " + result.parity());
        return compareAll(zip, net, sequenceOut, T, name);
    }

    private static Network compareAll(Path zip, Model net, boolean sequenceOut, int steps, String name) throws IOException {
        Dl4jReader.Loaded loaded = Dl4jReader.read(zip);
        Network read = loaded.network();
        Random random = new Random(name.hashCode());
        List<double[][]> windows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            // Longer windows too: the converted graph leaves its time axis open.
            double[][] w = new double[steps + (i % 3) * 2][read.features()];
            for (double[] row : w) {
                for (int f = 0; f < row.length; f++) {
                    row[f] = random.nextGaussian();
                }
            }
            windows.add(w);
        }
        boolean nwc = firstLayerIsNwc(net);
        double[][] dl4j = new double[windows.size()][];
        double[][] reference = new double[windows.size()][];
        double[][] pass = new double[windows.size()][];
        for (int i = 0; i < windows.size(); i++) {
            dl4j[i] = dl4jOutput(net, windows.get(i), nwc, sequenceOut);
            reference[i] = ReferencePass.run(read, new double[][][] {windows.get(i)}).flat(0);
            pass[i] = loaded.pass().run(windows.get(i));
        }
        Converter.Result plain = Converter.fromNetwork(read, Converter.Kind.DL4J, "0", ConvertOptions.defaults(), loaded.pass());
        assertAgree(dl4j, pass, name + ": the reader's source pass vs DL4J");
        assertAgree(dl4j, reference, name + ": reference pass vs DL4J");
        for (int i = 0; i < windows.size(); i++) {
            // One window at a time: the windows differ in length.
            double[][] ort = Converter.runOrt(plain.bytes(), List.<double[][]>of(windows.get(i)));
            assertAgree(new double[][] {dl4j[i]}, ort, name + ": ONNX Runtime vs DL4J, window " + i);
        }
        return read;
    }

    private static void assertAgree(double[][] want, double[][] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i].length, got[i].length, what + ": output size");
        }
        Proof.Parity p = Proof.compare(want, got);
        assertTrue(p.ok(), what + ": " + p);
    }

    private static boolean firstLayerIsNwc(Model net) {
        org.deeplearning4j.nn.conf.layers.Layer first = net instanceof MultiLayerNetwork m
                ? m.getLayerWiseConfigurations().getConf(0).getLayer()
                : ((ComputationGraph) net).getLayer(0).conf().getLayer();
        if (first instanceof LastTimeStep l) {
            first = l.getUnderlying();
        }
        if (first instanceof Bidirectional b) {
            first = b.getFwd();
        }
        return first instanceof BaseRecurrentLayer r && r.getRnnDataFormat() == RNNFormat.NWC;
    }

    /** DL4J's own answer for one window, flattened [time][size] for sequences. */
    private static double[] dl4jOutput(Model net, double[][] window, boolean nwc, boolean sequenceOut) {
        int steps = window.length;
        int f = window[0].length;
        INDArray x = nwc ? Nd4j.create(DataType.FLOAT, 1, steps, f) : Nd4j.create(DataType.FLOAT, 1, f, steps);
        for (int t = 0; t < steps; t++) {
            for (int i = 0; i < f; i++) {
                if (nwc) {
                    x.putScalar(new long[] {0, t, i}, window[t][i]);
                } else {
                    x.putScalar(new long[] {0, i, t}, window[t][i]);
                }
            }
        }
        INDArray y = net instanceof MultiLayerNetwork m ? m.output(x, false) : ((ComputationGraph) net).output(false, x)[0];
        List<Double> out = new ArrayList<>();
        if (y.rank() == 3) {
            long size = nwc ? y.size(2) : y.size(1);
            for (int t = 0; t < steps; t++) {
                for (int j = 0; j < size; j++) {
                    out.add(nwc ? y.getDouble(0, t, j) : y.getDouble(0, j, t));
                }
            }
        } else {
            // [1, size], or [time, size] rows after RnnToFeedForward.
            assertEquals(sequenceOut ? steps : 1, y.size(0));
            for (int r = 0; r < y.size(0); r++) {
                for (int j = 0; j < y.size(1); j++) {
                    out.add(y.getDouble(r, j));
                }
            }
        }
        assertEquals(sequenceOut, y.rank() == 3 || y.size(0) == steps && steps > 1);
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static String series(int rows, long seed) {
        Random random = new Random(seed);
        StringBuilder sb = new StringBuilder("t,y\n");
        for (int t = 0; t < rows; t++) {
            double y = 100 + 0.1 * t + 5 * Math.sin(2 * Math.PI * t / 12) + random.nextGaussian();
            sb.append(t).append(String.format(Locale.ROOT, ",%.5f%n", y));
        }
        return sb.toString();
    }
}
