package org.lstmcast.model;

import java.util.List;

import ai.onnx.proto.OnnxMl;

/**
 * A model read from another framework, as every reader hands it to the converter: how to write its network into a
 * graph, its own forward pass to prove that graph against, and what it declares. Keras and DL4J sources are a
 * {@link Network}; an ONNX source is its own graph, carried over node for node.
 *
 * @param graphName the converted graph's name
 * @param steps     the network's fixed time steps, or -1 when the source leaves them open
 * @param network   the network in the description, or null for an ONNX source
 * @param outShape  the body's output for one window ({@code [1, width]} or {@code [1, time, width]}), or null to take
 *                  it from the reference pass over {@code network}
 * @param layers    a short description of each layer (or the node count), for reports
 * @param changes   what the reader changed so that ONNX Runtime runs the source
 * @param opsetsOf  a source whose opsets and IR version the converted file keeps, or null for lstmcast's own
 * @param signature the input and output the converted file presents, or null for {@code input} and
 *                  {@code forecast} (or {@code output})
 */
public record Source(String origin, String graphName, int steps, int features, Network network, Body body, Pass pass,
                     int[] outShape, List<String> layers, List<String> changes, OnnxMl.ModelProto opsetsOf,
                     Signature signature) {

    /** Writes the body ({@code input} in, batch-major) into a graph and returns its output's name. */
    @FunctionalInterface
    public interface Body {
        String write(GraphBuilder g, String input);
    }

    /**
     * The source's own forward pass over network input {@code [steps][features]} (already scaled), flattened: the
     * source framework itself where it can run here, else {@link ReferencePass}.
     */
    @FunctionalInterface
    public interface Pass {
        double[] run(double[][] networkInput);
    }

    /**
     * The graph input and output a source declares, for the converted model to present under the same names, dims and
     * types: a client written for an ONNX source (a Triton or KServe client that names its tensors) then calls the
     * converted file as it called the source. Keras and DL4J sources name no tensors; theirs are {@code input} and
     * {@code forecast} (or {@code output}), as {@code train}'s exports.
     *
     * @param input  the source's input, batch-major (after a time-major input has been wrapped)
     * @param output the source's output
     */
    public record Signature(OnnxMl.ValueInfoProto input, OnnxMl.ValueInfoProto output) {
    }

    public Source {
        layers = List.copyOf(layers);
        changes = List.copyOf(changes);
    }

    /**
     * A network in the description, written by {@link NetworkWriter} and proven against {@code pass}, or against
     * {@link ReferencePass} when {@code pass} is null.
     */
    public static Source of(Network net, Pass pass) {
        Pass proof = pass != null ? pass : in -> ReferencePass.run(net, new double[][][] {in}).flat(0);
        return new Source(net.origin(), "lstmcast_converted", net.steps(), net.features(), net, (g, z) -> NetworkWriter.write(g, net, z), proof,
                null, net.layers().stream().map(Layer::describe).toList(), List.of(), null, null);
    }
}
