package org.lstmcast.serve;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import org.lstmcast.Text;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.forecast.Ort;
import org.lstmcast.forecast.OrtErrors;
import org.lstmcast.forecast.TensorCheck;
import org.lstmcast.forecast.WindowBatch;

/**
 * The Open Inference Protocol's {@code infer} call, whatever carries it (JSON, binary REST, gRPC): tensors in, tensors
 * out, on any model with float inputs. Every input is checked against the model's declared signature, and its values
 * counted, before any native object is made; FP64 and integer values are converted to the model's FP32.
 */
public final class Inference {
    public static final Set<String> NUMERIC = Set.of("FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8",
            "UINT16", "UINT32", "UINT64");
    /** Most elements one input may hold: 64 MiB of float32. */
    public static final long MAX_ELEMENTS = 16L << 20;

    private Inference() {
    }

    /** The values of one input tensor as the protocol carried them; counted first, copied only once they fit. */
    public interface Values {
        /** How many elements the client sent. */
        long count();

        /** Writes the elements, as float32, row-major. */
        void copyTo(FloatBuffer out);
    }

    public record Input(String name, String datatype, long[] shape, Values values) {
    }

    /**
     * @param outputs the outputs asked for, in order; empty for all
     */
    public record Request(String id, List<Input> inputs, List<String> outputs) {
    }

    /**
     * One output: {@code data} is a {@code float[]}, {@code double[]}, {@code long[]} or {@code int[]} as the
     * datatype says.
     */
    public record Output(String name, String datatype, long[] shape, Object data) {
        /** Its elements as little-endian bytes, as the binary extension and gRPC's raw contents carry them. */
        public byte[] littleEndian() {
            ByteBuffer b;
            if (data instanceof float[] f) {
                b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(f);
            } else if (data instanceof double[] d) {
                b = ByteBuffer.allocate(8 * d.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asDoubleBuffer().put(d);
            } else if (data instanceof long[] l) {
                b = ByteBuffer.allocate(8 * l.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asLongBuffer().put(l);
            } else if (data instanceof int[] i) {
                b = ByteBuffer.allocate(4 * i.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asIntBuffer().put(i);
            } else {
                throw new IllegalStateException("no encoding for " + data.getClass().getSimpleName());
            }
            return b.array();
        }
    }

    public record Result(String modelName, String modelVersion, String id, List<Output> outputs) {
    }

    /**
     * As {@link #infer}, answering later: a call on a forecaster's own input and output joins the model's batcher,
     * where concurrent calls (and forecasts) share model runs, as Triton's dynamic batcher merges infer requests; any
     * other call runs at once on the calling thread. With {@code here}, a call that joins an idle batcher of a fast
     * model runs on the calling thread too ({@link ModelVersion#runBatchedOrHere}).
     */
    public static CompletableFuture<Result> inferAsync(ModelVersion model, Request request, long timeoutMs)
            throws OrtException {
        return inferAsync(model, request, timeoutMs, false, null);
    }

    /**
     * @param gaveUp completed exceptionally (a {@link Batcher.GaveUp}) when the caller gives the call up, which then
     *               leaves the batcher's queue if it has not run; null when the caller never does
     */
    public static CompletableFuture<Result> inferAsync(ModelVersion model, Request request, long timeoutMs,
                                                                          boolean here,
                                                                          CompletableFuture<?> gaveUp)
            throws OrtException {
        if (!batchable(model, request)) {
            return CompletableFuture.completedFuture(infer(model, request, timeoutMs, gaveUp));
        }
        Input in = request.inputs().get(0);
        NodeInfo info = model.inputInfo.get(in.name());
        long[] shape = in.shape();
        long count = check(in, (TensorInfo) info.getInfo(), model.spec.lookback(), model.spec.sequenceAxis());
        float[] flat = new float[(int) count];
        in.values().copyTo(FloatBuffer.wrap(flat));
        int batch = (int) shape[0];
        WindowBatch windows = new WindowBatch(flat, batch, (int) shape[1], (int) shape[2]);
        String output = model.spec.outputName();
        List<String> names = request.outputs() == null || request.outputs().isEmpty() ? model.outputNames : request.outputs();
        return (here ? model.runBatchedOrHere(windows, timeoutMs, gaveUp) : model.runBatched(windows, timeoutMs, gaveUp)).thenApply(y -> {
            int horizon = y.length == 0 ? 0 : y[0].length;
            List<Output> outs = new ArrayList<>(names.size());
            for (String name : names) {
                if (name.equals(output)) {
                    float[] out = new float[batch * horizon];
                    for (int b = 0; b < batch; b++) {
                        System.arraycopy(y[b], 0, out, b * horizon, horizon);
                    }
                    outs.add(new Output(output, "FP32", new long[] {batch, horizon}, out));
                } else {
                    outs.add(bounds(model.intervals, name, y));
                }
            }
            return new Result(model.name, Long.toString(model.version), request.id(), outs);
        });
    }

    /**
     * An interval output, {@code [batch, horizon, levels]}, from the batched forecasts: the graph's own formula in the
     * same float32 arithmetic ({@link org.lstmcast.forecast.Intervals#bounds}), so a batched answer equals the file's.
     */
    private static Output bounds(Intervals intervals, String name, float[][] y) {
        int end = name.equals(Intervals.LOWER) ? 0 : 1;
        int horizon = y.length == 0 ? 0 : y[0].length;
        int levels = intervals.levels().length;
        float[] out = new float[y.length * horizon * levels];
        for (int b = 0; b < y.length; b++) {
            double[] f = new double[horizon];
            for (int h = 0; h < horizon; h++) {
                f[h] = y[b][h];
            }
            for (int l = 0; l < levels; l++) {
                double[] bound = intervals.bounds(f, l)[end];
                for (int h = 0; h < horizon; h++) {
                    out[(b * horizon + h) * levels + l] = (float) bound[h];
                }
            }
        }
        return new Output(name, "FP32", new long[] {y.length, horizon, levels}, out);
    }

    /** Whether the request joins the model's batcher, so that its caller only checks, copies and queues it. */
    public static boolean batchable(ModelVersion model, Request request) {
        if (!model.batchesInference || request.inputs().size() != 1) {
            return false;
        }
        Input in = request.inputs().get(0);
        List<String> outputs = request.outputs();
        return model.spec.inputName().equals(in.name()) && in.shape().length == 3
                && (outputs == null || outputs.isEmpty()
                || model.outputNames.containsAll(outputs) && new HashSet<>(outputs).size() == outputs.size());
    }

    /**
     * Runs a call at once on the calling thread, under run options of its own: the run is stopped natively when its
     * caller gives it up ({@code gaveUp}, may be null) or when it lasts longer than {@code timeoutMs}.
     */
    static Result infer(ModelVersion model, Request request, long timeoutMs,
                        CompletableFuture<?> gaveUp) throws OrtException {
        if (gaveUp != null && gaveUp.isCompletedExceptionally()) {
            // Given up while it waited for a thread or a load: it leaves without running, as a queued request does.
            Throwable why = gaveUp.handle((v, e) -> e).join();
            Boolean expired = Batcher.GaveUp.reason(why);
            if (expired != null) {
                model.meters.withdrawn(expired);
            }
            throw why instanceof RuntimeException r ? r : new IllegalStateException(why);
        }
        OrtSession session = model.session();
        Map<String, NodeInfo> declared = model.inputInfo;
        if (request.inputs().isEmpty()) {
            throw ApiException.badRequest("'inputs' must be a non-empty array of tensors");
        }
        Set<String> wanted = requestedOutputs(request.outputs(), session.getOutputNames());
        Map<String, OnnxTensor> feeds = new HashMap<>();
        try {
            for (Input in : request.inputs()) {
                NodeInfo info = in.name() == null ? null : declared.get(in.name());
                if (info == null) {
                    throw ApiException.badRequest("unknown input '" + in.name() + "'; the model's inputs are " + declared.keySet());
                }
                if (feeds.containsKey(in.name())) {
                    throw ApiException.badRequest("input '" + in.name() + "' given twice");
                }
                if (!(info.getInfo() instanceof TensorInfo tensorInfo)) {
                    throw ApiException.badRequest("input '" + in.name() + "' is not a tensor; this server feeds tensors only");
                }
                // A forecaster's own input must also be as long as the model reads: its graph slices that many steps.
                boolean forecastInput = model.spec != null && model.spec.inputName().equals(in.name());
                feeds.put(in.name(), tensor(in, tensorInfo, forecastInput ? model.spec.lookback() : 0,
                        forecastInput ? model.spec.sequenceAxis() : 1));
            }
            if (!feeds.keySet().equals(declared.keySet())) {
                Set<String> missing = new LinkedHashSet<>(declared.keySet());
                missing.removeAll(feeds.keySet());
                throw ApiException.badRequest("missing input(s) " + missing);
            }
            List<Output> outputs = new ArrayList<>();
            try (OrtSession.RunOptions options = new OrtSession.RunOptions()) {
                Batcher.Flight flight = Batcher.watch(options, TimeUnit.MILLISECONDS.toNanos(timeoutMs),
                        () -> gaveUp != null && gaveUp.isDone());
                try (flight; OrtSession.Result result = OrtErrors.run(session, feeds, wanted, options)) {
                    for (Map.Entry<String, OnnxValue> e : result) {
                        outputs.add(output(e.getKey(), e.getValue()));
                    }
                } catch (OrtException | RuntimeException e) {
                    if (!flight.stopped()) {
                        throw e;
                    }
                    model.meters.runTerminated();
                    if (flight.overran()) {
                        throw flight.overrun();
                    }
                    // Stopped because its caller gave it up: the caller is told why it gave up (a deadline, a cancel).
                    Throwable why = gaveUp.handle((v, x) -> x).join();
                    if (why instanceof RuntimeException r) {
                        throw r;
                    }
                    throw e;
                }
            }
            return new Result(model.name, Long.toString(model.version), request.id(), outputs);
        } finally {
            feeds.values().forEach(OnnxTensor::close);
        }
    }

    private static Set<String> requestedOutputs(List<String> asked, Set<String> available) {
        if (asked == null || asked.isEmpty()) {
            return available;
        }
        Set<String> wanted = new LinkedHashSet<>();
        for (String name : asked) {
            if (name == null || !available.contains(name)) {
                throw ApiException.badRequest("unknown output '" + name + "'; the model's outputs are " + available);
            }
            wanted.add(name);
        }
        return wanted;
    }

    /**
     * The tensor an input describes, checked against the model's declared input before anything native is made: a
     * shape ONNX Runtime cannot run (a zero-length dimension aborts the process), a rank or fixed dimension that
     * differs, a number of values that does not match the shape, a sequence shorter than the model reads.
     */
    private static OnnxTensor tensor(Input in, TensorInfo info, int minSequence, int sequenceAxis) throws OrtException {
        long count = check(in, info, minSequence, sequenceAxis);
        FloatBuffer buf = ByteBuffer.allocateDirect((int) (4 * count)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        in.values().copyTo(buf);
        buf.rewind();
        return OnnxTensor.createTensor(Ort.environment(), buf, in.shape());
    }

    /** Everything {@link #tensor} refuses, before anything is copied; returns the number of elements. */
    private static long check(Input in, TensorInfo info, int minSequence, int sequenceAxis) {
        String name = in.name();
        if (info.type != OnnxJavaType.FLOAT) {
            throw ApiException.badRequest("input '" + name + "' is " + info.type + "; only FLOAT inputs are served");
        }
        String datatype = in.datatype() == null ? "" : in.datatype().toUpperCase(Locale.ROOT);
        if (!NUMERIC.contains(datatype)) {
            throw ApiException.badRequest("input '" + name + "': datatype '" + in.datatype() + "' cannot feed a FLOAT input");
        }
        long[] shape = in.shape();
        TensorCheck.shape(name, shape, info.getShape());
        if (minSequence > 0) {
            TensorCheck.sequence(name, shape, sequenceAxis, minSequence);
        }
        long count = 1;
        for (long d : shape) {
            // Every dimension is at least 1 here, so the product only grows: stop before it can overflow.
            count *= d;
            if (count > MAX_ELEMENTS) {
                throw ApiException.badRequest("input '" + name + "' has shape " + Arrays.toString(shape)
                        + ": more than " + MAX_ELEMENTS + " elements");
            }
        }
        long given = in.values().count();
        if (given < 0) {
            throw ApiException.badRequest("input '" + name + "' holds no " + datatype + " values: raw contents must be a "
                    + "whole number of " + datatype + " elements, typed contents must be in the field for " + datatype);
        }
        if (given != count) {
            throw ApiException.badRequest("input '" + name + "' has " + Text.plural(given, "value") + "; shape "
                    + Arrays.toString(shape) + " needs " + count);
        }
        return count;
    }

    private static Output output(String name, OnnxValue value) throws OrtException {
        if (!(value instanceof OnnxTensor t)) {
            throw ApiException.badRequest("output '" + name + "' is not a tensor, which this server does not encode; ask for other outputs");
        }
        long[] shape = t.getInfo().getShape();
        return switch (t.getInfo().type) {
            case FLOAT -> {
                FloatBuffer b = t.getFloatBuffer();
                float[] f = new float[b.remaining()];
                b.get(f);
                yield new Output(name, "FP32", shape, f);
            }
            case DOUBLE -> {
                DoubleBuffer b = t.getDoubleBuffer();
                double[] d = new double[b.remaining()];
                b.get(d);
                yield new Output(name, "FP64", shape, d);
            }
            case INT64 -> {
                LongBuffer b = t.getLongBuffer();
                long[] l = new long[b.remaining()];
                b.get(l);
                yield new Output(name, "INT64", shape, l);
            }
            case INT32 -> {
                IntBuffer b = t.getIntBuffer();
                int[] i = new int[b.remaining()];
                b.get(i);
                yield new Output(name, "INT32", shape, i);
            }
            default -> throw ApiException.badRequest("output '" + name + "' has type " + t.getInfo().type
                    + ", which this server does not encode; ask for other outputs");
        };
    }

    /** Bytes per element of a protocol datatype, for raw (binary) contents; 0 for BYTES and BOOL's 1. */
    public static int elementSize(String datatype) {
        return switch (datatype.toUpperCase(Locale.ROOT)) {
            case "BOOL", "INT8", "UINT8" -> 1;
            case "INT16", "UINT16", "FP16" -> 2;
            case "INT32", "UINT32", "FP32" -> 4;
            case "INT64", "UINT64", "FP64" -> 8;
            default -> 0;
        };
    }

    /**
     * Raw little-endian contents of a numeric datatype (the binary extension's and gRPC's {@code raw_input_contents}).
     * A length that is not a whole number of elements counts as -1 elements, which no shape matches.
     */
    public static Values raw(String datatype, ByteBuffer bytes) {
        String type = datatype == null ? "" : datatype.toUpperCase(Locale.ROOT);
        int size = elementSize(type);
        ByteBuffer le = bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
        return new Values() {
            @Override
            public long count() {
                return size == 0 || le.remaining() % size != 0 ? -1 : le.remaining() / size;
            }

            @Override
            public void copyTo(FloatBuffer out) {
                ByteBuffer b = le.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                // One loop per datatype, chosen once: a choice per element cost more than the model run's tenth.
                switch (type) {
                    case "FP32" -> out.put(b.asFloatBuffer());
                    case "FP64" -> {
                        DoubleBuffer d = b.asDoubleBuffer();
                        while (d.hasRemaining()) {
                            out.put((float) d.get());
                        }
                    }
                    case "FP16" -> {
                        while (b.hasRemaining()) {
                            out.put(half(b.getShort()));
                        }
                    }
                    case "INT8" -> {
                        while (b.hasRemaining()) {
                            out.put(b.get());
                        }
                    }
                    case "UINT8" -> {
                        while (b.hasRemaining()) {
                            out.put(b.get() & 0xff);
                        }
                    }
                    case "INT16" -> {
                        while (b.hasRemaining()) {
                            out.put(b.getShort());
                        }
                    }
                    case "UINT16" -> {
                        while (b.hasRemaining()) {
                            out.put(b.getShort() & 0xffff);
                        }
                    }
                    case "INT32" -> {
                        while (b.hasRemaining()) {
                            out.put(b.getInt());
                        }
                    }
                    case "UINT32" -> {
                        while (b.hasRemaining()) {
                            out.put(b.getInt() & 0xffffffffL);
                        }
                    }
                    case "INT64" -> {
                        while (b.hasRemaining()) {
                            out.put(b.getLong());
                        }
                    }
                    case "UINT64" -> {
                        while (b.hasRemaining()) {
                            out.put(unsigned(b.getLong()));
                        }
                    }
                    default -> throw new IllegalStateException("datatype checked before copying: " + type);
                }
            }
        };
    }

    /** IEEE 754 binary16 to float; written out because Java 17 has no conversion of its own (Java 20 does). */
    public static float half(short bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float subnormal = mantissa * 0x1p-24f;
            return sign == 0 ? subnormal : -subnormal;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** An unsigned 64-bit value as float. */
    public static float unsigned(long v) {
        return v >= 0 ? v : (float) ((v >>> 1) * 2.0 + (v & 1));
    }
}
