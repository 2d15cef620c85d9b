package org.lstmcast.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.grpc.proto.ModelInferRequest;
import org.lstmcast.grpc.proto.ModelInferResponse;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.ServerTransportFilter;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;

/**
 * How the gRPC load generator spreads its calls over connections: a server of the test's own counts the connections
 * that carried calls and the calls themselves, so a shared or a private connection per call is seen from outside.
 */
class GrpcLoadTest {
    @Test
    void callsShareConnectionsOrGetTheirOwnAsAsked() throws Exception {
        assertEquals(1, connectionsUsed(4, GrpcLoad.STREAMS_PER_CONNECTION));
        assertEquals(4, connectionsUsed(4, 1));
        assertEquals(2, connectionsUsed(3, 2));
    }

    private static int connectionsUsed(int concurrency, int streamsPerConnection) throws Exception {
        Set<Object> withCalls = ConcurrentHashMap.newKeySet();
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger opened = new AtomicInteger();
        Server server = NettyServerBuilder.forPort(0)
                .addTransportFilter(new ServerTransportFilter() {
                    @Override
                    public Attributes transportReady(Attributes attributes) {
                        opened.incrementAndGet();
                        return attributes;
                    }
                })
                .intercept(new io.grpc.ServerInterceptor() {
                    @Override
                    public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call,
                            io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, A> next) {
                        withCalls.add(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
                        return next.startCall(call, headers);
                    }
                })
                .addService(new GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase() {
                    @Override
                    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> answer) {
                        calls.incrementAndGet();
                        answer.onNext(ModelInferResponse.newBuilder().setModelName(request.getModelName()).build());
                        answer.onCompleted();
                    }
                })
                .build().start();
        try {
            HttpLoad.Result r = GrpcLoad.run("127.0.0.1", server.getPort(), GrpcLoad.request("m", "input", 2, 3),
                    concurrency, streamsPerConnection, 500, 1000);
            assertEquals(0, r.non2xx() + r.errors(), "every call answered OK");
            assertTrue(r.requests() > 0 && calls.get() >= r.requests(), r.requests() + " measured, " + calls + " served");
            assertEquals(withCalls.size(), opened.get(), "every connection opened carried calls");
            return withCalls.size();
        } finally {
            server.shutdownNow().awaitTermination();
        }
    }
}
