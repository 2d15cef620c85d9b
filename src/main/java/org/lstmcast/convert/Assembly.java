package org.lstmcast.convert;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.lstmcast.Text;
import org.lstmcast.Version;
import org.lstmcast.data.CsvReader;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Series;
import org.lstmcast.data.Transform;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.model.Activation;
import org.lstmcast.model.ConversionException;
import org.lstmcast.model.ForecastGraph;
import org.lstmcast.model.GraphBuilder;
import org.lstmcast.model.Layer;
import org.lstmcast.model.Network;
import org.lstmcast.model.Proof;
import org.lstmcast.model.ReferencePass;
import org.lstmcast.model.Source;
import org.lstmcast.onnx.ModelReport;
import org.lstmcast.onnx.OnnxInspector;

/**
 * Wraps a source read by any reader into one self-contained forecaster: the window transform and the scaler from the
 * options, the source's body, the rebuilding of levels, the source's signature and the metadata; then proves it.
 */
final class Assembly {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Assembly() {
    }

    /**
     * The converted model: the source's body, wrapped as a forecaster (raw windows in, original units out) when its
     * output is {@code [batch, horizon]} and its window is known, else as it is; proven on windows against the source's
     * own pass, and presented under the source's signature when it has one.
     */
    static Converter.Result assemble(Source src, Converter.Kind kind, String sha, ConvertOptions o) {
        boolean probabilities = src.network() != null && softmaxHead(src.network());
        if (probabilities && (o.scaleMin() != null || o.scaleMax() != null || o.fitScaler() != null
                || o.transform() != Transform.LEVEL)) {
            // The wrapper would map the output back to the series' units (or rebuild levels from it): meaningless for
            // probabilities, which sum to one whatever the input's units.
            throw new ConversionException("the model ends in a softmax: it answers class probabilities, not values of the "
                    + "series, so its output cannot be unscaled or rebuilt into levels; convert it without --scale-min/"
                    + "--scale-max/--fit-scaler and with --transform level (the default)");
        }
        Converter.Result result = wrap(src, kind, sha, o);
        return probabilities ? result.withProbabilities() : result;
    }

    private static Converter.Result wrap(Source src, Converter.Kind kind, String sha, ConvertOptions o) {
        int steps = src.steps();
        int features = src.features();
        int[] outShape = src.outShape() != null ? src.outShape() : outputShape(src.network(), o);
        Source.Body body = src.body();
        Source.Pass pass = src.pass();
        String origin = src.origin();
        OnnxMl.ModelProto opsetsOf = src.opsetsOf();
        Source.Signature signature = src.signature();
        GraphBuilder g = src.network() != null ? new GraphBuilder(src.graphName())
                : new GraphBuilder(src.graphName(), "lstmcast/");
        Preprocessor pre = preprocessor(steps, features, outShape, o);
        List<String> notes = new ArrayList<>(src.changes());
        if (pre != null) {
            g.proto().addInput(GraphBuilder.floatValue(ForecastSpec.INPUT, "batch", "sequence", (long) features));
            g.proto().addOutput(GraphBuilder.floatValue(ForecastSpec.OUTPUT, "batch", (long) pre.horizon()));
            String window = g.slice(ForecastSpec.INPUT, new long[] {-pre.lookback()}, new long[] {Long.MAX_VALUE}, new long[] {1});
            String z = ForecastGraph.transform(g, pre, window);
            unscaleAndRebuild(g, pre, body.write(g, z));
        } else {
            Object time = steps > 0 ? (Object) (long) steps : "sequence";
            g.proto().addInput(GraphBuilder.floatValue(ForecastSpec.INPUT, "batch", time, (long) features));
            Object[] dims = new Object[outShape.length];
            dims[0] = "batch";
            for (int i = 1; i < dims.length; i++) {
                dims[i] = (long) outShape[i];
            }
            g.proto().addOutput(GraphBuilder.floatValue("output", dims));
            g.node("Identity", List.of(body.write(g, ForecastSpec.INPUT)), List.of(), "output");
            notes.add(outShape.length == 2 && steps < 0
                    ? "the source leaves its time axis open: pass --lookback N to serve it as a forecaster"
                    : "the output " + Arrays.toString(outShape) + " is not [batch, horizon]: converted as a plain model, no forecasting wrapper");
        }
        if (signature != null) {
            presentAs(g, signature, pre, pre != null ? ForecastSpec.OUTPUT : "output");
        }
        OnnxMl.ModelProto model = model(g, origin, kind, sha, pre, o, features);
        if (opsetsOf != null) {
            // A wrapped ONNX source keeps its own opsets and IR version: raising them could change what its nodes mean.
            model = model.toBuilder().clearOpsetImport().addAllOpsetImport(opsetsOf.getOpsetImportList())
                    .setIrVersion(opsetsOf.getIrVersion()).build();
        }
        // An open time axis without --lookback is proven on windows of 8 steps, as good as any length for equality.
        int windowRows = pre != null ? pre.lookback() : steps > 0 ? steps : o.lookback() > 0 ? o.lookback() : 8;
        List<double[][]> windows = windows(o, pre, features, windowRows);
        Function<double[][], double[]> reference = window -> {
            if (pre == null) {
                return pass.run(window);
            }
            float[][] in = pre.input(window);
            double[][] x = new double[in.length][];
            for (int t = 0; t < in.length; t++) {
                x[t] = new double[in[t].length];
                for (int f = 0; f < in[t].length; f++) {
                    x[t][f] = in[t][f];
                }
            }
            double[] y = pass.run(x);
            float[] yf = new float[y.length];
            for (int i = 0; i < y.length; i++) {
                yf[i] = (float) y[i];
            }
            return pre.rebuild(window, yf);
        };
        Proof.Parity parity = Proof.prove(model.toByteArray(), windows,
                ws -> ws.stream().map(reference).toArray(double[][]::new), null);
        return new Converter.Result(withProof(model, parity), kind, origin, sha, src.layers(), notes, parity, pre != null,
                pre != null ? pre.lookback() : 0, pre != null ? pre.horizon() : 0);
    }

    /**
     * Gives the wrapper's graph input and output the source's names, dims and types. The wrapper is written with
     * {@code input} and {@code forecast} (or {@code output}) because the forecasting nodes it shares with {@code train}'s
     * exports read those names; the body's own values by those names were renamed before it was written. The dims are
     * the source's where the wrapper accepts what they say: a fixed time axis stays fixed when the wrapper reads
     * exactly that many rows (not with transform diff, which reads one row more), and a {@code [batch, horizon, 1]}
     * output gets its trailing axis back.
     */
    private static void presentAs(GraphBuilder g, Source.Signature s, Preprocessor pre, String wrapperOut) {
        OnnxMl.GraphProto.Builder graph = g.proto();
        String in = s.input().getName();
        String out = s.output().getName();
        // First the output off its name, so that a source whose input is called "forecast" or "output" finds it free.
        String produced = g.fresh("result");
        renameValue(graph, wrapperOut, produced);
        renameValue(graph, ForecastSpec.INPUT, in);

        List<OnnxMl.TensorShapeProto.Dimension> inDims = s.input().getType().getTensorType().getShape().getDimList();
        Object batch = dim(inDims.get(0), "batch");
        Object time = dim(inDims.get(1), "sequence");
        if (pre != null && time instanceof Long fixed && fixed != pre.lookback()) {
            time = "sequence";
        }
        long features = inDims.get(2).getDimValue();
        OnnxMl.ValueInfoProto input = GraphBuilder.floatValue(in, batch, time, features);
        List<String> described = List.of(String.valueOf(batch), String.valueOf(time), String.valueOf(features));
        if (OnnxInspector.timeMajorByName(new ModelReport.Tensor(in, "FLOAT", described))) {
            // Dims named like [sequence, batch] on a batch-major input would have inspect and serve read it time-major.
            input = GraphBuilder.floatValue(in, "batch", pre != null ? "sequence" : time, features);
        }
        OnnxMl.ValueInfoProto declared = graph.getOutput(0);
        List<OnnxMl.TensorShapeProto.Dimension> wrapperDims = declared.getType().getTensorType().getShape().getDimList();
        OnnxMl.TypeProto.Tensor sourceOut = s.output().getType().getTensorType();
        List<OnnxMl.TensorShapeProto.Dimension> outDims = sourceOut.getShape().getDimList();
        boolean trailingOne = pre != null && outDims.size() == 3 && outDims.get(2).hasDimValue()
                && outDims.get(2).getDimValue() == 1;
        OnnxMl.ValueInfoProto output;
        if (trailingOne) {
            output = GraphBuilder.floatValue(out, dim(outDims.get(0), "batch"), (long) pre.horizon(), 1L);
            g.node("Unsqueeze", List.of(produced, g.longs(2)), List.of(), out);
        } else {
            Object[] dims = new Object[wrapperDims.size()];
            for (int i = 0; i < dims.length; i++) {
                OnnxMl.TensorShapeProto.Dimension w = wrapperDims.get(i);
                Object wrapper = w.hasDimValue() ? (Object) w.getDimValue() : w.getDimParam();
                OnnxMl.TensorShapeProto.Dimension src = outDims.size() == dims.length ? outDims.get(i) : null;
                // The batch axis keeps the source's name. Past it the wrapper's sizes are what the body computed on a
                // probe window, so a plain model (the body itself) keeps the axes its source leaves open, open.
                boolean sourceSays = src != null && (i == 0 || pre == null && !src.hasDimValue());
                dims[i] = sourceSays ? dim(src, wrapper) : wrapper;
            }
            output = GraphBuilder.floatValue(out, dims);
            g.node("Identity", List.of(produced), List.of(), out);
        }
        graph.clearInput().addInput(input).clearOutput().addOutput(output);
    }

    /** A dim as {@link GraphBuilder#floatValue} takes it: fixed as a Long, symbolic as its name, else {@code unnamed}. */
    private static Object dim(OnnxMl.TensorShapeProto.Dimension d, Object unnamed) {
        if (d.hasDimValue()) {
            return d.getDimValue();
        }
        return d.hasDimParam() && !d.getDimParam().isEmpty() ? d.getDimParam() : unnamed;
    }

    /** Every top-level node's reference to {@code from}, read or written, becomes {@code to}. */
    private static void renameValue(OnnxMl.GraphProto.Builder graph, String from, String to) {
        for (OnnxMl.NodeProto.Builder n : graph.getNodeBuilderList()) {
            for (int i = 0; i < n.getInputCount(); i++) {
                if (n.getInput(i).equals(from)) {
                    n.setInput(i, to);
                }
            }
            for (int i = 0; i < n.getOutputCount(); i++) {
                if (n.getOutput(i).equals(from)) {
                    n.setOutput(i, to);
                }
            }
        }
    }

    /** The network's output shape for one window, from the reference pass (batch 1). */
    private static int[] outputShape(Network net, ConvertOptions o) {
        if (o.transform().anchorSeasons() > 0 || o.transform() == Transform.AUTO) {
            throw new ConversionException("transform " + o.transform().id() + " is for networks lstmcast trains; a "
                    + "converted model's preprocessing is level, diff or relative");
        }
        int steps = net.steps() > 0 ? net.steps() : o.transform().networkSteps(Math.max(o.lookback(), 2));
        ReferencePass.Values v = ReferencePass.run(net, new double[1][steps][net.features()]);
        int width = v.data()[0][0].length;
        return v.rank() == 2 ? new int[] {1, width} : new int[] {1, v.data()[0].length, width};
    }

    /** The forecasting wrapper's parameters, or null when the model is not a forecaster of [batch, horizon]. */
    private static Preprocessor preprocessor(int steps, int f, int[] outShape, ConvertOptions o) {
        int horizon;
        if (outShape.length == 2) {
            horizon = outShape[1];
        } else if (outShape[2] == 1) {
            horizon = outShape[1];
        } else {
            return null;
        }
        int lookback;
        if (steps > 0) {
            lookback = o.transform() == Transform.DIFF ? steps + 1 : steps;
            if (o.lookback() > 0 && o.lookback() != lookback) {
                throw new ConversionException("--lookback " + o.lookback() + " disagrees with the model, which takes "
                        + steps + " time steps (" + lookback + " raw rows with transform " + o.transform().id() + ")");
            }
        } else if (o.lookback() > 0) {
            if (o.lookback() > 100_000) {
                throw new ConversionException("--lookback " + o.lookback() + " is above 100000 rows");
            }
            lookback = o.lookback();
        } else {
            return null;
        }
        if (lookback < 2) {
            return null;
        }
        if (o.targetIndex() < 0 || o.targetIndex() >= f) {
            throw new ConversionException("--target-index " + o.targetIndex() + " is outside the model's "
                    + Text.plural(f, "feature") + " (0 to " + (f - 1) + ")");
        }
        double[][] minMax = scaler(o, f);
        double[] inShift = new double[f];
        double[] inScale = new double[f];
        for (int i = 0; i < f; i++) {
            inShift[i] = minMax == null ? 0 : minMax[0][i];
            // As scikit-learn's MinMaxScaler: a constant feature gets scale 1, not a division by zero.
            double range = minMax == null ? 1 : minMax[1][i] - minMax[0][i];
            inScale[i] = range == 0 ? 1 : range;
        }
        double[] outShift = new double[horizon];
        double[] outScale = new double[horizon];
        Arrays.fill(outShift, inShift[o.targetIndex()]);
        Arrays.fill(outScale, inScale[o.targetIndex()]);
        return new Preprocessor(o.transform(), lookback, horizon, o.targetIndex(), inShift, inScale, outShift, outScale);
    }

    /** {@code [min[], max[]]} per feature from the options, or null for a model trained on raw values. */
    static double[][] scaler(ConvertOptions o, int features) {
        if (o.scaleMin() != null || o.scaleMax() != null) {
            if (o.scaleMin() == null || o.scaleMax() == null || o.scaleMin().length != features || o.scaleMax().length != features) {
                throw new ConversionException("--scale-min and --scale-max need one value per input feature (" + features + ")");
            }
            for (int i = 0; i < features; i++) {
                if (!(o.scaleMax()[i] >= o.scaleMin()[i])) {
                    throw new ConversionException("--scale-max must not be below --scale-min (feature " + i + ")");
                }
            }
            return new double[][] {o.scaleMin().clone(), o.scaleMax().clone()};
        }
        if (o.fitScaler() == null) {
            return null;
        }
        if (o.columns().size() != features) {
            throw new ConversionException("--fit-scaler needs --columns naming the model's " + features + " input features in order");
        }
        if (o.transform() == Transform.RELATIVE) {
            throw new ConversionException("--fit-scaler fits levels or differences; for transform relative pass --scale-min/--scale-max");
        }
        Series series = CsvReader.read(o.fitScaler(), o.columns(), null);
        int rows = o.trainRows() > 0 ? o.trainRows() : series.rows();
        if (rows > series.rows() || rows < 2) {
            throw new ConversionException("--train-rows " + rows + " is outside the " + series.rows() + " rows of " + o.fitScaler());
        }
        double[] min = new double[features];
        double[] max = new double[features];
        Arrays.fill(min, Double.POSITIVE_INFINITY);
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        boolean diff = o.transform() == Transform.DIFF;
        for (int r = diff ? 1 : 0; r < rows; r++) {
            for (int f = 0; f < features; f++) {
                double v = diff ? series.values()[r][f] - series.values()[r - 1][f] : series.values()[r][f];
                min[f] = Math.min(min[f], v);
                max[f] = Math.max(max[f], v);
            }
        }
        return new double[][] {min, max};
    }

    static void unscaleAndRebuild(GraphBuilder g, Preprocessor pre, String y) {
        // [batch, horizon] or [batch, horizon, 1] alike become [batch, horizon].
        ForecastGraph.unscaleAndRebuild(g, pre, g.node("Reshape", y, g.longs(0, -1)));
    }

    static OnnxMl.ModelProto model(GraphBuilder g, String origin, Converter.Kind kind, String sha, Preprocessor pre, ConvertOptions o,
                                   int features) {
        return ForecastGraph.model(g, "Converted by lstmcast " + Version.get() + " from " + origin
                        + (pre != null ? ": raw values in, forecasts in original units out." : "."),
                metadata(origin, kind, sha, pre, o, features));
    }

    static Map<String, String> metadata(String origin, Converter.Kind kind, String sha, Preprocessor pre, ConvertOptions o, int features) {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            if (pre != null) {
                List<String> names = featureNames(o, features);
                m.put(ForecastSpec.KEY_LOOKBACK, Integer.toString(pre.lookback()));
                m.put(ForecastSpec.KEY_HORIZON, Integer.toString(pre.horizon()));
                m.put(ForecastSpec.KEY_FEATURES, JSON.writeValueAsString(names));
                m.put(ForecastSpec.KEY_TARGET, names.get(pre.targetIndex()));
                m.put(ForecastSpec.KEY_TRANSFORM, pre.transform().id());
                Map<String, Object> scaler = new LinkedHashMap<>();
                scaler.put("kind", "min_max");
                scaler.put("min", pre.inShift());
                scaler.put("range", pre.inScale());
                scaler.put("target_index", pre.targetIndex());
                m.put("scaler", JSON.writeValueAsString(scaler));
            }
            m.put("converted_from", kind.name().toLowerCase());
            m.put("source_format", origin);
            m.put("source_sha256", sha);
            m.put("lstmcast_version", Version.get());
            m.put("created", Instant.now().toString());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return m;
    }

    private static List<String> featureNames(ConvertOptions o, int features) {
        if (o.columns() != null && o.columns().size() == features) {
            return o.columns();
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < features; i++) {
            names.add(features == 1 ? "value" : "feature_" + i);
        }
        return names;
    }

    /** Windows in raw units: from {@code --data} when given, else drawn within the scaler's range. */
    static List<double[][]> windows(ConvertOptions o, Preprocessor pre, int features, int rows) {
        Random random = new Random(20261202L);
        List<double[][]> out = new ArrayList<>();
        if (o.data() != null) {
            if (o.columns().size() != features) {
                throw new ConversionException("--data needs --columns naming the model's " + features + " input features in order");
            }
            Series s = CsvReader.read(o.data(), o.columns(), null);
            if (s.rows() < rows) {
                throw new ConversionException(o.data() + " has " + Text.plural(s.rows(), "row") + "; a window needs " + rows);
            }
            for (int i = 0; i < o.proofWindows(); i++) {
                int start = random.nextInt(s.rows() - rows + 1);
                out.add(Arrays.copyOfRange(s.values(), start, start + rows));
            }
            return out;
        }
        for (int i = 0; i < o.proofWindows(); i++) {
            double[][] w = new double[rows][features];
            for (int f = 0; f < features; f++) {
                double lo = pre == null ? 0 : pre.inShift()[f];
                double span = pre == null ? 1 : pre.inScale()[f];
                for (int t = 0; t < rows; t++) {
                    double u = random.nextDouble();
                    w[t][f] = switch (pre == null ? Transform.LEVEL : pre.transform()) {
                        case LEVEL -> lo + span * u;
                        // A walk whose steps fall within the fitted range of differences.
                        case DIFF -> (t == 0 ? 100 : w[t - 1][f]) + lo + span * u;
                        case RELATIVE -> 100 * (1 + u);
                        case SEASONAL, SEASONAL_MEAN, AUTO -> throw new IllegalStateException("refused in outputShape");
                    };
                }
            }
            out.add(w);
        }
        return out;
    }

    /**
     * Whether the network's last activation is a softmax (a {@code Dense(k, softmax)} head, or an {@code Activation}
     * layer after it, with only reshaping behind): a classifier, whose k outputs are probabilities, not k forecasts.
     */
    static boolean softmaxHead(Network net) {
        for (int i = net.layers().size() - 1; i >= 0; i--) {
            Layer layer = net.layers().get(i);
            if (layer instanceof Layer.Flatten || layer instanceof Layer.Reshape) {
                continue;
            }
            return layer instanceof Layer.Dense d && d.activation() == Activation.SOFTMAX
                    || layer instanceof Layer.Act a && a.activation() == Activation.SOFTMAX;
        }
        return false;
    }

    static OnnxMl.ModelProto withProof(OnnxMl.ModelProto model, Proof.Parity parity) {
        OnnxMl.ModelProto.Builder b = model.toBuilder();
        b.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey("proof").setValue(parity.toJson()));
        return b.build();
    }

}
