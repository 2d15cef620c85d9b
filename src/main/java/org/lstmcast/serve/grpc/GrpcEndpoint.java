package org.lstmcast.serve.grpc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.StreamObserver;
import org.lstmcast.Version;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.grpc.proto.InferTensorContents;
import org.lstmcast.grpc.proto.ModelInferRequest;
import org.lstmcast.grpc.proto.ModelInferResponse;
import org.lstmcast.grpc.proto.ModelMetadataRequest;
import org.lstmcast.grpc.proto.ModelMetadataResponse;
import org.lstmcast.grpc.proto.ModelReadyRequest;
import org.lstmcast.grpc.proto.ModelReadyResponse;
import org.lstmcast.grpc.proto.ServerLiveRequest;
import org.lstmcast.grpc.proto.ServerLiveResponse;
import org.lstmcast.grpc.proto.ServerMetadataRequest;
import org.lstmcast.grpc.proto.ServerMetadataResponse;
import org.lstmcast.grpc.proto.ServerReadyRequest;
import org.lstmcast.grpc.proto.ServerReadyResponse;
import org.lstmcast.serve.ApiException;
import org.lstmcast.serve.ApiKey;
import org.lstmcast.serve.Batcher;
import org.lstmcast.serve.Failure;
import org.lstmcast.serve.Inference;
import org.lstmcast.serve.ModelRegistry;
import org.lstmcast.serve.ModelVersion;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.TensorDescription;

/**
 * The Open Inference Protocol over gRPC ({@code inference.GRPCInferenceService}, as KServe defines it), a shell over
 * the same registry, inference core, limits, metrics and API key as REST; errors are the REST errors' messages under
 * the matching gRPC status codes. Beside it, the standard health service ({@code grpc.health.v1}, for Kubernetes gRPC
 * probes) and server reflection.
 */
public final class GrpcEndpoint implements AutoCloseable {
    /** Calls a probe or load balancer makes without credentials, as REST's health routes. */
    private static final Set<String> OPEN = Set.of("grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch",
            "inference.GRPCInferenceService/ServerLive", "inference.GRPCInferenceService/ServerReady");
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();
    private final ScheduledExecutorService readiness;
    /** Calls that may wait: never on the transport's threads. */
    private final ExecutorService blocking;
    /** Whether the server is ready, as {@code GET /v2/health/ready} answers it. */
    private final BooleanSupplier ready;

    public GrpcEndpoint(ModelRegistry registry, ServeConfig config, ApiKey apiKey) {
        ready = () -> registry.ready(config.strictReadiness());
        if (!org.slf4j.bridge.SLF4JBridgeHandler.isInstalled()) {
            org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
            org.slf4j.bridge.SLF4JBridgeHandler.install();
        }
        blocking = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "grpc-call");
            t.setDaemon(true);
            return t;
        });
        Service service = new Service(registry, config, config.extensions(), blocking);
        // Calls run on the transport's threads, as Triton's and the forecast route's do: a request that joins a
        // batcher is parsed, checked and queued where it was read, with no hand-off per call, so the requests that
        // one read brings reach the batcher together. Whatever may wait (a model's load, a run outside the batcher)
        // moves to the blocking pool first; see Service.
        server = NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.grpc().port()))
                .directExecutor()
                .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, config.grpc().maxMessageBytes()))
                .addService(ServerInterceptors.intercept(parsedByHandler(service.bindService()), new Authorization(apiKey)))
                .addService(health.getHealthService())
                .addService(ServerInterceptors.intercept(ProtoReflectionServiceV1.newInstance(), new Authorization(apiKey)))
                .build();
        // The health service is told, not asked: follow the server's readiness.
        readiness = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "grpc-health");
            t.setDaemon(true);
            return t;
        });
        readiness.scheduleWithFixedDelay(this::refreshHealth, 0, 500, TimeUnit.MILLISECONDS);
    }

    /**
     * Tells the health service the server's readiness now; besides the poll, called once the start-up loading ends,
     * so that a server whose start has returned never answers a probe with the status from before its models loaded.
     */
    public void refreshHealth() {
        ServingStatus s = ready.getAsBoolean() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        health.setStatus("", s);
        health.setStatus(GRPCInferenceServiceGrpc.SERVICE_NAME, s);
    }

    /** Starts listening; returns the port (useful with port 0). */
    public int start() throws IOException {
        server.start();
        return server.getPort();
    }

    /** Stops taking calls and lets those in flight finish (up to 30 s). */
    @Override
    public void close() {
        readiness.shutdownNow();
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(30, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        blocking.shutdown();
    }

    /**
     * The service with every request parsed inside its call rather than by the transport: grpc-java answers a message
     * its marshaller cannot parse with UNKNOWN ("Application error processing RPC") and logs a stack trace, where
     * malformed bytes are the client's mistake, INVALID_ARGUMENT.
     */
    static ServerServiceDefinition parsedByHandler(ServerServiceDefinition service) {
        List<ServerMethodDefinition<byte[], ?>> methods = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            methods.add(parsedByHandler(m));
        }
        // The same schema as the generated service, so that reflection still describes it.
        io.grpc.ServiceDescriptor.Builder descriptor = io.grpc.ServiceDescriptor.newBuilder(
                service.getServiceDescriptor().getName()).setSchemaDescriptor(service.getServiceDescriptor().getSchemaDescriptor());
        methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
        methods.forEach(b::addMethod);
        return b.build();
    }

    /** A message as its bytes, unparsed. */
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                // Bounded: the transport has already refused messages over the maximum inbound size.
                return stream.readAllBytes();
            } catch (IOException e) {
                throw Status.INVALID_ARGUMENT.withDescription("cannot read the message").asRuntimeException();
            }
        }
    };

    @SuppressWarnings("unchecked")
    private static <Q, A> ServerMethodDefinition<byte[], A> parsedByHandler(ServerMethodDefinition<Q, A> m) {
        MethodDescriptor<Q, A> typed = m.getMethodDescriptor();
        MethodDescriptor<byte[], A> raw = typed.toBuilder(BYTES, typed.getResponseMarshaller()).build();
        ServerCallHandler<byte[], A> handler = (call, headers) -> {
            // The request type appears in no method of ServerCall that the handler uses, so one call serves both views.
            ServerCall.Listener<Q> inner = m.getServerCallHandler().startCall((ServerCall<Q, A>) (ServerCall<?, A>) call, headers);
            return new ServerCall.Listener<>() {
                private boolean refused;

                @Override
                public void onMessage(byte[] message) {
                    Q request;
                    try {
                        request = typed.parseRequest(new ByteArrayInputStream(message));
                    } catch (RuntimeException e) {
                        refused = true;
                        call.close(Status.INVALID_ARGUMENT.withDescription("malformed " + typed.getBareMethodName()
                                + " message: not a valid protobuf encoding of " + typed.getFullMethodName().split("/")[0]
                                + "'s request"), new Metadata());
                        return;
                    }
                    inner.onMessage(request);
                }

                @Override
                public void onHalfClose() {
                    if (!refused) {
                        inner.onHalfClose();
                    }
                }

                @Override
                public void onCancel() {
                    inner.onCancel();
                }

                @Override
                public void onComplete() {
                    inner.onComplete();
                }

                @Override
                public void onReady() {
                    inner.onReady();
                }
            };
        };
        return ServerMethodDefinition.create(raw, handler);
    }

    /** gRPC's status for one of the server's failures; the message is the one REST gives. */
    static Status status(Throwable e) {
        Failure f = Failure.of(e);
        Status.Code code = switch (f.status()) {
            case 400, 405 -> Status.Code.INVALID_ARGUMENT;
            case 401 -> Status.Code.UNAUTHENTICATED;
            case 404 -> Status.Code.NOT_FOUND;
            case 413 -> Status.Code.RESOURCE_EXHAUSTED;
            case 499 -> Status.Code.CANCELLED;
            case 504 -> Status.Code.DEADLINE_EXCEEDED;
            case 503 -> f.retryAfter() ? Status.Code.RESOURCE_EXHAUSTED : Status.Code.UNAVAILABLE;
            default -> Status.Code.INTERNAL;
        };
        return Status.fromCode(code).withDescription(f.message());
    }

    private static final class Authorization implements ServerInterceptor {
        private final ApiKey key;

        Authorization(ApiKey key) {
            this.key = key;
        }

        @Override
        public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
            if (key.required() && !OPEN.contains(call.getMethodDescriptor().getFullMethodName())) {
                try {
                    key.check(headers.get(AUTHORIZATION));
                } catch (ApiException e) {
                    call.close(status(e), new Metadata());
                    return new ServerCall.Listener<>() {
                    };
                }
            }
            return next.startCall(call, headers);
        }
    }

    private static final class Service extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
        /** A cancel this close to the call's deadline counts as the deadline passing: more than a call's transit. */
        private static final long DEADLINE_SLACK_MS = 250;
        private final ModelRegistry registry;
        private final ServeConfig config;
        private final List<String> extensions;
        private final Executor blocking;

        Service(ModelRegistry registry, ServeConfig config, List<String> extensions, Executor blocking) {
            this.registry = registry;
            this.config = config;
            this.extensions = extensions;
            this.blocking = blocking;
        }

        @Override
        public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
            answer(out, () -> ServerLiveResponse.newBuilder().setLive(true).build());
        }

        @Override
        public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
            answer(out, () -> ServerReadyResponse.newBuilder().setReady(registry.ready(config.strictReadiness())).build());
        }

        @Override
        public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
            answerBlocking(out, () -> {
                boolean ready;
                try {
                    registry.acquire(request.getName(), version(request.getVersion())).release();
                    ready = true;
                } catch (ApiException e) {
                    // Unknown, failed or unloading: the protocol's "false".
                    ready = false;
                }
                return ModelReadyResponse.newBuilder().setReady(ready).build();
            });
        }

        @Override
        public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
            answer(out, () -> ServerMetadataResponse.newBuilder().setName("lstmcast").setVersion(Version.get())
                    .addAllExtensions(extensions).build());
        }

        @Override
        public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
            answerBlocking(out, () -> {
                ModelVersion m = registry.acquire(request.getName(), version(request.getVersion()));
                try {
                    ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder().setName(m.name)
                            .setPlatform("onnx_onnxv1");
                    registry.statuses().stream().filter(s -> s.name().equals(m.name) && s.loaded() != null)
                            .forEach(s -> b.addVersions(Long.toString(s.version())));
                    m.inputs.forEach(t -> b.addInputs(tensor(t)));
                    m.outputs.forEach(t -> b.addOutputs(tensor(t)));
                    return b.build();
                } finally {
                    m.release();
                }
            });
        }

        /**
         * Checked and queued on the transport's thread when the model is loaded and the request joins its batcher;
         * otherwise (a load first, or a run on the calling thread) on the blocking pool. Answered by whichever thread
         * completes it: a batcher worker when the call joined a batch.
         */
        @Override
        public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
            // grpc-java cancels a call whose client cancels it or whose deadline passes (the server keeps its own
            // timer for the deadline the client sent): either way the call leaves the batcher's queue if it has not
            // run, so the remaining deadline bounds its wait as the server's --request-timeout-ms does.
            io.grpc.Deadline deadline = io.grpc.Context.current().getDeadline();
            CompletableFuture<Void> gaveUp = new CompletableFuture<>();
            if (out instanceof io.grpc.stub.ServerCallStreamObserver<ModelInferResponse> call) {
                // A client whose deadline passes cancels the call itself, before the server's own timer for that
                // deadline fires: the server's copy started on arrival, later by the time the call took to get here.
                // On the wire that cancel is like any other, so one that close to the deadline counts as its passing.
                call.setOnCancelHandler(() -> gaveUp.completeExceptionally(deadline != null
                        && deadline.timeRemaining(TimeUnit.MILLISECONDS) < DEADLINE_SLACK_MS
                        ? Batcher.GaveUp.expired("the call's deadline passed before its answer")
                        : Batcher.GaveUp.cancelled("the client cancelled the call")));
            }
            ModelVersion loaded;
            Inference.Request core;
            try {
                core = request(request);
                loaded = registry.acquireLoaded(request.getModelName(), version(request.getModelVersion()));
            } catch (Exception e) {
                out.onError(status(e).asRuntimeException());
                return;
            }
            if (loaded != null && expired(loaded, deadline, out)) {
                return;
            }
            if (loaded != null && Inference.batchable(loaded, core)) {
                infer(loaded, core, request, out, true, gaveUp);
                return;
            }
            try {
                blocking.execute(() -> {
                    ModelVersion m = loaded;
                    if (m == null) {
                        try {
                            m = registry.acquire(request.getModelName(), version(request.getModelVersion()));
                        } catch (Exception e) {
                            out.onError(status(e).asRuntimeException());
                            return;
                        }
                        // The load may have taken the call's whole deadline.
                        if (expired(m, deadline, out)) {
                            return;
                        }
                    }
                    infer(m, core, request, out, false, gaveUp);
                });
            } catch (RejectedExecutionException e) {
                if (loaded != null) {
                    loaded.release();
                }
                out.onError(Status.UNAVAILABLE.withDescription("the server is shutting down").asRuntimeException());
            }
        }

        /**
         * Whether the call's deadline has passed before anything ran: then it is answered DEADLINE_EXCEEDED, counted
         * as expired, and the model held for it let go.
         */
        private static boolean expired(ModelVersion m, io.grpc.Deadline deadline, StreamObserver<ModelInferResponse> out) {
            if (deadline == null || !deadline.isExpired()) {
                return false;
            }
            try {
                m.meters.withdrawn(true);
                out.onError(Status.DEADLINE_EXCEEDED.withDescription("the call's deadline passed before it could run")
                        .asRuntimeException());
            } catch (RuntimeException gone) {
                // Cancelled by the transport meanwhile: nobody is left to answer.
            } finally {
                m.release();
            }
            return true;
        }

        /**
         * Runs or queues a request on a held model, answers it when done, and releases the model. On a transport
         * thread a call may run there when the model has been idle a while and is fast ({@link Batcher#submitOrRun}),
         * saving the two hand-offs a worker's answer costs.
         */
        private void infer(ModelVersion m, Inference.Request core, ModelInferRequest request,
                           StreamObserver<ModelInferResponse> out, boolean onTransport,
                           CompletableFuture<Void> gaveUp) {
            long start = System.nanoTime();
            CompletableFuture<Inference.Result> result;
            try {
                result = Inference.inferAsync(m, core, config.limits().requestTimeoutMs(), onTransport, gaveUp);
            } catch (Exception e) {
                result = CompletableFuture.failedFuture(e);
            }
            boolean raw = request.getRawInputContentsCount() > 0;
            result.whenComplete((r, error) -> {
                try {
                    ModelInferResponse response = error == null ? response(r, raw) : null;
                    if (response != null) {
                        out.onNext(response);
                        out.onCompleted();
                    } else {
                        out.onError(status(error).asRuntimeException());
                    }
                    m.recordRequest("grpc_infer", System.nanoTime() - start, error == null);
                } catch (RuntimeException e) {
                    try {
                        out.onError(status(e).asRuntimeException());
                    } catch (RuntimeException gone) {
                        // The call was cancelled meanwhile: nobody is left to answer.
                    }
                } finally {
                    m.release();
                }
            });
        }

        private static String version(String v) {
            return v == null || v.isEmpty() ? null : v;
        }

        private static ModelMetadataResponse.TensorMetadata tensor(TensorDescription t) {
            ModelMetadataResponse.TensorMetadata.Builder b = ModelMetadataResponse.TensorMetadata.newBuilder()
                    .setName(t.name()).setDatatype(t.isTensor() ? t.datatype() : "");
            if (t.isTensor()) {
                for (long d : t.shape()) {
                    b.addShape(d);
                }
            }
            return b.build();
        }

        private interface Call<T> {
            T run() throws Exception;
        }

        /** {@link #answer} on the blocking pool, for calls that may load a model. */
        private <T> void answerBlocking(StreamObserver<T> out, Call<T> call) {
            try {
                blocking.execute(() -> answer(out, call));
            } catch (RejectedExecutionException e) {
                out.onError(Status.UNAVAILABLE.withDescription("the server is shutting down").asRuntimeException());
            }
        }

        /** One answer or one status: every failure goes through the server's one error mapping. */
        private static <T> void answer(StreamObserver<T> out, Call<T> call) {
            T value;
            try {
                value = call.run();
            } catch (Exception | LinkageError e) {
                out.onError(status(e).asRuntimeException());
                return;
            }
            out.onNext(value);
            out.onCompleted();
        }
    }

    /** A request in the core's terms: typed or raw contents become counted values, checked before any copy. */
    static Inference.Request request(ModelInferRequest r) {
        int raw = r.getRawInputContentsCount();
        if (raw > 0 && raw != r.getInputsCount()) {
            throw ApiException.badRequest("raw_input_contents has " + raw + " entries for " + r.getInputsCount()
                    + " inputs; give one per input, in order, or none");
        }
        List<Inference.Input> inputs = new ArrayList<>();
        for (int i = 0; i < r.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor in = r.getInputs(i);
            long[] shape = in.getShapeList().stream().mapToLong(Long::longValue).toArray();
            Inference.Values values;
            if (raw > 0) {
                if (in.hasContents()) {
                    throw ApiException.badRequest("input '" + in.getName() + "' has contents while raw_input_contents is "
                            + "used; use one or the other");
                }
                values = Inference.raw(in.getDatatype(), r.getRawInputContents(i).asReadOnlyByteBuffer());
            } else {
                values = typed(in.getDatatype(), in.getContents());
            }
            inputs.add(new Inference.Input(in.getName(), in.getDatatype(), shape, values));
        }
        List<String> outputs = r.getOutputsList().stream().map(ModelInferRequest.InferRequestedOutputTensor::getName).toList();
        return new Inference.Request(r.getId().isEmpty() ? null : r.getId(), inputs, outputs);
    }

    /** The typed field that holds a datatype's values; -1 values (no shape matches) for a datatype with none. */
    private static Inference.Values typed(String datatype, InferTensorContents c) {
        String type = datatype == null ? "" : datatype.toUpperCase(Locale.ROOT);
        List<? extends Number> list = switch (type) {
            case "FP32" -> c.getFp32ContentsList();
            case "FP64" -> c.getFp64ContentsList();
            case "INT8", "INT16", "INT32" -> c.getIntContentsList();
            case "INT64" -> c.getInt64ContentsList();
            case "UINT8", "UINT16", "UINT32" -> c.getUintContentsList();
            case "UINT64" -> c.getUint64ContentsList();
            default -> null;
        };
        boolean unsigned = type.startsWith("UINT");
        return new Inference.Values() {
            @Override
            public long count() {
                return list == null ? -1 : list.size();
            }

            @Override
            public void copyTo(FloatBuffer out) {
                for (Number n : list) {
                    if (unsigned && n instanceof Integer i) {
                        out.put(Integer.toUnsignedLong(i));
                    } else if (unsigned && n instanceof Long l) {
                        out.put(Inference.unsigned(l));
                    } else {
                        out.put(n.floatValue());
                    }
                }
            }
        };
    }

    /** Raw little-endian outputs when the inputs came raw (as Triton's clients read them), typed contents otherwise. */
    static ModelInferResponse response(Inference.Result result, boolean raw) {
        ModelInferResponse.Builder b = ModelInferResponse.newBuilder().setModelName(result.modelName())
                .setModelVersion(result.modelVersion());
        if (result.id() != null) {
            b.setId(result.id());
        }
        for (Inference.Output o : result.outputs()) {
            ModelInferResponse.InferOutputTensor.Builder t = ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName(o.name()).setDatatype(o.datatype());
            for (long d : o.shape()) {
                t.addShape(d);
            }
            if (raw) {
                b.addRawOutputContents(ByteString.copyFrom(o.littleEndian()));
            } else {
                InferTensorContents.Builder c = InferTensorContents.newBuilder();
                if (o.data() instanceof float[] f) {
                    for (float v : f) {
                        c.addFp32Contents(v);
                    }
                } else if (o.data() instanceof double[] d) {
                    for (double v : d) {
                        c.addFp64Contents(v);
                    }
                } else if (o.data() instanceof long[] l) {
                    for (long v : l) {
                        c.addInt64Contents(v);
                    }
                } else if (o.data() instanceof int[] i) {
                    for (int v : i) {
                        c.addIntContents(v);
                    }
                }
                t.setContents(c);
            }
            b.addOutputs(t);
        }
        return b.build();
    }
}
