package org.lstmcast.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import org.lstmcast.data.DataException;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.forecast.Ort;
import org.lstmcast.forecast.OrtErrors;

/**
 * Reads any ONNX file: its signature, opsets, operators and metadata, and decides whether lstmcast can forecast
 * with it. The graph is treated as a black box judged by its declared inputs and outputs; only known traps
 * (an LSTM with {@code layout=1}, external data outside the model's folder) are looked for inside.
 */
public final class OnnxInspector {
    /** How a problem that stops ONNX Runtime from loading the file begins. */
    public static final String LOAD_FAILURE = "ONNX Runtime cannot load it: ";

    private OnnxInspector() {
    }

    /** The file's {@code metadata_props}, without loading it into ONNX Runtime. */
    public static Map<String, String> metadata(Path file) {
        Map<String, String> metadata = new LinkedHashMap<>();
        parse(file).getMetadataPropsList().forEach(p -> metadata.put(p.getKey(), p.getValue()));
        return metadata;
    }

    public static ModelReport inspect(Path file) {
        return inspect(file, true);
    }

    /**
     * @param tryRuntime whether to also try loading the file in ONNX Runtime; a caller about to load it anyway
     *                   (the server) skips this and reports the runtime's own error if loading fails
     */
    public static ModelReport inspect(Path file, boolean tryRuntime) {
        OnnxMl.ModelProto model = parse(file);
        OnnxMl.GraphProto graph = model.getGraph();
        Set<String> initializers = new HashSet<>();
        graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
        List<ModelReport.Tensor> inputs = new ArrayList<>();
        for (OnnxMl.ValueInfoProto v : graph.getInputList()) {
            if (!initializers.contains(v.getName())) {
                inputs.add(tensor(v));
            }
        }
        List<ModelReport.Tensor> outputs = graph.getOutputList().stream().map(OnnxInspector::tensor).toList();
        Map<String, Long> opsets = new LinkedHashMap<>();
        model.getOpsetImportList().forEach(o -> opsets.put(o.getDomain().isEmpty() ? "ai.onnx" : o.getDomain(), o.getVersion()));
        Map<String, Integer> operators = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        walk(graph, operators, problems);
        int before = problems.size();
        checkExternalData(graph, problems);
        boolean unsafe = problems.size() > before;
        Map<String, String> metadata = new LinkedHashMap<>();
        model.getMetadataPropsList().forEach(p -> metadata.put(p.getKey(), p.getValue()));

        ForecastSpec spec = forecastSpec(inputs, outputs, metadata, problems, notes);
        // Never hand ONNX Runtime a file that would make it read outside the model's folder.
        if (!unsafe && tryRuntime) {
            spec = tryRuntime(file, spec, problems, notes);
        }
        String producer = (model.getProducerName() + " " + model.getProducerVersion()).trim();
        return new ModelReport(file.toString(), model.getIrVersion(), opsets, producer, model.getDocString(), inputs,
                outputs, operators, metadata, problems.isEmpty(), problems, notes, problems.isEmpty() ? spec : null, unsafe);
    }

    private static OnnxMl.ModelProto parse(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DataException(file + ": no such file");
        }
        OnnxMl.ModelProto model;
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setRecursionLimit(256);
            coded.setSizeLimit(Integer.MAX_VALUE);
            model = OnnxMl.ModelProto.parseFrom(coded);
        } catch (InvalidProtocolBufferException e) {
            throw new DataException(file + ": not an ONNX model (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new DataException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0 && model.getGraph().getOutputCount() == 0) {
            throw new DataException(file + ": not an ONNX model (no graph)");
        }
        return model;
    }

    private static ForecastSpec forecastSpec(List<ModelReport.Tensor> inputs, List<ModelReport.Tensor> outputs,
                                             Map<String, String> metadata, List<String> problems, List<String> notes) {
        ForecastSpec fromMeta = null;
        try {
            fromMeta = ForecastSpec.fromMetadata(metadata);
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        if (inputs.size() != 1) {
            problems.add("it has " + inputs.size() + " inputs " + names(inputs)
                    + "; a forecaster takes exactly one, [batch, sequence, features]");
            return null;
        }
        ModelReport.Tensor in = inputs.get(0);
        boolean timeMajor = in.rank() == 3 && timeMajorByName(in);
        if (!in.type().equals("FLOAT")) {
            problems.add("input '" + in.name() + "' is " + in.type() + ", not a FLOAT sequence");
        }
        if (in.rank() != 3) {
            problems.add("input '" + in.name() + "' has rank " + in.rank() + " " + in.dims()
                    + "; a sequence model reads [batch, sequence, features]");
            return null;
        }
        ModelReport.Tensor out;
        if (outputs.size() == 1) {
            out = outputs.get(0);
        } else {
            out = outputs.stream().filter(o -> o.name().equals(ForecastSpec.OUTPUT)).findFirst().orElse(null);
            if (out == null) {
                problems.add("it has " + outputs.size() + " outputs " + names(outputs) + " and none is named '"
                        + ForecastSpec.OUTPUT + "': name the forecast output in the model's config");
                return null;
            }
        }
        if (!out.type().equals("FLOAT")) {
            problems.add("output '" + out.name() + "' is " + out.type() + ", not FLOAT");
        }
        boolean trailingOne = out.rank() == 3 && out.fixed(2) == 1;
        if (out.rank() != 2 && !trailingOne) {
            problems.add("output '" + out.name() + "' has shape " + out.dims() + "; a forecast is [batch, horizon]");
            return null;
        }
        if (fromMeta != null) {
            if (!fromMeta.inputName().equals(in.name()) || !fromMeta.outputName().equals(out.name())) {
                fromMeta = new ForecastSpec(in.name(), out.name(), fromMeta.lookback(), fromMeta.horizon(),
                        fromMeta.features(), fromMeta.target(), fromMeta.transform(), fromMeta.timeColumn());
            }
            return fromMeta.withTimeMajor(timeMajor);
        }
        notes.add("no lstmcast metadata: windows go in and outputs come out as they are; any scaling the model was "
                + "trained with is the caller's to apply");
        if (timeMajor) {
            notes.add("its input's dimensions are named " + in.dims() + ": windows are fed time-major, [sequence, batch, features]");
        }
        long seq = in.fixed(timeMajor ? 0 : 1);
        long features = in.fixed(2);
        long horizon = out.fixed(1);
        if (features < 1) {
            problems.add("the number of input features (dim 2 of '" + in.name() + "') is not fixed");
            return null;
        }
        if (horizon < 1) {
            problems.add("the horizon (dim 1 of '" + out.name() + "') is not fixed");
            return null;
        }
        if (seq < 1) {
            notes.add("the sequence length is dynamic and no lookback is recorded: a forecast uses the windows as sent");
        }
        List<String> names = new ArrayList<>();
        for (int f = 0; f < features; f++) {
            names.add(features == 1 ? "value" : "feature_" + f);
        }
        return new ForecastSpec(in.name(), out.name(), seq > 0 ? (int) seq : 0, (int) horizon, names, names.get(0), null, null,
                timeMajor);
    }

    private static final Pattern SEQUENCE_NAME = Pattern.compile(
            "(?i)(seq|sequence|seq_?len|sequence_?length|time|time_?steps?|steps|t|len|length)");
    private static final Pattern BATCH_NAME = Pattern.compile(
            "(?i)(batch|batch_?size|n|b|N|unk__\\d+)");

    /**
     * Whether the input's dimension names say time-major, {@code [seq, batch, features]}: the first named like a
     * sequence, the second like a batch. Models exported from time-major graphs (a raw ONNX LSTM) name them so.
     * Public so that {@code convert} judges an input by the same rule as {@code inspect} and {@code serve}.
     */
    public static boolean timeMajorByName(ModelReport.Tensor in) {
        String first = in.dims().get(0);
        String second = in.dims().get(1);
        return SEQUENCE_NAME.matcher(first).matches() && BATCH_NAME.matcher(second).matches()
                && !BATCH_NAME.matcher(first).matches();
    }

    private static void walk(OnnxMl.GraphProto graph, Map<String, Integer> operators, List<String> problems) {
        for (OnnxMl.NodeProto node : graph.getNodeList()) {
            String op = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx") ? node.getOpType()
                    : node.getDomain() + "." + node.getOpType();
            operators.merge(op, 1, Integer::sum);
            for (OnnxMl.AttributeProto a : node.getAttributeList()) {
                if (Set.of("LSTM", "GRU", "RNN").contains(node.getOpType()) && a.getName().equals("layout") && a.getI() == 1) {
                    problems.add(node.getOpType() + " node '" + node.getName() + "' uses layout=1 (batch-first), which ONNX Runtime "
                            + "does not run; `lstmcast convert` rewrites it to layout 0 with Transposes (and `serve` does so "
                            + "when the file is dropped in)");
                }
                if (a.hasG()) {
                    walk(a.getG(), operators, problems);
                }
                a.getGraphsList().forEach(g -> walk(g, operators, problems));
            }
        }
    }

    private static void checkExternalData(OnnxMl.GraphProto graph, List<String> problems) {
        for (OnnxMl.TensorProto t : graph.getInitializerList()) {
            if (t.getDataLocation() != OnnxMl.TensorProto.DataLocation.EXTERNAL) {
                continue;
            }
            for (OnnxMl.StringStringEntryProto e : t.getExternalDataList()) {
                if (e.getKey().equals("location")) {
                    Path p = Path.of(e.getValue()).normalize();
                    if (p.isAbsolute() || p.startsWith("..") || e.getValue().contains("\0")) {
                        problems.add("initializer '" + t.getName() + "' keeps its data at '" + e.getValue()
                                + "', outside the model's folder");
                    }
                }
            }
        }
    }

    /**
     * Loads the file in ONNX Runtime and, when it looks like a forecaster, makes one test run as the server does at
     * load (see {@link OnnxForecaster#probe()}), so that {@code inspect} and {@code serve} judge a model alike.
     * Returns the spec to forecast with (its layout corrected by the run when it has to be), or null.
     */
    private static ForecastSpec tryRuntime(Path file, ForecastSpec spec, List<String> problems, List<String> notes) {
        try (OrtSession.SessionOptions options = Ort.sessionOptions();
             OrtSession session = Ort.environment().createSession(file.toString(), options)) {
            if (spec == null || !problems.isEmpty()) {
                return spec;
            }
            String problem = OnnxForecaster.over(session, spec, null).probe();
            if (problem == null) {
                return spec;
            }
            ForecastSpec other = spec.withTimeMajor(!spec.timeMajor());
            if (OnnxForecaster.over(session, other, null).probe() == null) {
                notes.add("a test run shows it reads its input " + (other.timeMajor()
                        ? "time-major, [sequence, batch, features]" : "batch-first, [batch, sequence, features]"));
                return other;
            }
            problems.add("cannot forecast with it: " + problem + "; if its input is laid out otherwise or needs "
                    + "scaling, say so in a forecast.json beside its versions, e.g. {\"layout\": \""
                    + (spec.timeMajor() ? "batch_major" : "time_major") + "\", \"lookback\": 30}");
            return null;
        } catch (OrtException e) {
            problems.add(LOAD_FAILURE + OrtErrors.message(e));
            return null;
        } catch (RuntimeException e) {
            problems.add("cannot forecast with it: " + e.getMessage());
            return null;
        }
    }

    private static ModelReport.Tensor tensor(OnnxMl.ValueInfoProto v) {
        String type = "?";
        List<String> dims = new ArrayList<>();
        if (v.getType().hasTensorType()) {
            OnnxMl.TypeProto.Tensor t = v.getType().getTensorType();
            type = OnnxMl.TensorProto.DataType.forNumber(t.getElemType()) == null ? "?" :
                    OnnxMl.TensorProto.DataType.forNumber(t.getElemType()).name();
            for (OnnxMl.TensorShapeProto.Dimension d : t.getShape().getDimList()) {
                dims.add(d.hasDimValue() ? Long.toString(d.getDimValue()) : d.hasDimParam() ? d.getDimParam() : "?");
            }
        } else if (v.getType().hasSequenceType()) {
            type = "SEQUENCE";
        } else if (v.getType().hasMapType()) {
            type = "MAP";
        }
        return new ModelReport.Tensor(v.getName(), type, dims);
    }

    private static List<String> names(List<ModelReport.Tensor> tensors) {
        return tensors.stream().map(ModelReport.Tensor::name).toList();
    }
}
