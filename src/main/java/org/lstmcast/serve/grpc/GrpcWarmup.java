package org.lstmcast.serve.grpc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.grpc.proto.ModelInferRequest;
import org.lstmcast.grpc.proto.ModelInferResponse;

/**
 * ModelInfer calls to the server's own gRPC port, the gRPC half of {@code serve --warm-up-traffic}: gRPC's path
 * (Netty's HTTP/2, protobuf, the inference service) shares almost nothing with the REST one, and a server warmed
 * over REST alone answered gRPC at 4% of its steady rate in the first second after ready.
 */
public final class GrpcWarmup {
    /** As the clients measured in docs/BENCHMARKS.md multiplex: calls in flight on each of a few connections. */
    private static final int CHANNELS = 2;
    private static final int CALLS_PER_CHANNEL = 8;

    private GrpcWarmup() {
    }

    /** One window of {@code values} as a ModelInfer request: FP32, little-endian, in raw_input_contents. */
    public static ModelInferRequest request(String model, String version, String input, long[] shape, float[] values) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putFloat(v);
        }
        ModelInferRequest.InferInputTensor.Builder tensor = ModelInferRequest.InferInputTensor.newBuilder()
                .setName(input).setDatatype("FP32");
        for (long d : shape) {
            tensor.addShape(d);
        }
        return ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version).addInputs(tensor)
                .addRawInputContents(ByteString.copyFrom(raw.array())).build();
    }

    /**
     * Sends {@code requests} round-robin while {@code keepGoing} holds, each call issued as the last one on its slot
     * completes; returns the calls answered OK once every slot has stopped. A slot whose call fails at the transport
     * (nothing listens, the connection broke) stops: this is a warm-up, and the REST half goes on.
     */
    public static long run(String host, int port, String apiKey, List<ModelInferRequest> requests,
                           BooleanSupplier keepGoing) throws InterruptedException {
        if (requests.isEmpty()) {
            return 0;
        }
        AtomicLong ok = new AtomicLong();
        AtomicLong next = new AtomicLong();
        CountDownLatch done = new CountDownLatch(CHANNELS * CALLS_PER_CHANNEL);
        List<ManagedChannel> channels = new ArrayList<>();
        try {
            for (int c = 0; c < CHANNELS; c++) {
                ManagedChannel channel = NettyChannelBuilder.forAddress(host, port).usePlaintext().build();
                channels.add(channel);
                GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub = GRPCInferenceServiceGrpc.newStub(channel);
                if (apiKey != null && !apiKey.isEmpty()) {
                    Metadata headers = new Metadata();
                    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + apiKey);
                    stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
                }
                for (int s = 0; s < CALLS_PER_CHANNEL; s++) {
                    new Slot(stub, requests, next, keepGoing, ok, done).call();
                }
            }
            done.await();
        } finally {
            for (ManagedChannel channel : channels) {
                channel.shutdownNow();
            }
            for (ManagedChannel channel : channels) {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        return ok.get();
    }

    /** One call in flight at a time, issued again from its own completion. */
    private record Slot(GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub, List<ModelInferRequest> requests,
                        AtomicLong next, BooleanSupplier keepGoing, AtomicLong ok, CountDownLatch done) {
        void call() {
            if (!keepGoing.getAsBoolean()) {
                done.countDown();
                return;
            }
            ModelInferRequest request = requests.get((int) (next.getAndIncrement() % requests.size()));
            stub.withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(request, new StreamObserver<>() {
                @Override
                public void onNext(ModelInferResponse value) {
                }

                @Override
                public void onError(Throwable t) {
                    if (Status.fromThrowable(t).getCause() != null) {
                        done.countDown();
                    } else {
                        // An error status from the server (a full queue, a model unloading): the path ran; go on.
                        call();
                    }
                }

                @Override
                public void onCompleted() {
                    ok.incrementAndGet();
                    call();
                }
            });
        }
    }
}
