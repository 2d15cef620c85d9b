package org.lstmcast.convert;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.InvalidProtocolBufferException;
import org.lstmcast.export.GraphBuilder;
import org.lstmcast.forecast.Ort;

/**
 * ONNX sources: normalised so that ONNX Runtime runs them ({@link OnnxNormalizer}), wrapped like any converted model,
 * and proven against the source itself where ONNX Runtime can run it, else against {@link OnnxReference}.
 */
final class OnnxSource {
    private OnnxSource() {
    }

    static Converter.Result convert(Path source, String sha, ConvertOptions o) throws IOException {
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
            n = OnnxNormalizer.normalize(model, o.timeMajor(), o.inputName(), o.outputName());
        } catch (IllegalArgumentException e) {
            throw new ConversionException(e.getMessage(), e);
        }
        OnnxMl.GraphProto body = n.model().getGraph();
        OnnxMl.ValueInfoProto in = body.getInputList().stream().filter(v -> v.getName().equals(n.input())).findFirst().orElseThrow();
        List<OnnxMl.TensorShapeProto.Dimension> dims = in.getType().getTensorType().getShape().getDimList();
        int steps = dims.get(1).hasDimValue() ? (int) dims.get(1).getDimValue() : -1;
        int features = (int) dims.get(2).getDimValue();
        boolean sourceTimeMajor = !sameDims(model, n);
        Converter.SourcePass pass = sourcePass(model, n, sourceTimeMajor);
        int probeSteps = steps > 0 ? steps : o.transform().networkSteps(Math.max(o.lookback(), 2));
        double[] probe = pass.run(new double[probeSteps][features]);
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
        if (Converter.opsetOf(n.model()) < 13) {
            throw new ConversionException("the model declares opset " + Converter.opsetOf(n.model())
                    + "; converting needs opset 13 or later (re-export it with a newer exporter)");
        }
        return Converter.assemble((g, z) -> {
            // The body's graph input becomes an inner value fed by the wrapper; its nodes and weights come along as they are.
            g.node("Identity", List.of(z), List.of(), n.input());
            g.proto().addAllNode(body.getNodeList());
            g.proto().addAllInitializer(body.getInitializerList());
            g.proto().addAllSparseInitializer(body.getSparseInitializerList());
            g.proto().addAllValueInfo(body.getValueInfoList());
            return n.output();
        }, new GraphBuilder(body.getName().isEmpty() ? "lstmcast_converted" : body.getName(), "lstmcast/"), steps, features,
                outShape, "ONNX from " + (model.getProducerName().isEmpty() ? "an unnamed producer" : model.getProducerName()
                        + " " + model.getProducerVersion()).trim() + ", opset " + Converter.opsetOf(model), Converter.Kind.ONNX,
                sha, o, pass, List.of(body.getNodeCount() + " nodes"), n.changes(), n.model());
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
    private static Converter.SourcePass sourcePass(OnnxMl.ModelProto model, OnnxNormalizer.Normalized n, boolean timeMajor) {
        byte[] bytes = model.toByteArray();
        boolean runnable;
        try (OrtSession.SessionOptions opts = Ort.sessionOptions();
             OrtSession ignored = Ort.environment().createSession(bytes, opts)) {
            runnable = true;
        } catch (OrtException e) {
            runnable = false;
        }
        boolean ort = runnable;
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
                 OnnxTensor t = OnnxTensor.createTensor(Ort.environment(), buf, shape);
                 OrtSession.Result r = session.run(Map.of(n.input(), t), java.util.Set.of(n.output()))) {
                FloatBuffer values = ((OnnxTensor) r.get(0)).getFloatBuffer();
                double[] out = new double[values.remaining()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = values.get();
                }
                return out;
            } catch (OrtException e) {
                throw new ConversionException("ONNX Runtime cannot run the source on a window: " + e.getMessage(), e);
            }
        };
    }
}
