package org.lstmcast.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.HdrHistogram.Recorder;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.grpc.proto.ModelInferRequest;
import org.lstmcast.grpc.proto.ModelInferResponse;
import org.lstmcast.grpc.proto.ModelMetadataRequest;

/**
 * The closed loop of {@link HttpLoad} over the Open Inference Protocol's gRPC: each client has its own channel (one
 * HTTP/2 connection, as each HTTP client has its own keep-alive socket) and a blocking stub, and sends its next
 * ModelInfer as soon as the last is answered. Requests carry their windows in {@code raw_input_contents}, the
 * protocol's cheapest encoding. Any status but OK is a failed request, as a non-2xx answer is over HTTP.
 */
public final class GrpcLoad {
    private GrpcLoad() {
    }

    /**
     * A ModelInfer of {@code windows} univariate windows of {@code steps} values each, the same values as
     * {@link Benchmarks#body}, little-endian FP32 in raw_input_contents, shape [windows, steps, 1].
     */
    public static ModelInferRequest request(String model, String input, int windows, int steps) {
        double[][] levels = Benchmarks.levels(windows, steps);
        ByteBuffer raw = ByteBuffer.allocate(windows * steps * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (double[] w : levels) {
            for (double v : w) {
                raw.putFloat((float) v);
            }
        }
        return ModelInferRequest.newBuilder().setModelName(model)
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(input).setDatatype("FP32")
                        .addShape(windows).addShape(steps).addShape(1))
                .addRawInputContents(ByteString.copyFrom(raw.array())).build();
    }

    /**
     * The model's first input's name from ModelMetadata, so a model whose input is not called "input" can be measured;
     * "input" when the call fails (the failure then shows in the run itself, counted like every other).
     */
    public static String inputName(String host, int port, String model) {
        ManagedChannel channel = channel(host, port);
        try {
            var meta = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .modelMetadata(ModelMetadataRequest.newBuilder().setName(model).build());
            return meta.getInputsCount() > 0 ? meta.getInputs(0).getName() : "input";
        } catch (StatusRuntimeException e) {
            return "input";
        } finally {
            channel.shutdownNow();
        }
    }

    /**
     * Concurrent calls per connection by default: HTTP/2 multiplexes them, as one gRPC client's channel and load tools
     * (ghz) do.
     */
    public static final int STREAMS_PER_CONNECTION = 32;

    /**
     * Runs {@code warmupMillis} unmeasured, then {@code durationMillis} measured, with {@code concurrency} calls in
     * flight. Calls are asynchronous and share a few connections, and each answer issues the next call from the
     * transport's own thread: one blocking thread and one connection per call would spend the two cores this client
     * shares with the server on thread switches rather than on the protocol.
     *
     * @param streamsPerConnection calls that share one connection: {@link #STREAMS_PER_CONNECTION} as one client's
     *                             channel would, 1 for a connection per call as separate client processes would
     */
    public static HttpLoad.Result run(String host, int port, ModelInferRequest request, int concurrency,
                                      int streamsPerConnection, long warmupMillis, long durationMillis)
            throws InterruptedException {
        return run(host, port, request, concurrency, streamsPerConnection, warmupMillis, durationMillis, HttpLoad.Ticker.NONE);
    }

    /** As the other {@code run}, telling {@code ticker} how it goes every second. */
    public static HttpLoad.Result run(String host, int port, ModelInferRequest request, int concurrency,
                                      int streamsPerConnection, long warmupMillis, long durationMillis,
                                      HttpLoad.Ticker ticker) throws InterruptedException {
        Recorder recorder = new Recorder(3_600_000_000L, 3);
        AtomicLong ok = new AtomicLong();
        AtomicLong bad = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        HttpLoad.Tally tally = new HttpLoad.Tally();
        long start = System.nanoTime();
        long measureFrom = start + warmupMillis * 1_000_000;
        long end = measureFrom + durationMillis * 1_000_000;
        List<ManagedChannel> channels = new ArrayList<>();
        ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-grpc-retry");
            t.setDaemon(true);
            return t;
        });
        CountDownLatch done = new CountDownLatch(concurrency);
        try {
            int connections = (concurrency + streamsPerConnection - 1) / streamsPerConnection;
            for (int c = 0; c < connections; c++) {
                channels.add(NettyChannelBuilder.forAddress(host, port).usePlaintext().directExecutor()
                        .maxInboundMessageSize(Integer.MAX_VALUE).build());
            }
            for (int c = 0; c < concurrency; c++) {
                Caller caller = new Caller(GRPCInferenceServiceGrpc.newStub(channels.get(c % connections)), request, measureFrom,
                        end, recorder, ok, bad, errors, tally, retries, done);
                caller.call();
            }
            while (!done.await(1, TimeUnit.SECONDS)) {
                ticker.tick((System.nanoTime() - start) / 1e9, tally.answered(), tally.failed());
            }
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
            retries.shutdownNow();
        }
        double seconds = (System.nanoTime() - measureFrom) / 1e9;
        var h = recorder.getIntervalHistogram();
        return new HttpLoad.Result(concurrency, seconds, ok.get() + bad.get(), bad.get(), errors.get(),
                h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9), h.getMaxValue(), tally.problems());
    }

    /**
     * One call on its own channel, as {@link HttpLoad#probe} sends one request: the status the server answered it
     * with, or null when the server could not be reached (the run reports that).
     */
    public static Status probe(String host, int port, ModelInferRequest request) {
        ManagedChannel channel = channel(host, port);
        try {
            GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).modelInfer(request);
            return Status.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCause() != null ? null : e.getStatus();
        } finally {
            channel.shutdownNow();
        }
    }

    /** The gRPC codes that, like HTTP's 4xx, say the request itself is wrong: sending it again changes nothing. */
    public static boolean clientError(Status.Code code) {
        return switch (code) {
            case INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED, PERMISSION_DENIED, FAILED_PRECONDITION, OUT_OF_RANGE,
                 UNIMPLEMENTED, ALREADY_EXISTS -> true;
            default -> false;
        };
    }

    static ManagedChannel channel(String host, int port) {
        // No size limit on answers: a large batch's forecasts must not fail in the client.
        return NettyChannelBuilder.forAddress(host, port).usePlaintext().maxInboundMessageSize(Integer.MAX_VALUE).build();
    }

    /** One call in flight at a time, re-issued from its own completion until the run ends. */
    private record Caller(GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub, ModelInferRequest request, long measureFrom,
                          long end, Recorder recorder, AtomicLong ok, AtomicLong bad, AtomicLong errors,
                          HttpLoad.Tally tally, ScheduledExecutorService retries,
                          CountDownLatch done) {
        void call() {
            if (System.nanoTime() >= end) {
                done.countDown();
                return;
            }
            long t0 = System.nanoTime();
            stub.withDeadlineAfter(60, TimeUnit.SECONDS).modelInfer(request, new io.grpc.stub.StreamObserver<>() {
                @Override
                public void onNext(ModelInferResponse value) {
                }

                @Override
                public void onError(Throwable t) {
                    finished(t0, Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                    finished(t0, Status.OK);
                }
            });
        }

        private void finished(long t0, Status status) {
            long t1 = System.nanoTime();
            if (status.getCause() != null) {
                // A status made in the client from a transport failure (nothing listens, the connection broke): the
                // gRPC form of HttpLoad's socket error, named by its cause; retried after a pause, off the transport.
                errors.incrementAndGet();
                Throwable cause = rootCause(status.getCause());
                tally.add(cause instanceof java.net.ConnectException ? "ConnectException" : cause.getClass().getSimpleName(),
                        cause.getMessage());
                retries.schedule(this::call, Math.max(0, Math.min(10, (end - t1) / 1_000_000)), TimeUnit.MILLISECONDS);
                return;
            }
            tally.answer();
            boolean success = status.isOk();
            if (!success) {
                tally.add("gRPC " + status.getCode(), status.getDescription());
            }
            if (t0 >= measureFrom && t1 <= end) {
                recorder.recordValue(Math.max(1, (t1 - t0) / 1000));
                (success ? ok : bad).incrementAndGet();
            }
            call();
        }
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

}
