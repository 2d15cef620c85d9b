package org.lstmcast.convert.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.InvalidProtocolBufferException;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Ort;
import org.lstmcast.model.ConversionException;
import org.lstmcast.model.Source;

/**
 * ONNX sources: normalised so that ONNX Runtime runs them ({@link OnnxNormalizer}), wrapped like any converted model,
 * and proven against the source itself where ONNX Runtime can run it, else against {@link OnnxReference}.
 */
public final class OnnxSource {
    private OnnxSource() {
    }

    /**
     * The source as the converter takes it. {@code timeMajor}, {@code inputName} and {@code outputName} choose its input's
     * layout and its tensors when it does not say (null: detect, or the only one); {@code probeSteps} is the time length
     * its output is probed with when it leaves time open.
     */
    public static Source read(Path source, Boolean timeMajor, String inputName, String outputName, int probeSteps)
            throws IOException {
        OnnxMl.ModelProto model;
        try {
            model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(source));
        } catch (InvalidProtocolBufferException e) {
            throw new ConversionException(source.getFileName() + " is neither a Keras HDF5 file, a DL4J zip nor an ONNX model");
        }
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
            throw new ConversionException(source.getFileName() + " is neither a Keras HDF5 file, a DL4J zip nor an ONNX model");
        }
        OnnxNormalizer.Normalized n;
        try {
            n = OnnxNormalizer.normalize(model, timeMajor, inputName, outputName);
        } catch (IllegalArgumentException e) {
            throw new ConversionException(e.getMessage(), e);
        }
        OnnxMl.GraphProto body = n.model().getGraph();
        OnnxMl.ValueInfoProto in = body.getInputList().stream().filter(v -> v.getName().equals(n.input())).findFirst().orElseThrow();
        List<OnnxMl.TensorShapeProto.Dimension> dims = in.getType().getTensorType().getShape().getDimList();
        int steps = dims.get(1).hasDimValue() ? (int) dims.get(1).getDimValue() : -1;
        int features = (int) dims.get(2).getDimValue();
        boolean sourceTimeMajor = !sameDims(model, n);
        Source.Pass pass = sourcePass(model, n, sourceTimeMajor);
        double[] probe = pass.run(new double[steps > 0 ? steps : probeSteps][features]);
        OnnxMl.ValueInfoProto out = body.getOutputList().stream().filter(v -> v.getName().equals(n.output())).findFirst().orElseThrow();
        List<OnnxMl.TensorShapeProto.Dimension> outDims = out.getType().getTensorType().getShape().getDimList();
        int[] outShape;
        if (outDims.size() == 3 && outDims.get(2).hasDimValue() && outDims.get(2).getDimValue() > 1) {
            int width = (int) outDims.get(2).getDimValue();
            outShape = new int[] {1, probe.length / width, width};
        } else if (outDims.size() == 3) {
            outShape = new int[] {1, probe.length, 1};
        } else {
            outShape = new int[] {1, probe.length};
        }
        if (opsetOf(n.model()) < 13) {
            throw new ConversionException("the model declares opset " + opsetOf(n.model())
                    + "; converting needs opset 13 or later (re-export it with a newer exporter)");
        }
        // The wrapper presents the source's input and output names (Source.Signature), so the body's values by
        // those names move aside, as do values named like the wrapper's own input and output.
        Set<String> used = new HashSet<>();
        body.getNodeList().forEach(node -> {
            used.addAll(node.getInputList());
            used.addAll(node.getOutputList());
        });
        body.getInitializerList().forEach(t -> used.add(t.getName()));
        body.getValueInfoList().forEach(v -> used.add(v.getName()));
        body.getInputList().forEach(v -> used.add(v.getName()));
        body.getOutputList().forEach(v -> used.add(v.getName()));
        Map<String, String> renames = new HashMap<>();
        for (String reserved : List.of(ForecastSpec.INPUT, ForecastSpec.OUTPUT, "output", n.input(), n.output())) {
            String moved = "source/" + reserved;
            for (int k = 1; used.contains(moved); k++) {
                moved = "source/" + reserved + "_" + k;
            }
            used.add(moved);
            renames.putIfAbsent(reserved, moved);
        }
        String bodyIn = renames.get(n.input());
        String bodyOut = renames.get(n.output());
        Source.Signature signature = new Source.Signature(in, out);
        Source.Body write = (g, z) -> {
            // The body's graph input becomes an inner value fed by the wrapper; its nodes and weights come along as they
            // are, except the renamed values (subgraphs that read them from the outer graph included).
            g.node("Identity", List.of(z), List.of(), bodyIn);
            for (OnnxMl.NodeProto node : body.getNodeList()) {
                OnnxMl.NodeProto.Builder b = node.toBuilder();
                for (Map.Entry<String, String> r : renames.entrySet()) {
                    b = OnnxNormalizer.renameInput(b.build(), r.getKey(), r.getValue()).toBuilder();
                }
                for (int i = 0; i < b.getOutputCount(); i++) {
                    b.setOutput(i, renames.getOrDefault(b.getOutput(i), b.getOutput(i)));
                }
                g.proto().addNode(b);
            }
            body.getInitializerList().forEach(t -> g.proto().addInitializer(t.toBuilder().setName(renames.getOrDefault(t.getName(), t.getName()))));
            g.proto().addAllSparseInitializer(body.getSparseInitializerList());
            body.getValueInfoList().forEach(v -> g.proto().addValueInfo(v.toBuilder().setName(renames.getOrDefault(v.getName(), v.getName()))));
            return bodyOut;
        };
        String origin = "ONNX from " + (model.getProducerName().isEmpty() ? "an unnamed producer"
                : model.getProducerName() + " " + model.getProducerVersion()).trim() + ", opset " + opsetOf(model);
        return new Source(origin, body.getName().isEmpty() ? "lstmcast_converted" : body.getName(), steps, features, null,
                write, pass, outShape, List.of(body.getNodeCount() + " nodes"), n.changes(), n.model(), signature);
    }

    /** An ONNX file ONNX Runtime cannot run as it is: a recurrent node with {@code layout=1}. */
    public static boolean needsNormalising(Path onnx) throws IOException {
        OnnxMl.ModelProto model;
        try (InputStream in = Files.newInputStream(onnx)) {
            model = OnnxMl.ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            return false;
        }
        return model.getGraph().getNodeList().stream()
                .filter(n -> List.of("LSTM", "GRU", "RNN").contains(n.getOpType()))
                .anyMatch(n -> n.getAttributeList().stream().anyMatch(a -> a.getName().equals("layout") && a.getI() == 1));
    }

    /** The default domain's opset the model declares. */
    static long opsetOf(OnnxMl.ModelProto model) {
        return model.getOpsetImportList().stream().filter(op -> op.getDomain().isEmpty() || op.getDomain().equals("ai.onnx"))
                .mapToLong(OnnxMl.OperatorSetIdProto::getVersion).max().orElse(0);
    }

    private static double[] runOnce(OrtSession session, Map<String, OnnxTensor> feed, String output) throws OrtException {
        try (OrtSession.Result r = session.run(feed, Set.of(output))) {
            FloatBuffer values = ((OnnxTensor) r.get(0)).getFloatBuffer();
            double[] out = new double[values.remaining()];
            for (int i = 0; i < out.length; i++) {
                out[i] = values.get();
            }
            return out;
        }
    }

    /** Whether the normaliser kept the chosen input's layout (false: the source is time-major). */
    private static boolean sameDims(OnnxMl.ModelProto source, OnnxNormalizer.Normalized n) {
        OnnxMl.ValueInfoProto before = source.getGraph().getInputList().stream()
                .filter(v -> v.getName().equals(n.input())).findFirst().orElse(null);
        OnnxMl.ValueInfoProto after = n.model().getGraph().getInputList().stream()
                .filter(v -> v.getName().equals(n.input())).findFirst().orElse(null);
        return before == null || after == null
                || before.getType().getTensorType().getShape().equals(after.getType().getTensorType().getShape());
    }

    /**
     * The source's own answers for one window {@code [steps][features]}: ONNX Runtime on the source file as it is when
     * it can run it, else the reference evaluator on the source graph.
     */
    private static Source.Pass sourcePass(OnnxMl.ModelProto model, OnnxNormalizer.Normalized n, boolean timeMajor) {
        byte[] bytes = model.toByteArray();
        boolean runnable;
        try (OrtSession.SessionOptions opts = Ort.sessionOptions();
             OrtSession ignored = Ort.environment().createSession(bytes, opts)) {
            runnable = true;
        } catch (OrtException e) {
            runnable = false;
        }
        boolean ort = runnable;
        // Inputs the chosen output does not need (the normaliser refuses otherwise) get zeros of their declared shape.
        Map<String, long[]> others = new HashMap<>();
        Set<String> initializers = new HashSet<>();
        model.getGraph().getInitializerList().forEach(t -> initializers.add(t.getName()));
        for (OnnxMl.ValueInfoProto v : model.getGraph().getInputList()) {
            if (!v.getName().equals(n.input()) && !initializers.contains(v.getName())) {
                others.put(v.getName(), v.getType().getTensorType().getShape().getDimList().stream()
                        .mapToLong(d -> d.hasDimValue() ? d.getDimValue() : 1).toArray());
            }
        }
        return window -> {
            int steps = window.length;
            int features = window[0].length;
            // For one window, time-major [steps, 1, F] and batch-major [1, steps, F] hold the same values in the same order.
            long[] shape = timeMajor ? new long[] {steps, 1, features} : new long[] {1, steps, features};
            double[] flat = new double[steps * features];
            for (int t = 0; t < steps; t++) {
                System.arraycopy(window[t], 0, flat, t * features, features);
            }
            if (!ort) {
                Map<String, OnnxReference.Tensor> inputs = new HashMap<>();
                others.forEach((name, dims) -> inputs.put(name, new OnnxReference.Tensor(dims,
                        new double[(int) Arrays.stream(dims).reduce(1, (a, b) -> a * b)])));
                inputs.put(n.input(), new OnnxReference.Tensor(shape, flat));
                return OnnxReference.run(model, inputs).get(n.output()).data();
            }
            FloatBuffer buf = FloatBuffer.allocate(flat.length);
            for (double v : flat) {
                buf.put((float) v);
            }
            buf.flip();
            try (OrtSession.SessionOptions opts = Ort.sessionOptions();
                 OrtSession session = Ort.environment().createSession(bytes, opts);
                 OnnxTensor t = OnnxTensor.createTensor(Ort.environment(), buf, shape)) {
                Map<String, OnnxTensor> feed = new HashMap<>();
                feed.put(n.input(), t);
                try {
                    for (Map.Entry<String, long[]> e : others.entrySet()) {
                        int size = (int) Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
                        feed.put(e.getKey(), OnnxTensor.createTensor(Ort.environment(), FloatBuffer.allocate(size), e.getValue()));
                    }
                    return runOnce(session, feed, n.output());
                } finally {
                    for (Map.Entry<String, OnnxTensor> e : feed.entrySet()) {
                        if (e.getValue() != t) {
                            e.getValue().close();
                        }
                    }
                }
            } catch (OrtException e) {
                throw new ConversionException("ONNX Runtime cannot run the source on a window: " + e.getMessage(), e);
            }
        };
    }
}
