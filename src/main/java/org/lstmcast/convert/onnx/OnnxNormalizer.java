package org.lstmcast.convert.onnx;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import org.lstmcast.onnx.ModelReport;
import org.lstmcast.onnx.OnnxInspector;

/**
 * Turns an ONNX source into a model ONNX Runtime's CPU provider runs, with exactly one graph input
 * {@code [batch, sequence, features]} and one output; the wrapper that adds scaling works on that shape only.
 *
 * <p>The graph is otherwise left as it is: the rewrites below change layouts, never values, so every tensor the
 * source computes is still computed under its own name.
 */
final class OnnxNormalizer {
    /** The opset in which {@code LSTM}, {@code GRU} and {@code RNN} gained the {@code layout} attribute. */
    static final long LAYOUT_OPSET = 14;
    private static final Set<String> RECURRENT = Set.of("LSTM", "GRU", "RNN");

    /**
     * @param model   the normalized model
     * @param input   its one graph input, batch-major (the source's name)
     * @param output  its one graph output (the source's name)
     * @param changes what was changed, one line each, for the user
     */
    record Normalized(OnnxMl.ModelProto model, String input, String output, List<String> changes) {
    }

    private OnnxNormalizer() {
    }

    /**
     * @param timeMajor  whether the chosen input is {@code [sequence, batch, features]}; null to judge by its dimension
     *                   names as {@code inspect} does
     * @param inputName  the input to keep; null when the source has only one
     * @param outputName the output to keep; null when the source has only one
     * @throws IllegalArgumentException when the choice is ambiguous or the model cannot be made to fit
     */
    static Normalized normalize(OnnxMl.ModelProto source, Boolean timeMajor, String inputName, String outputName) {
        GraphProto graph = source.getGraph();
        Set<String> initializers = new HashSet<>();
        graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
        List<ValueInfoProto> inputs = graph.getInputList().stream()
                .filter(v -> !initializers.contains(v.getName())).toList();
        ValueInfoProto input = choose(inputs, inputName, "input");
        ValueInfoProto output = choose(graph.getOutputList(), outputName, "output");
        checkInput(input);
        if (input.getName().equals(output.getName())) {
            throw new IllegalArgumentException("output '" + output.getName() + "' is the input itself");
        }

        List<String> changes = new ArrayList<>();
        Names names = new Names(source);
        GraphProto.Builder g = graph.toBuilder();

        if (graph.getOutputCount() > 1) {
            g.clearOutput().addOutput(output);
            changes.add("kept output '" + output.getName() + "' of " + graph.getOutputCount() + " "
                    + names(graph.getOutputList()));
        }
        prune(g, input.getName(), inputs, changes);

        long opset = opset(source);
        rewriteLayouts(g, names, changes, opset, "");

        boolean wrap = timeMajor != null ? timeMajor : OnnxInspector.timeMajorByName(describe(input));
        ValueInfoProto newInput = input;
        if (wrap) {
            newInput = wrapTimeMajor(g, input, names);
            changes.add("input '" + input.getName() + "' is time-major " + dims(input) + (timeMajor == null
                    ? " by its dimension names" : "") + ": wrapped to batch-major " + dims(newInput));
        }

        // Since IR version 4 an initializer need not be a graph input; listed as one, it is an input the caller may
        // override, which ONNX Runtime reports beside the real one. Older IR versions require the listing.
        g.clearInput().addInput(newInput);
        for (ValueInfoProto v : graph.getInputList()) {
            if (initializers.contains(v.getName()) && hasInitializer(g, v.getName())) {
                if (source.getIrVersion() < 4) {
                    g.addInput(v);
                } else {
                    changes.add("input '" + v.getName() + "' is an initializer: no longer listed as a graph input");
                }
            }
        }

        OnnxMl.ModelProto model = source.toBuilder().setGraph(g).build();
        return new Normalized(model, input.getName(), output.getName(), List.copyOf(changes));
    }

    private static ValueInfoProto choose(List<ValueInfoProto> values, String wanted, String what) {
        if (wanted != null) {
            return values.stream().filter(v -> v.getName().equals(wanted)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("the model has no " + what + " '" + wanted
                            + "'; its " + what + "s are " + names(values)));
        }
        if (values.size() == 1) {
            return values.get(0);
        }
        if (values.isEmpty()) {
            throw new IllegalArgumentException("the model has no " + what);
        }
        throw new IllegalArgumentException("the model has " + values.size() + " " + what + "s " + names(values)
                + ": name the one to use");
    }

    private static void checkInput(ValueInfoProto input) {
        if (!input.getType().hasTensorType()) {
            throw new IllegalArgumentException("input '" + input.getName() + "' is not a tensor");
        }
        OnnxMl.TypeProto.Tensor t = input.getType().getTensorType();
        if (t.getElemType() != OnnxMl.TensorProto.DataType.FLOAT_VALUE) {
            OnnxMl.TensorProto.DataType type = OnnxMl.TensorProto.DataType.forNumber(t.getElemType());
            throw new IllegalArgumentException("input '" + input.getName() + "' is " + (type == null ? "of type "
                    + t.getElemType() : type.name()) + ", not float32");
        }
        if (!t.hasShape()) {
            throw new IllegalArgumentException("input '" + input.getName()
                    + "' declares no shape; a sequence input is rank 3 [batch, sequence, features]");
        }
        if (t.getShape().getDimCount() != 3) {
            throw new IllegalArgumentException("input '" + input.getName() + "' has rank " + t.getShape().getDimCount()
                    + " " + dims(input) + "; a sequence input is rank 3 [batch, sequence, features]");
        }
    }

    /**
     * Drops the nodes no longer needed for the kept output. The source's other real inputs must drop out with them:
     * the normalized model is fed one tensor.
     */
    private static void prune(GraphProto.Builder g, String input, List<ValueInfoProto> inputs, List<String> changes) {
        Set<String> needed = new HashSet<>();
        g.getOutputList().forEach(o -> needed.add(o.getName()));
        boolean[] keep = new boolean[g.getNodeCount()];
        // Nodes are topologically sorted (an ONNX rule), so one backward pass finds every producer.
        for (int i = g.getNodeCount() - 1; i >= 0; i--) {
            NodeProto node = g.getNode(i);
            if (node.getOutputList().stream().anyMatch(needed::contains)) {
                keep[i] = true;
                needed.addAll(node.getInputList());
                subgraphReferences(node, needed);
            }
        }
        for (ValueInfoProto other : inputs) {
            if (!other.getName().equals(input) && needed.contains(other.getName())) {
                throw new IllegalArgumentException("output '" + g.getOutput(0).getName() + "' also needs input '"
                        + other.getName() + "'; a converted model is fed one sequence input");
            }
        }
        List<NodeProto> kept = new ArrayList<>();
        for (int i = 0; i < keep.length; i++) {
            if (keep[i]) {
                kept.add(g.getNode(i));
            }
        }
        int dropped = g.getNodeCount() - kept.size();
        if (dropped > 0) {
            g.clearNode().addAllNode(kept);
            changes.add("dropped " + dropped + " node" + (dropped == 1 ? "" : "s") + " the kept output does not need");
            List<OnnxMl.TensorProto> inits = g.getInitializerList().stream()
                    .filter(t -> needed.contains(t.getName())).toList();
            g.clearInitializer().addAllInitializer(inits);
            List<ValueInfoProto> infos = g.getValueInfoList().stream()
                    .filter(v -> needed.contains(v.getName())).toList();
            g.clearValueInfo().addAllValueInfo(infos);
        }
    }

    /** Every name read inside a node's subgraphs; some are outer-scope values the node depends on implicitly. */
    private static void subgraphReferences(NodeProto node, Set<String> into) {
        for (AttributeProto a : node.getAttributeList()) {
            List<GraphProto> subs = new ArrayList<>(a.getGraphsList());
            if (a.hasG()) {
                subs.add(a.getG());
            }
            for (GraphProto sub : subs) {
                for (NodeProto n : sub.getNodeList()) {
                    into.addAll(n.getInputList());
                    subgraphReferences(n, into);
                }
                sub.getOutputList().forEach(o -> into.add(o.getName()));
            }
        }
    }

    /**
     * ONNX Runtime's CPU kernels refuse {@code layout=1}. Layout 0 computes the same numbers on transposed tensors,
     * so each such node reads transposed copies of its sequence and state inputs and its outputs are transposed back
     * under their original names: no other node sees a difference.
     */
    private static void rewriteLayouts(GraphProto.Builder g, Names names, List<String> changes, long opset, String where) {
        List<NodeProto> out = new ArrayList<>();
        int index = 0;
        for (NodeProto node : g.getNodeList()) {
            NodeProto current = rewriteSubgraphs(node, names, changes, opset, where);
            NodeProto repaired = RnnParameters.repair(current);
            if (repaired != current) {
                changes.add("RNN node " + label(current, index) + where
                        + ": activation_alpha/activation_beta written once per direction, as ONNX Runtime reads them");
                current = repaired;
            }
            if (isBatchFirstRecurrent(current)) {
                out.addAll(relayout(current, names));
                changes.add(current.getOpType() + " node " + label(current, index) + where
                        + ": layout 1 rewritten to layout 0 with transposes"
                        + (opset < LAYOUT_OPSET ? " (the layout attribute is not defined before opset "
                        + LAYOUT_OPSET + "; the source declares " + opset + ")" : ""));
            } else {
                out.add(current);
            }
            index++;
        }
        g.clearNode().addAllNode(out);
    }

    private static NodeProto rewriteSubgraphs(NodeProto node, Names names, List<String> changes, long opset, String where) {
        boolean any = node.getAttributeList().stream().anyMatch(a -> a.hasG() || a.getGraphsCount() > 0);
        if (!any) {
            return node;
        }
        NodeProto.Builder b = node.toBuilder();
        for (int i = 0; i < b.getAttributeCount(); i++) {
            AttributeProto.Builder a = b.getAttributeBuilder(i);
            String inside = where + " (in " + node.getOpType() + " '" + node.getName() + "' " + a.getName() + ")";
            if (a.hasG()) {
                GraphProto.Builder sub = a.getG().toBuilder();
                rewriteLayouts(sub, names, changes, opset, inside);
                a.setG(sub);
            }
            for (int k = 0; k < a.getGraphsCount(); k++) {
                GraphProto.Builder sub = a.getGraphs(k).toBuilder();
                rewriteLayouts(sub, names, changes, opset, inside);
                a.setGraphs(k, sub);
            }
        }
        return b.build();
    }

    private static boolean isBatchFirstRecurrent(NodeProto node) {
        boolean standard = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx");
        return standard && RECURRENT.contains(node.getOpType()) && node.getAttributeList().stream()
                .anyMatch(a -> a.getName().equals("layout") && a.getI() == 1);
    }

    /** The node in layout 0, with the Transposes before and after it that keep its neighbours' view unchanged. */
    private static List<NodeProto> relayout(NodeProto node, Names names) {
        List<NodeProto> before = new ArrayList<>();
        List<NodeProto> after = new ArrayList<>();
        NodeProto.Builder b = node.toBuilder();
        // Inputs whose leading two axes are [batch, seq] or [batch, dirs] in layout 1: X, initial_h, initial_c.
        // sequence_lens [batch] and the weights do not depend on the layout.
        int[] swapped = node.getOpType().equals("LSTM") ? new int[] {0, 5, 6} : new int[] {0, 5};
        for (int i : swapped) {
            if (i < b.getInputCount() && !b.getInput(i).isEmpty()) {
                String original = b.getInput(i);
                String moved = names.fresh(original + "_layout0");
                before.add(transpose(names, original, moved, 1, 0, 2));
                b.setInput(i, moved);
            }
        }
        // Y: [seq, dirs, batch, H] in layout 0, [batch, seq, dirs, H] in layout 1; Y_h, Y_c: [dirs, batch, H] and
        // [batch, dirs, H].
        for (int i = 0; i < b.getOutputCount(); i++) {
            String original = b.getOutput(i);
            if (original.isEmpty()) {
                continue;
            }
            String moved = names.fresh(original + "_layout0");
            b.setOutput(i, moved);
            after.add(i == 0 ? transpose(names, moved, original, 2, 0, 1, 3) : transpose(names, moved, original, 1, 0, 2));
        }
        List<AttributeProto> attributes = node.getAttributeList().stream()
                .filter(a -> !a.getName().equals("layout")).toList();
        b.clearAttribute().addAllAttribute(attributes);
        List<NodeProto> out = new ArrayList<>(before);
        out.add(b.build());
        out.addAll(after);
        return out;
    }

    /**
     * The graph input becomes batch-major under its own name and a Transpose hands the old time-major tensor, under
     * a new name, to everything that read it (subgraphs included).
     */
    private static ValueInfoProto wrapTimeMajor(GraphProto.Builder g, ValueInfoProto input, Names names) {
        String name = input.getName();
        String timeMajor = names.fresh(name + "_time_major");
        List<NodeProto> nodes = new ArrayList<>();
        nodes.add(transpose(names, name, timeMajor, 1, 0, 2));
        for (NodeProto node : g.getNodeList()) {
            nodes.add(renameInput(node, name, timeMajor));
        }
        g.clearNode().addAllNode(nodes);
        ValueInfoProto.Builder v = input.toBuilder();
        OnnxMl.TensorShapeProto.Builder shape = v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
        OnnxMl.TensorShapeProto.Dimension first = shape.getDim(0);
        shape.setDim(0, shape.getDim(1)).setDim(1, first);
        return v.build();
    }

    static NodeProto renameInput(NodeProto node, String from, String to) {
        NodeProto.Builder b = node.toBuilder();
        for (int i = 0; i < b.getInputCount(); i++) {
            if (b.getInput(i).equals(from)) {
                b.setInput(i, to);
            }
        }
        for (AttributeProto.Builder a : b.getAttributeBuilderList()) {
            if (a.hasG()) {
                a.setG(renameInGraph(a.getG(), from, to));
            }
            for (int k = 0; k < a.getGraphsCount(); k++) {
                a.setGraphs(k, renameInGraph(a.getGraphs(k), from, to));
            }
        }
        return b.build();
    }

    private static GraphProto renameInGraph(GraphProto graph, String from, String to) {
        // A subgraph that declares the name itself shadows the outer value; leave it alone.
        boolean shadows = graph.getInputList().stream().anyMatch(v -> v.getName().equals(from))
                || graph.getInitializerList().stream().anyMatch(t -> t.getName().equals(from))
                || graph.getNodeList().stream().anyMatch(n -> n.getOutputList().contains(from));
        if (shadows) {
            return graph;
        }
        GraphProto.Builder b = graph.toBuilder();
        for (int i = 0; i < b.getNodeCount(); i++) {
            b.setNode(i, renameInput(b.getNode(i), from, to));
        }
        for (int i = 0; i < b.getOutputCount(); i++) {
            if (b.getOutput(i).getName().equals(from)) {
                b.setOutput(i, b.getOutput(i).toBuilder().setName(to));
            }
        }
        return b.build();
    }

    private static NodeProto transpose(Names names, String from, String to, long... perm) {
        AttributeProto.Builder p = AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS);
        for (long v : perm) {
            p.addInts(v);
        }
        return NodeProto.newBuilder().setOpType("Transpose").setName(names.fresh("Transpose_" + to))
                .addInput(from).addOutput(to).addAttribute(p).build();
    }

    private static boolean hasInitializer(GraphProto.Builder g, String name) {
        return g.getInitializerList().stream().anyMatch(t -> t.getName().equals(name));
    }

    static long opset(OnnxMl.ModelProto model) {
        return model.getOpsetImportList().stream()
                .filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToLong(OnnxMl.OperatorSetIdProto::getVersion).findFirst().orElse(1);
    }

    /** The input as {@code inspect} describes it: fixed dims as numbers, symbolic ones by name, unknown as "?". */
    private static ModelReport.Tensor describe(ValueInfoProto v) {
        List<String> dims = new ArrayList<>();
        for (OnnxMl.TensorShapeProto.Dimension d : v.getType().getTensorType().getShape().getDimList()) {
            dims.add(d.hasDimValue() ? Long.toString(d.getDimValue()) : d.hasDimParam() ? d.getDimParam() : "?");
        }
        return new ModelReport.Tensor(v.getName(), "FLOAT", dims);
    }

    private static String dims(ValueInfoProto v) {
        return describe(v).dims().toString();
    }

    private static String label(NodeProto node, int index) {
        return node.getName().isEmpty() ? "#" + index : "'" + node.getName() + "'";
    }

    private static List<String> names(List<ValueInfoProto> values) {
        return values.stream().map(ValueInfoProto::getName).toList();
    }

    /**
     * ONNX Runtime's {@code RNN} kernel reads {@code activation_alpha[d]} and {@code activation_beta[d]} for direction
     * d, with zeros when an attribute is absent; the specification consumes the values in order, only by the
     * activations that take them, with each activation's own defaults. Where the two readings differ the attributes
     * are rewritten to the specification's values, one per direction. A list shorter than the number of directions
     * (an empty one included) is such a difference, and a worse one: that kernel then reads past the list's end, and
     * ONNX Runtime builds that check the index abort the whole process.
     */
    private static final class RnnParameters {
        private RnnParameters() {
        }

        static NodeProto repair(NodeProto node) {
            boolean standard = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx");
            if (!standard || !node.getOpType().equals("RNN")) {
                return node;
            }
            int dirs = "bidirectional".equals(stringAttr(node, "direction")) ? 2 : 1;
            List<String> activations = new ArrayList<>();
            AttributeProto acts = attr(node, "activations");
            if (acts != null) {
                acts.getStringsList().forEach(b -> activations.add(b.toStringUtf8().toLowerCase(Locale.ROOT)));
            }
            while (activations.size() < dirs) {
                activations.add("tanh");
            }
            AttributeProto alphaAttr = attr(node, "activation_alpha");
            AttributeProto betaAttr = attr(node, "activation_beta");
            List<Float> alphas = alphaAttr == null ? List.of() : alphaAttr.getFloatsList();
            List<Float> betas = betaAttr == null ? List.of() : betaAttr.getFloatsList();
            float[] specAlpha = new float[dirs];
            float[] specBeta = new float[dirs];
            int ai = 0;
            int bi = 0;
            boolean differs = alphaAttr != null && alphas.size() < dirs || betaAttr != null && betas.size() < dirs;
            for (int d = 0; d < dirs; d++) {
                String a = activations.get(d);
                boolean usesAlpha = Set.of("affine", "leakyrelu", "thresholdedrelu", "scaledtanh", "hardsigmoid", "elu")
                        .contains(a);
                boolean usesBeta = Set.of("affine", "scaledtanh", "hardsigmoid").contains(a);
                specAlpha[d] = usesAlpha ? ai < alphas.size() ? alphas.get(ai++) : defaultAlpha(a) : 0f;
                specBeta[d] = usesBeta ? bi < betas.size() ? betas.get(bi++) : defaultBeta(a) : 0f;
                float ortAlpha = alphaAttr == null ? 0f : d < alphas.size() ? alphas.get(d) : Float.NaN;
                float ortBeta = betaAttr == null ? 0f : d < betas.size() ? betas.get(d) : Float.NaN;
                differs |= usesAlpha && Float.compare(ortAlpha, specAlpha[d]) != 0
                        || usesBeta && Float.compare(ortBeta, specBeta[d]) != 0;
            }
            if (!differs) {
                return node;
            }
            NodeProto.Builder b = node.toBuilder().clearAttribute();
            node.getAttributeList().stream()
                    .filter(x -> !x.getName().equals("activation_alpha") && !x.getName().equals("activation_beta"))
                    .forEach(b::addAttribute);
            AttributeProto.Builder alpha = AttributeProto.newBuilder().setName("activation_alpha")
                    .setType(AttributeProto.AttributeType.FLOATS);
            AttributeProto.Builder beta = AttributeProto.newBuilder().setName("activation_beta")
                    .setType(AttributeProto.AttributeType.FLOATS);
            for (int d = 0; d < dirs; d++) {
                alpha.addFloats(specAlpha[d]);
                beta.addFloats(specBeta[d]);
            }
            return b.addAttribute(alpha).addAttribute(beta).build();
        }

        /** The defaults of the ONNX operators of the same names. */
        private static float defaultAlpha(String activation) {
            return switch (activation) {
                case "leakyrelu" -> 0.01f;
                case "hardsigmoid" -> 0.2f;
                default -> 1.0f;
            };
        }

        private static float defaultBeta(String activation) {
            return switch (activation) {
                case "hardsigmoid" -> 0.5f;
                case "scaledtanh" -> 1.0f;
                default -> 0.0f;
            };
        }

        private static AttributeProto attr(NodeProto node, String name) {
            return node.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst().orElse(null);
        }

        private static String stringAttr(NodeProto node, String name) {
            AttributeProto a = attr(node, name);
            return a == null ? null : a.getS().toStringUtf8();
        }
    }

    /** Every name in the model, so that new values and nodes never collide with one, at any graph depth. */
    private static final class Names {
        private final Set<String> used = new LinkedHashSet<>();

        Names(OnnxMl.ModelProto model) {
            collect(model.getGraph());
        }

        private void collect(GraphProto graph) {
            graph.getInputList().forEach(v -> used.add(v.getName()));
            graph.getOutputList().forEach(v -> used.add(v.getName()));
            graph.getValueInfoList().forEach(v -> used.add(v.getName()));
            graph.getInitializerList().forEach(t -> used.add(t.getName()));
            for (NodeProto n : graph.getNodeList()) {
                used.add(n.getName());
                used.addAll(n.getInputList());
                used.addAll(n.getOutputList());
                for (AttributeProto a : n.getAttributeList()) {
                    if (a.hasG()) {
                        collect(a.getG());
                    }
                    a.getGraphsList().forEach(this::collect);
                }
            }
        }

        String fresh(String hint) {
            String name = hint;
            for (int k = 1; used.contains(name); k++) {
                name = hint + "_" + k;
            }
            used.add(name);
            return name;
        }
    }
}
