package org.lstmcast.convert.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnxruntime.OrtException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.lstmcast.convert.onnx.OnnxFixtures.Fixture;
import org.lstmcast.convert.onnx.OnnxReference.Tensor;

/** The reference evaluator against NumPy's forward pass of the SOURCE models, and on single operators. */
class OnnxReferenceTest {
    static final List<String> ALL = OnnxFixtures.ALL;

    /** Both sides compute in float64 from the same float32 weights: only summation order separates them. */
    @ParameterizedTest
    @FieldSource("ALL")
    void onTheSourceGraphItMatchesNumpy(String name) {
        Fixture f = OnnxFixtures.load(name);
        Map<String, Tensor> out = OnnxReference.run(f.model(), f.inputs());
        assertEquals(f.outputs().keySet(), out.keySet());
        for (String o : f.outputs().keySet()) {
            OnnxFixtures.assertClose(f.outputs().get(o), out.get(o), 1e-12, name + " " + o);
        }
    }

    /** The normalized graph in the reference equals the source in the reference: the rewrite changed no value. */
    @ParameterizedTest
    @FieldSource("ALL")
    void theNormalizedGraphComputesWhatTheSourceDid(String name) {
        Fixture f = OnnxFixtures.load(name);
        OnnxNormalizer.Normalized n = f.normalize();
        Tensor x = f.inputs().get(f.input());
        Tensor fed = name.equals("lstm_time_major") ? OnnxFixtures.swapLeadingAxes(x) : x;
        Tensor before = OnnxReference.run(f.model(), f.inputs()).get(f.output());
        Tensor after = OnnxReference.run(n.model(), Map.of(f.input(), fed)).get(f.output());
        assertArrayEquals(before.shape(), after.shape());
        assertArrayEquals(before.data(), after.data(), 0.0);
    }

    /**
     * Variants the fixtures do not cover (GRU with the reset gate before the product, reverse and bidirectional runs
     * with the remaining activations), in layout 0 so that ONNX Runtime itself is the other opinion.
     */
    @ParameterizedTest
    @FieldSource("VARIANTS")
    void layout0VariantsAgreeWithOnnxRuntime(String op, String direction, List<String> activations, List<Float> alphas,
                                             List<Float> betas) throws OrtException {
        Random rnd = new Random(op.hashCode() * 31L + direction.hashCode());
        int hidden = 3;
        int in = 2;
        int dirs = direction.equals("bidirectional") ? 2 : 1;
        int gates = switch (op) {
            case "LSTM" -> 4;
            case "GRU" -> 3;
            default -> 1;
        };
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName(op.toLowerCase());
        g.addInitializer(floats("W", rnd, dirs, gates * hidden, in));
        g.addInitializer(floats("R", rnd, dirs, gates * hidden, hidden));
        g.addInitializer(floats("B", rnd, dirs, 2 * gates * hidden));
        g.addInitializer(floats("h0", rnd, dirs, 2, hidden));
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(op.toLowerCase())
                .addAllInput(List.of("x", "W", "R", "B", "", "h0")).addAllOutput(List.of("y", "y_h"))
                .addAttribute(intAttr("hidden_size", hidden))
                .addAttribute(AttributeProto.newBuilder().setName("direction").setType(AttributeProto.AttributeType.STRING)
                        .setS(com.google.protobuf.ByteString.copyFromUtf8(direction)))
                .addAttribute(AttributeProto.newBuilder().setName("activations").setType(AttributeProto.AttributeType.STRINGS)
                        .addAllStrings(activations.stream().map(com.google.protobuf.ByteString::copyFromUtf8).toList()));
        // An empty list written out is not the same as none to ONNX Runtime's RNN kernel (it indexes it).
        if (!alphas.isEmpty()) {
            node.addAttribute(AttributeProto.newBuilder().setName("activation_alpha")
                    .setType(AttributeProto.AttributeType.FLOATS).addAllFloats(alphas));
        }
        if (!betas.isEmpty()) {
            node.addAttribute(AttributeProto.newBuilder().setName("activation_beta")
                    .setType(AttributeProto.AttributeType.FLOATS).addAllFloats(betas));
        }
        if (op.equals("GRU")) {
            node.addAttribute(intAttr("linear_before_reset", 0));
        }
        g.addNode(node).addInput(value("x", 4, 2, in)).addOutput(value("y", 4, dirs, 2, hidden))
                .addOutput(value("y_h", dirs, 2, hidden));
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(17)).build();
        OnnxMl.TensorProto xp = floats("x", rnd, 4, 2, in);
        Map<String, Tensor> feed = Map.of("x", OnnxReference.decode(xp));
        Map<String, Tensor> ort = OnnxFixtures.runOrt(model, feed);
        Map<String, Tensor> ref = OnnxReference.run(model, feed);
        for (String o : List.of("y", "y_h")) {
            OnnxFixtures.assertClose(ref.get(o), ort.get(o), 1e-5, op + " " + direction + " " + o);
        }
    }

    static final List<org.junit.jupiter.params.provider.Arguments> VARIANTS = List.of(
            org.junit.jupiter.params.provider.Arguments.of("GRU", "reverse", List.of("Sigmoid", "Tanh"), List.of(), List.of()),
            org.junit.jupiter.params.provider.Arguments.of("GRU", "bidirectional",
                    List.of("Sigmoid", "Softplus", "HardSigmoid", "Affine"), List.of(0.3f, 0.7f), List.of(0.4f, 0.1f)),
            org.junit.jupiter.params.provider.Arguments.of("LSTM", "reverse",
                    List.of("Sigmoid", "ThresholdedRelu", "Tanh"), List.of(0.05f), List.of()),
            org.junit.jupiter.params.provider.Arguments.of("RNN", "bidirectional", List.of("Relu", "Softsign"),
                    List.of(), List.of()),
            org.junit.jupiter.params.provider.Arguments.of("RNN", "forward", List.of("Elu"), List.of(0.8f), List.of()));

    private static OnnxMl.TensorProto floats(String name, Random rnd, long... dims) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT_VALUE);
        long n = 1;
        for (long d : dims) {
            t.addDims(d);
            n *= d;
        }
        for (long i = 0; i < n; i++) {
            t.addFloatData((float) (rnd.nextGaussian() * 0.6));
        }
        return t.build();
    }

    private static OnnxMl.ValueInfoProto value(String name, long... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                        .setElemType(OnnxMl.TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    @Test
    void anUnsupportedOperatorIsNamed() {
        OnnxMl.GraphProto g = graph(List.of(node("Conv", List.of("x", "x"), "y")), "x", "y");
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> OnnxReference.run(g, 17, Map.of("x", t(new long[] {1}, 1))));
        assertTrue(e.getMessage().contains("'Conv'"), e.getMessage());
    }

    @Test
    void sequenceLensIsRefusedRatherThanIgnored() {
        OnnxMl.GraphProto g = graph(List.of(node("RNN", List.of("x", "w", "r", "", "lens"), "y",
                intAttr("hidden_size", 1))), "x", "y");
        Map<String, Tensor> in = Map.of("x", t(new long[] {1, 1, 1}, 1), "w", t(new long[] {1, 1, 1}, 1),
                "r", t(new long[] {1, 1, 1}, 1), "lens", t(new long[] {1}, 1));
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> OnnxReference.run(g, 17, in));
        assertTrue(e.getMessage().contains("sequence_lens"), e.getMessage());
    }

    @Test
    void broadcastingFollowsNumpy() {
        Tensor a = t(new long[] {2, 1, 3}, 1, 2, 3, 4, 5, 6);
        Tensor b = t(new long[] {2, 1}, 10, 20);
        Tensor sum = OnnxReference.broadcast(a, b, Double::sum);
        assertArrayEquals(new long[] {2, 2, 3}, sum.shape());
        assertArrayEquals(new double[] {11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26}, sum.data());
    }

    @Test
    void matmulBroadcastsBatchesAndPromotesVectors() {
        Tensor a = t(new long[] {2, 1, 2}, 1, 2, 3, 4);
        Tensor b = t(new long[] {2, 2}, 1, 0, 0, 2);
        Tensor y = OnnxReference.matmul(a, b);
        assertArrayEquals(new long[] {2, 1, 2}, y.shape());
        assertArrayEquals(new double[] {1, 4, 3, 8}, y.data());
        Tensor v = OnnxReference.matmul(t(new long[] {2}, 1, 1), b);
        assertArrayEquals(new long[] {2}, v.shape());
        assertArrayEquals(new double[] {1, 2}, v.data());
    }

    @Test
    void sliceClampsAndStepsBackwards() {
        Tensor x = t(new long[] {2, 4}, 0, 1, 2, 3, 4, 5, 6, 7);
        OnnxMl.GraphProto g = graph(List.of(node("Slice", List.of("x", "s", "e", "a", "st"), "y")), "x", "y");
        Map<String, Tensor> in = Map.of("x", x, "s", t(new long[] {1}, -1), "e", t(new long[] {1}, -1e18),
                "a", t(new long[] {1}, 1), "st", t(new long[] {1}, -2));
        Tensor y = OnnxReference.run(g, 17, in).get("y");
        assertArrayEquals(new long[] {2, 2}, y.shape());
        assertArrayEquals(new double[] {3, 1, 7, 5}, y.data());
    }

    @Test
    void gatherWithAScalarIndexDropsTheAxis() {
        Tensor x = t(new long[] {2, 3}, 0, 1, 2, 3, 4, 5);
        OnnxMl.GraphProto g = graph(List.of(node("Gather", List.of("x", "i"), "y", intAttr("axis", 1))), "x", "y");
        Tensor y = OnnxReference.run(g, 17, Map.of("x", x, "i", new Tensor(new long[0], new double[] {-1}))).get("y");
        assertArrayEquals(new long[] {2}, y.shape());
        assertArrayEquals(new double[] {2, 5}, y.data());
    }

    @Test
    void softmaxBeforeOpset13CoercesTo2d() {
        Tensor x = t(new long[] {1, 2, 2}, 0, 0, 0, 0);
        OnnxMl.GraphProto g = graph(List.of(node("Softmax", List.of("x"), "y", intAttr("axis", 1))), "x", "y");
        assertArrayEquals(new double[] {.25, .25, .25, .25}, OnnxReference.run(g, 11, Map.of("x", x)).get("y").data(), 1e-15);
        assertArrayEquals(new double[] {.5, .5, .5, .5}, OnnxReference.run(g, 13, Map.of("x", x)).get("y").data(), 1e-15);
    }

    @Test
    void reshapeCopiesZerosAndInfersMinusOne() {
        Tensor x = t(new long[] {2, 3, 2}, new double[12]);
        OnnxMl.GraphProto g = graph(List.of(node("Reshape", List.of("x", "s"), "y")), "x", "y");
        Tensor y = OnnxReference.run(g, 17, Map.of("x", x, "s", t(new long[] {2}, 0, -1))).get("y");
        assertArrayEquals(new long[] {2, 6}, y.shape());
    }

    @Test
    void unsqueezeReadsAxesFromAnAttributeBeforeOpset13() {
        Tensor x = t(new long[] {2}, 1, 2);
        AttributeProto axes = AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS)
                .addInts(0).addInts(-1).build();
        OnnxMl.GraphProto g = graph(List.of(node("Unsqueeze", List.of("x"), "y", axes)), "x", "y");
        assertArrayEquals(new long[] {1, 2, 1}, OnnxReference.run(g, 11, Map.of("x", x)).get("y").shape());
    }

    private static Tensor t(long[] shape, double... data) {
        return new Tensor(shape, data);
    }

    private static NodeProto node(String op, List<String> inputs, String output, AttributeProto... attrs) {
        return NodeProto.newBuilder().setOpType(op).setName(op.toLowerCase()).addAllInput(inputs).addOutput(output)
                .addAllAttribute(List.of(attrs)).build();
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static OnnxMl.GraphProto graph(List<NodeProto> nodes, String input, String output) {
        return OnnxMl.GraphProto.newBuilder().addAllNode(nodes)
                .addInput(OnnxMl.ValueInfoProto.newBuilder().setName(input))
                .addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(output)).build();
    }
}
