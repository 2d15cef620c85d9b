package org.lstmcast.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;

/**
 * A thin writer of ONNX graphs over the generated protobuf classes: each call adds a node or an initializer
 * and returns the name of the value it produced.
 */
public final class GraphBuilder {
    private final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder();
    private final String prefix;
    private int counter;

    public GraphBuilder(String name) {
        this(name, "");
    }

    /** Fresh names start with {@code prefix}, so the nodes written here cannot clash with a graph they wrap. */
    public GraphBuilder(String name, String prefix) {
        graph.setName(name);
        this.prefix = prefix;
    }

    public OnnxMl.GraphProto.Builder proto() {
        return graph;
    }

    public String fresh(String hint) {
        return prefix + hint + "_" + (counter++);
    }

    /** A float32 initializer of the given shape, stored as little-endian raw data. */
    public String floats(String name, float[] data, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : data) {
            buf.putFloat(v);
        }
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addAllDims(boxed(dims)).setRawData(ByteString.copyFrom(buf.array())));
        return name;
    }

    public String longs(String name, long[] data, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .addAllDims(boxed(dims));
        for (long v : data) {
            t.addInt64Data(v);
        }
        graph.addInitializer(t);
        return name;
    }

    public String longs(long... data) {
        return longs(fresh("const"), data, data.length);
    }

    public String node(String op, List<String> inputs, List<AttributeProto> attributes, String output) {
        return node(op, inputs, attributes, List.of(output)).get(0);
    }

    public List<String> node(String op, List<String> inputs, List<AttributeProto> attributes, List<String> outputs) {
        graph.addNode(NodeProto.newBuilder().setOpType(op).setName(fresh(op)).addAllInput(inputs)
                .addAllOutput(outputs).addAllAttribute(attributes));
        return outputs;
    }

    public String node(String op, String... inputs) {
        return node(op, List.of(inputs), List.of(), fresh(op.toLowerCase(Locale.ROOT)));
    }

    /** {@code x[.., starts:ends, ..]} along the given axes. */
    public String slice(String x, long[] starts, long[] ends, long[] axes) {
        return node("Slice", x, longs(starts), longs(ends), longs(axes));
    }

    public static AttributeProto attr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    public static AttributeProto attr(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(value)).build();
    }

    public static AttributeProto floats(String name, List<Float> values) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOATS)
                .addAllFloats(values).build();
    }

    public static AttributeProto attr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    public static AttributeProto attr(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    public static AttributeProto attr(String name, List<String> values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRINGS);
        for (String v : values) {
            a.addStrings(ByteString.copyFromUtf8(v));
        }
        return a.build();
    }

    /** A float tensor value description; a {@code String} dim is symbolic, a {@code Long} fixed. */
    public static OnnxMl.ValueInfoProto floatValue(String name, Object... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (Object d : dims) {
            OnnxMl.TensorShapeProto.Dimension.Builder dim = OnnxMl.TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) {
                dim.setDimParam(s);
            } else {
                dim.setDimValue(((Number) d).longValue());
            }
            shape.addDim(dim);
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name)
                .setType(OnnxMl.TypeProto.newBuilder().setTensorType(OnnxMl.TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape)))
                .build();
    }

    private static List<Long> boxed(long[] dims) {
        return Arrays.stream(dims).boxed().toList();
    }
}
