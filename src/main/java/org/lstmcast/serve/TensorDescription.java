package org.lstmcast.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;

/**
 * One input or output of a served model as the protocols describe it, read once at load: listing a model must not
 * touch a session that may be closing. Each shell renders it in its own form.
 *
 * @param datatype the protocol's datatype ({@code FP32}, ...), or null when the value is not a tensor
 * @param shape    the dimensions with -1 for variable ones, or null when the value is not a tensor
 */
public record TensorDescription(String name, String datatype, long[] shape) {

    public boolean isTensor() {
        return datatype != null;
    }

    /** The descriptions of a session's inputs or outputs, in its order. */
    static List<TensorDescription> of(Map<String, NodeInfo> nodes) {
        List<TensorDescription> out = new ArrayList<>();
        for (NodeInfo n : nodes.values()) {
            if (n.getInfo() instanceof TensorInfo t) {
                out.add(new TensorDescription(n.getName(), datatype(t.type), t.getShape()));
            } else {
                out.add(new TensorDescription(n.getName(), null, null));
            }
        }
        return List.copyOf(out);
    }

    /** The Open Inference Protocol's name for an ONNX Runtime element type. */
    static String datatype(OnnxJavaType t) {
        return switch (t) {
            case FLOAT -> "FP32";
            case DOUBLE -> "FP64";
            case FLOAT16 -> "FP16";
            case INT8 -> "INT8";
            case INT16 -> "INT16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case UINT8 -> "UINT8";
            case BOOL -> "BOOL";
            case STRING -> "BYTES";
            default -> t.toString();
        };
    }
}
