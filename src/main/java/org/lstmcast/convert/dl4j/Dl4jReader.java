package org.lstmcast.convert.dl4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.graph.rnn.LastTimeStepVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.GravesBidirectionalLSTM;
import org.deeplearning4j.nn.conf.layers.GravesLSTM;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToRnnPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.RnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.lstmcast.Version;
import org.lstmcast.model.Activation;
import org.lstmcast.model.ConversionException;
import org.lstmcast.model.Layer;
import org.lstmcast.model.Network;
import org.lstmcast.model.Source;
import org.lstmcast.train.ModelFile;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSELU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftSign;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads a DL4J model zip (MultiLayerNetwork or ComputationGraph saved with ModelSerializer) into a {@link Network}, and
 * keeps the restored network so that DL4J's own {@code output} proves the conversion.
 *
 * <p>DL4J's recurrent layers see {@code [batch, features, time]} (NCW, the default) or {@code [batch, time, features]}
 * (NWC); the IR always takes {@code [batch, time, features]}, so the source pass transposes on the way in and out.
 * A recurrent output feeding a dense layer goes through DL4J's RnnToFeedForward preprocessor, which folds time into the
 * batch ({@code [batch * time, size]}); every later layer then works per step, which is the IR's Dense on 3-D input,
 * and the IR keeps {@code [batch, time, size]}.
 */
public final class Dl4jReader {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Keras block k (i, f, c, o) is DL4J block KERAS_FROM_DL4J[k]; DL4J's LSTM blocks are [c, f, o, i]. */
    private static final int[] KERAS_FROM_DL4J = {3, 1, 0, 2};
    public static final String SUPPORTED = "LSTM, SimpleRnn, Bidirectional (of LSTM or SimpleRnn), LastTimeStep, DenseLayer, "
            + "OutputLayer, RnnOutputLayer, DropoutLayer, ActivationLayer; preprocessors RnnToFeedForward and FeedForwardToRnn";

    /** The network as layers, and DL4J's own forward pass to prove the conversion against. */
    public record Loaded(Network network, Source.Pass pass) {
    }

    /** What DL4J holds between layers: a sequence, a sequence folded into rows by RnnToFeedForward, or a vector. */
    private enum Shape { SEQ, ROWS, VEC }

    /** One element of the chain: an optional preprocessor, then a layer (or DL4J's LastTimeStepVertex). */
    private record Step(String name, InputPreProcessor pre, org.deeplearning4j.nn.conf.layers.Layer layer,
                        Map<String, INDArray> params, boolean lastTimeStepVertex) {
    }

    private final List<Layer> layers = new ArrayList<>();
    private Shape shape = Shape.SEQ;
    /** The layout of the sequence DL4J holds now; null until a layer reads the network input. */
    private RNNFormat format;
    private RNNFormat inputFormat;
    private int features = -1;

    private Dl4jReader() {
    }

    public static Loaded read(Path zip) throws IOException {
        JsonNode config = configuration(zip);
        String version = dl4jVersion();
        if (config.has("vertices")) {
            ComputationGraph graph = restore(() -> ModelSerializer.restoreComputationGraph(zip.toFile(), false), zip);
            Dl4jReader r = new Dl4jReader();
            r.map(chain(graph));
            int steps = steps(config);
            Network net = new Network(steps, r.features, r.layers, "DL4J " + version + " ComputationGraph");
            RNNFormat in = r.inputFormat;
            Shape out = r.shape;
            RNNFormat outFormat = r.format;
            return new Loaded(net, x -> flatten(graph.output(false, input(x, in, graph.getConfiguration().getDataType()))[0],
                    out, outFormat));
        }
        if (!config.has("confs")) {
            throw new ConversionException(zip.getFileName() + ": configuration.json is neither a MultiLayerNetwork "
                    + "(confs) nor a ComputationGraph (vertices)");
        }
        MultiLayerNetwork mln = restore(() -> ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false), zip);
        MultiLayerConfiguration conf = mln.getLayerWiseConfigurations();
        Dl4jReader r = multiLayer(mln);
        Network net = new Network(steps(config), r.features, r.layers, "DL4J " + version + " MultiLayerNetwork");
        RNNFormat in = r.inputFormat;
        Shape out = r.shape;
        RNNFormat outFormat = r.format;
        return new Loaded(net, x -> flatten(mln.output(input(x, in, conf.getDataType()), false), out, outFormat));
    }

    /**
     * A network lstmcast trained (stacked LSTMs, the last read at its final step, a linear head), as layers for the one
     * ONNX writer; its time axis is left open, as the export's window slice fixes it.
     */
    public static Network network(MultiLayerNetwork mln) {
        Dl4jReader r = multiLayer(mln);
        if (r.shape != Shape.VEC) {
            throw new ConversionException("the network returns a sequence; lstmcast's networks end in one vector per window");
        }
        return new Network(-1, r.features, r.layers, "lstmcast " + Version.get());
    }

    private static Dl4jReader multiLayer(MultiLayerNetwork mln) {
        MultiLayerConfiguration conf = mln.getLayerWiseConfigurations();
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            org.deeplearning4j.nn.conf.layers.Layer layer = conf.getConf(i).getLayer();
            String name = layer.getLayerName() != null ? layer.getLayerName() : "layer" + i;
            steps.add(new Step(name, conf.getInputPreProcess(i), layer, mln.getLayer(i).paramTable(), false));
        }
        Dl4jReader r = new Dl4jReader();
        r.map(steps);
        return r;
    }

    @FunctionalInterface
    private interface Restore<T> {
        T get() throws IOException;
    }

    private static <T> T restore(Restore<T> restore, Path zip) throws IOException {
        try {
            return restore.get();
        } catch (RuntimeException e) {
            throw ConversionException.unreadable(zip.getFileName() + ": DL4J could not restore the model: " + e.getMessage(), e);
        }
    }

    private static JsonNode configuration(Path zip) throws IOException {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            ZipEntry entry = z.getEntry("configuration.json");
            if (entry == null) {
                throw new ConversionException(zip.getFileName() + " is not a DL4J model (no configuration.json)");
            }
            // Its first member would convert alone, as a different model: an ensemble exports whole or not at all.
            if (z.getEntry(ModelFile.memberEntry(2)) != null) {
                throw new ConversionException(zip.getFileName() + " is an lstmcast ensemble of several networks; "
                        + "`lstmcast export --run` writes it as one graph");
            }
            try (InputStream in = z.getInputStream(entry)) {
                return JSON.readTree(in);
            }
        } catch (JacksonException e) {
            throw ConversionException.unreadable(zip.getFileName() + ": configuration.json is not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
    }

    /** DL4J keeps no input type in M2.1's configurations; read one if a configuration carries it, else leave time open. */
    private static int steps(JsonNode config) {
        for (String key : List.of("inputType", "networkInputTypes")) {
            JsonNode t = config.findValue(key);
            if (t != null) {
                JsonNode first = t.isArray() && t.size() > 0 ? t.get(0) : t;
                JsonNode length = first.findValue("timeSeriesLength");
                if (length != null && length.asInt(-1) > 0) {
                    return length.asInt();
                }
            }
        }
        return -1;
    }

    private static String dl4jVersion() {
        String v = MultiLayerNetwork.class.getPackage().getImplementationVersion();
        return v != null ? v : "1.0.0-M2.1";
    }

    /** A graph converts when it is one chain: one input, one output, each vertex taking only the one before it. */
    private static List<Step> chain(ComputationGraph graph) {
        var conf = graph.getConfiguration();
        if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
            throw new ConversionException("ComputationGraph with inputs " + conf.getNetworkInputs() + " and outputs "
                    + conf.getNetworkOutputs() + ": only graphs with one input and one output convert");
        }
        Map<String, List<String>> consumers = new HashMap<>();
        conf.getVertexInputs().forEach((v, ins) -> ins.forEach(in -> consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(v)));
        List<Step> steps = new ArrayList<>();
        String previous = conf.getNetworkInputs().get(0);
        String output = conf.getNetworkOutputs().get(0);
        while (!previous.equals(output)) {
            List<String> next = consumers.getOrDefault(previous, List.of());
            if (next.size() != 1) {
                throw new ConversionException("ComputationGraph: '" + previous + "' feeds " + next
                        + "; only graphs that are one chain of vertices convert");
            }
            String name = next.get(0);
            List<String> inputs = conf.getVertexInputs().get(name);
            if (inputs.size() != 1) {
                throw new ConversionException("ComputationGraph: vertex '" + name + "' takes " + inputs
                        + "; only graphs that are one chain of vertices convert");
            }
            GraphVertex v = conf.getVertices().get(name);
            if (v instanceof LayerVertex lv) {
                steps.add(new Step(name, lv.getPreProcessor(), lv.getLayerConf().getLayer(),
                        graph.getLayer(name).paramTable(), false));
            } else if (v instanceof PreprocessorVertex pv) {
                steps.add(new Step(name, pv.getPreProcessor(), null, Map.of(), false));
            } else if (v instanceof LastTimeStepVertex) {
                steps.add(new Step(name, null, null, Map.of(), true));
            } else {
                throw new ConversionException("ComputationGraph: vertex '" + name + "' (" + v.getClass().getSimpleName()
                        + ") is not supported; a chain may hold layer vertices, preprocessor vertices and LastTimeStepVertex");
            }
            previous = name;
        }
        if (consumers.values().stream().mapToInt(List::size).sum() != steps.size()) {
            throw new ConversionException("ComputationGraph: some vertices lie off the chain from the input to the output; "
                    + "only graphs that are one chain of vertices convert");
        }
        return steps;
    }

    private void map(List<Step> steps) {
        for (Step s : steps) {
            if (s.pre() != null) {
                preprocessor(s.name(), s.pre());
            }
            if (s.lastTimeStepVertex()) {
                if (shape != Shape.SEQ) {
                    throw new ConversionException("vertex '" + s.name() + "' (LastTimeStepVertex) receives " + describe(shape)
                            + ", not a sequence");
                }
                if (format() == RNNFormat.NWC) {
                    throw new ConversionException("vertex '" + s.name() + "' (LastTimeStepVertex) takes the last index of "
                            + "axis 2, which is features, not time, for an NWC sequence; use a LastTimeStep layer instead");
                }
                lastStep(s.name(), "LastTimeStepVertex");
                shape = Shape.VEC;
            } else if (s.layer() != null) {
                layer(s.name(), s.layer(), s.params());
            }
        }
        if (features < 1) {
            throw new ConversionException("no layer of the network states its input size (nIn)");
        }
        if (inputFormat == null) {
            inputFormat = RNNFormat.NCW;
        }
    }

    private RNNFormat format() {
        return format != null ? format : RNNFormat.NCW;
    }

    private static String describe(Shape s) {
        return switch (s) {
            case SEQ -> "a sequence";
            case ROWS -> "time steps folded into rows (after RnnToFeedForward)";
            case VEC -> "one vector per example";
        };
    }

    /** A layer or preprocessor reads a sequence in {@code layout}: it must be the layout DL4J holds. */
    private void reads(String name, String cls, RNNFormat declared) {
        RNNFormat layout = declared == null ? RNNFormat.NCW : declared;
        if (format == null) {
            format = layout;
            inputFormat = layout;
        } else if (format != layout) {
            throw new ConversionException("layer '" + name + "' (" + cls + ") reads " + layout + " sequences but receives "
                    + format + "; mixed RNN data formats do not convert");
        }
    }

    private void preprocessor(String name, InputPreProcessor p) {
        String cls = p.getClass().getSimpleName();
        if (p instanceof RnnToFeedForwardPreProcessor r) {
            if (shape != Shape.SEQ) {
                throw new ConversionException("layer '" + name + "': " + cls + " receives " + describe(shape));
            }
            reads(name, cls, r.getRnnDataFormat());
            shape = Shape.ROWS;
        } else if (p instanceof FeedForwardToRnnPreProcessor f) {
            if (shape == Shape.VEC) {
                throw new ConversionException("layer '" + name + "': " + cls + " turns one vector per example into a "
                        + "sequence by splitting the batch; only rows folded from a sequence before convert");
            }
            if (shape == Shape.ROWS) {
                shape = Shape.SEQ;
                format = f.getRnnDataFormat() == null ? RNNFormat.NCW : f.getRnnDataFormat();
            }
        } else {
            throw new ConversionException("layer '" + name + "' has input preprocessor " + cls + ", which is not supported; "
                    + "supported: RnnToFeedForwardPreProcessor, FeedForwardToRnnPreProcessor");
        }
    }

    private void layer(String name, org.deeplearning4j.nn.conf.layers.Layer layer, Map<String, INDArray> p) {
        String cls = layer.getClass().getSimpleName();
        if (features < 0 && layer instanceof FeedForwardLayer ff && ff.getNIn() > 0) {
            features = (int) ff.getNIn();
        } else if (features < 0 && layer instanceof Bidirectional b) {
            org.deeplearning4j.nn.conf.layers.Layer inner = b.getFwd() instanceof LastTimeStep l ? l.getUnderlying() : b.getFwd();
            features = inner instanceof FeedForwardLayer ff ? (int) ff.getNIn() : -1;
        } else if (features < 0 && layer instanceof LastTimeStep l && l.getUnderlying() instanceof FeedForwardLayer ff) {
            features = (int) ff.getNIn();
        }
        if (layer instanceof DropoutLayer) {
            return;
        }
        if (layer instanceof GravesLSTM || layer instanceof GravesBidirectionalLSTM) {
            throw new ConversionException("layer '" + name + "' (" + cls + ") has peephole connections from the cell "
                    + "state to the gates, which the converter does not map; use LSTM (no peepholes) instead");
        }
        if (layer instanceof LastTimeStep last) {
            org.deeplearning4j.nn.conf.layers.Layer inner = last.getUnderlying();
            if (inner instanceof Bidirectional) {
                throw new ConversionException("layer '" + name + "' is LastTimeStep(Bidirectional): DL4J takes the last "
                        + "step of the merged sequence, where the backward half has seen one step only; a bidirectional "
                        + "layer that returns its last outputs is Bidirectional(LastTimeStep(LSTM)) in DL4J, which converts");
            }
            if (!(inner instanceof LSTM || inner instanceof SimpleRnn)) {
                if (inner instanceof GravesLSTM || inner instanceof GravesBidirectionalLSTM) {
                    layer(name, inner, p);
                }
                throw new ConversionException("layer '" + name + "' is LastTimeStep(" + inner.getClass().getSimpleName()
                        + "): only LastTimeStep of LSTM or SimpleRnn converts");
            }
            layer(name, inner, p);
            lastStep(name, "LastTimeStep");
            shape = Shape.VEC;
            return;
        }
        if (layer instanceof LSTM || layer instanceof SimpleRnn) {
            needSequence(name, cls);
            reads(name, cls, ((BaseRecurrentLayer) layer).getRnnDataFormat());
            layers.add(recurrent(name, (BaseRecurrentLayer) layer, p, ""));
            return;
        }
        if (layer instanceof Bidirectional b) {
            layers.add(bidirectional(name, b, p));
            return;
        }
        if (layer instanceof RnnOutputLayer out) {
            needSequence(name, cls);
            reads(name, cls, out.getRnnDataFormat());
            layers.add(dense(name, out, p, out.getActivationFn(), out.hasBias()));
            return;
        }
        if (layer instanceof DenseLayer || layer instanceof OutputLayer) {
            if (shape == Shape.SEQ) {
                throw new ConversionException("layer '" + name + "' (" + cls + ") receives a sequence without an "
                        + "RnnToFeedForward preprocessor; DL4J needs one (set the network's input type) or a LastTimeStep");
            }
            if (layer instanceof DenseLayer d && d.hasLayerNorm()) {
                throw new ConversionException("layer '" + name + "' (DenseLayer) uses layer normalisation, which does not convert");
            }
            boolean bias = layer instanceof DenseLayer d ? d.hasBias() : ((BaseOutputLayer) layer).hasBias();
            layers.add(dense(name, (FeedForwardLayer) layer, p, ((FeedForwardLayer) layer).getActivationFn(), bias));
            return;
        }
        if (layer instanceof ActivationLayer a) {
            layers.add(new Layer.Act(activation(name, cls, a.getActivationFn())));
            return;
        }
        throw new ConversionException("layer '" + name + "' (" + cls + ") is not supported; layers that convert: " + SUPPORTED);
    }

    private void needSequence(String name, String cls) {
        if (shape != Shape.SEQ) {
            throw new ConversionException("layer '" + name + "' (" + cls + ") needs a sequence but receives " + describe(shape));
        }
    }

    /** The layer just added stops returning sequences: DL4J's LastTimeStep over a forward recurrent layer. */
    private void lastStep(String name, String what) {
        Layer prev = layers.isEmpty() ? null : layers.get(layers.size() - 1);
        if (prev instanceof Layer.Recurrent r && r.returnSequences() && !r.goBackwards()) {
            layers.set(layers.size() - 1, r.withDirection(false, false));
            return;
        }
        if (prev instanceof Layer.Bidirectional) {
            throw new ConversionException("'" + name + "' (" + what + ") follows a Bidirectional layer: DL4J takes the last "
                    + "step of the merged sequence, where the backward half has seen one step only; use "
                    + "Bidirectional(LastTimeStep(LSTM)) instead");
        }
        throw new ConversionException("'" + name + "' (" + what + ") follows " + (prev == null ? "the input" : prev.describe())
                + "; it converts only right after an LSTM or SimpleRnn layer");
    }

    private Layer bidirectional(String name, Bidirectional b, Map<String, INDArray> p) {
        needSequence(name, "Bidirectional");
        org.deeplearning4j.nn.conf.layers.Layer fwd = b.getFwd();
        org.deeplearning4j.nn.conf.layers.Layer bwd = b.getBwd();
        boolean sequences = true;
        if (fwd instanceof LastTimeStep lf && bwd instanceof LastTimeStep lb) {
            // DL4J keeps a rank-2 backward output as it is: the backward layer's state after the whole reversed input.
            fwd = lf.getUnderlying();
            bwd = lb.getUnderlying();
            sequences = false;
        }
        if (fwd instanceof GravesLSTM || fwd instanceof GravesBidirectionalLSTM) {
            layer(name, fwd, p);
        }
        if (!(fwd instanceof LSTM || fwd instanceof SimpleRnn) || bwd.getClass() != fwd.getClass()) {
            throw new ConversionException("layer '" + name + "' is Bidirectional(" + fwd.getClass().getSimpleName()
                    + "): only Bidirectional of LSTM or SimpleRnn converts");
        }
        reads(name, "Bidirectional", ((BaseRecurrentLayer) fwd).getRnnDataFormat());
        Layer.Merge merge = switch (b.getMode()) {
            case CONCAT -> Layer.Merge.CONCAT;
            case ADD -> Layer.Merge.SUM;
            case MUL -> Layer.Merge.MUL;
            case AVERAGE -> Layer.Merge.AVE;
        };
        Layer.Recurrent f = recurrent(name, (BaseRecurrentLayer) fwd, p, "f");
        Layer.Recurrent r = recurrent(name, (BaseRecurrentLayer) bwd, p, "b");
        if (!sequences) {
            shape = Shape.VEC;
        }
        return new Layer.Bidirectional(f.withDirection(false, sequences), r.withDirection(true, sequences), merge);
    }

    private Layer.Recurrent recurrent(String name, BaseRecurrentLayer layer, Map<String, INDArray> p, String prefix) {
        String cls = layer.getClass().getSimpleName();
        int in = (int) layer.getNIn();
        int units = (int) layer.getNOut();
        INDArray w = param(name, p, prefix + "W");
        INDArray rw = param(name, p, prefix + "RW");
        INDArray b = param(name, p, prefix + "b");
        Activation act = activation(name, cls, layer.getActivationFn());
        try {
            if (layer instanceof SimpleRnn rnn) {
                if (rnn.hasLayerNorm()) {
                    throw new ConversionException("layer '" + name + "' (SimpleRnn) uses layer normalisation, which ONNX's "
                            + "RNN cannot express");
                }
                return new Layer.Recurrent(Layer.Cell.RNN, units, in, act, act, matrix(w, in, units, null),
                        matrix(rw, units, units, null), vector(b, units, null), new float[units], false, true, false);
            }
            LSTM lstm = (LSTM) layer;
            Activation gate = activation(name, cls + " gate", lstm.getGateActivationFn());
            return new Layer.Recurrent(Layer.Cell.LSTM, units, in, act, gate, matrix(w, in, 4 * units, KERAS_FROM_DL4J),
                    matrix(rw, units, 4 * units, KERAS_FROM_DL4J), vector(b, 4 * units, KERAS_FROM_DL4J),
                    new float[4 * units], false, true, false);
        } catch (ConversionException e) {
            if (e.getMessage().startsWith("layer '")) {
                throw e;
            }
            throw new ConversionException("layer '" + name + "' (" + cls + "): " + e.getMessage());
        }
    }

    private Layer.Dense dense(String name, FeedForwardLayer layer, Map<String, INDArray> p, IActivation fn, boolean hasBias) {
        String cls = layer.getClass().getSimpleName();
        int in = (int) layer.getNIn();
        int out = (int) layer.getNOut();
        float[][] kernel = matrix(param(name, p, "W"), in, out, null);
        float[] bias = hasBias ? vector(param(name, p, "b"), out, null) : null;
        return new Layer.Dense(kernel, bias, activation(name, cls, fn));
    }

    private static INDArray param(String name, Map<String, INDArray> p, String key) {
        INDArray a = p.get(key);
        if (a == null) {
            throw new ConversionException("layer '" + name + "' has no parameter '" + key + "' (it has " + p.keySet() + ")");
        }
        return a;
    }

    /** {@code [rows, cols]}; with {@code blocks}, LSTM column blocks reordered from DL4J's to Keras's order. */
    private static float[][] matrix(INDArray a, int rows, int cols, int[] blocks) {
        if (a.length() != (long) rows * cols) {
            throw new ConversionException("a weight has " + a.length() + " values, expected " + rows + " x " + cols);
        }
        float[] flat = a.dup('c').reshape(a.length()).toFloatVector();
        float[][] m = new float[rows][cols];
        int h = blocks == null ? cols : cols / blocks.length;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int src = blocks == null ? c : blocks[c / h] * h + c % h;
                m[r][c] = flat[r * cols + src];
            }
        }
        return m;
    }

    private static float[] vector(INDArray a, int n, int[] blocks) {
        return matrix(a, 1, n, blocks)[0];
    }

    private static Activation activation(String name, String cls, IActivation fn) {
        if (fn instanceof ActivationIdentity) {
            return Activation.LINEAR;
        } else if (fn instanceof ActivationTanH) {
            return Activation.TANH;
        } else if (fn instanceof ActivationSigmoid) {
            return Activation.SIGMOID;
        } else if (fn instanceof ActivationHardSigmoid) {
            // DL4J's hard sigmoid is clip(0.2 x + 0.5, 0, 1), as Keras 2's.
            return Activation.HARD_SIGMOID;
        } else if (fn instanceof ActivationReLU relu) {
            if (plain(relu.getMax(), Double.POSITIVE_INFINITY) && plain(relu.getThreshold(), 0.0)
                    && plain(relu.getNegativeSlope(), 0.0)) {
                return Activation.RELU;
            }
            throw new ConversionException("layer '" + name + "' (" + cls + ") uses ReLU with max " + relu.getMax()
                    + ", threshold " + relu.getThreshold() + ", negative slope " + relu.getNegativeSlope()
                    + "; only the plain max(0, x) converts");
        } else if (fn instanceof ActivationELU elu) {
            if (elu.getAlpha() == 1.0) {
                return Activation.ELU;
            }
            throw new ConversionException("layer '" + name + "' (" + cls + ") uses ELU with alpha " + elu.getAlpha()
                    + "; only alpha 1 converts");
        } else if (fn instanceof ActivationSoftSign) {
            return Activation.SOFTSIGN;
        } else if (fn instanceof ActivationSoftPlus) {
            return Activation.SOFTPLUS;
        } else if (fn instanceof ActivationSoftmax) {
            return Activation.SOFTMAX;
        } else if (fn instanceof ActivationSELU) {
            return Activation.SELU;
        } else if (fn instanceof ActivationSwish) {
            return Activation.SWISH;
        }
        throw new ConversionException("layer '" + name + "' (" + cls + ") uses activation " + fn
                + ", which has no ONNX equivalent here; supported: identity, tanh, sigmoid, hardsigmoid, relu, elu, "
                + "softsign, softplus, softmax, selu, swish");
    }

    private static boolean plain(Double v, double neutral) {
        return v == null || v == neutral;
    }

    /** IR input {@code [steps][features]} as DL4J's batch of one, in the layout its first layer reads. */
    private static INDArray input(double[][] x, RNNFormat layout, DataType type) {
        int steps = x.length;
        int f = x[0].length;
        float[] data = new float[steps * f];
        for (int t = 0; t < steps; t++) {
            for (int i = 0; i < f; i++) {
                data[layout == RNNFormat.NWC ? t * f + i : i * steps + t] = (float) x[t][i];
            }
        }
        INDArray a = Nd4j.create(data, layout == RNNFormat.NWC ? new long[] {1, steps, f} : new long[] {1, f, steps}, 'c');
        return type == DataType.FLOAT ? a : a.castTo(type);
    }

    /** DL4J's output for a batch of one, flattened as the IR orders it: {@code [time][size]} for sequences. */
    private static double[] flatten(INDArray y, Shape shape, RNNFormat layout) {
        if (shape == Shape.SEQ && y.rank() == 3 && layout != RNNFormat.NWC) {
            y = y.permute(0, 2, 1);
        }
        // ROWS: [time, size] for a batch of one, already in order; VEC: [1, size]; NWC: [1, time, size].
        return y.dup('c').reshape(y.length()).castTo(DataType.DOUBLE).toDoubleVector();
    }
}
