package org.lstmcast.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.lstmcast.Http1;
import org.lstmcast.bench.Benchmarks;
import org.lstmcast.bench.BinaryRest;
import org.lstmcast.bench.EngineBench;
import org.lstmcast.bench.GrpcLoad;
import org.lstmcast.bench.HttpLoad;
import org.lstmcast.data.DataException;
import org.lstmcast.grpc.proto.ModelInferRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        sortOptions = false,
        description = {
            "Measure a forecast server with a closed-loop HTTP load (each client sends its next request when the last is "
                    + "answered), or, with --in-process, the ONNX Runtime engine alone at given batch sizes.",
            "",
            "Requests are POST <url>/v1/models/<model>/forecast {\"inputs\": [windows]}; any server that speaks it can be "
                    + "measured. With --protocol grpc they are the Open Inference Protocol's ModelInfer over gRPC, the "
                    + "windows in raw_input_contents; with --protocol binary, POST <url>/v2/models/<model>/infer in the "
                    + "binary tensor data extension, the windows and the answers as raw FP32 after a JSON header. Latency percentiles come from HdrHistogram."})
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--url", paramLabel = "URL", description = "Server base URL (default: ${DEFAULT-VALUE}).")
    URI url = URI.create("http://127.0.0.1:8080");

    enum Protocol { rest, grpc, binary }

    @Option(names = "--protocol", paramLabel = "rest|grpc|binary", description = "rest: JSON forecast requests over "
            + "HTTP/1.1; grpc: ModelInfer with raw contents to --grpc-port on --url's host; binary: inference requests "
            + "with binary tensor data over HTTP/1.1 (default: ${DEFAULT-VALUE}).")
    Protocol protocol = Protocol.rest;

    @Option(names = "--grpc-port", paramLabel = "N", description = "The server's gRPC port, for --protocol grpc "
            + "(default: ${DEFAULT-VALUE}).")
    int grpcPort = 8081;

    @Option(names = "--streams-per-connection", paramLabel = "N", description = "For --protocol grpc: concurrent calls "
            + "that share one HTTP/2 connection; 1 gives each its own, as separate client processes would "
            + "(default: ${DEFAULT-VALUE}).")
    int streamsPerConnection = GrpcLoad.STREAMS_PER_CONNECTION;

    @Option(names = "--model", paramLabel = "NAME", description = "Model name on the server (default: ${DEFAULT-VALUE}).")
    String model = "dax";

    @Option(names = "--concurrency", paramLabel = "N", split = ",", description = "Concurrent clients, one run each (default: 1,16,64).")
    List<Integer> concurrency = List.of(1, 16, 64);

    @Option(names = "--windows", paramLabel = "N", description = "Windows per request (default: ${DEFAULT-VALUE}).")
    int windows = 1;

    @Option(names = "--steps", paramLabel = "N", description = "Steps per window (default: ${DEFAULT-VALUE}).")
    int steps = 30;

    @Option(names = "--duration", paramLabel = "S", description = "Measured seconds per run (default: ${DEFAULT-VALUE}).")
    double duration = 10;

    @Option(names = "--warmup", paramLabel = "S", description = "Unmeasured seconds before each run (default: ${DEFAULT-VALUE}).")
    double warmup = 3;

    @Option(names = "--in-process", description = "Measure the engine alone: --model-file in an OrtSession at each --batch.")
    boolean inProcess;

    @Option(names = "--model-file", paramLabel = "FILE.onnx", description = "Model for --in-process (default: ${DEFAULT-VALUE}).")
    Path modelFile = Path.of("models/dax/1/model.onnx");

    @Option(names = "--batch", paramLabel = "N", split = ",", description = "Batch sizes for --in-process (default: 1,64).")
    List<Integer> batches = List.of(1, 64);

    @Option(names = "--threads", paramLabel = "N", description = "Calling threads for --in-process (default: ${DEFAULT-VALUE}).")
    int threads = 1;

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Checks.between(spec, "--grpc-port", grpcPort, 1, 65535);
        Checks.atLeast(spec, "--windows", windows, 1);
        Checks.atLeast(spec, "--steps", steps, 1);
        Checks.positive(spec, "--duration", duration);
        Checks.atLeast(spec, "--warmup", warmup, 0);
        Checks.atLeast(spec, "--threads", threads, 1);
        Checks.atLeast(spec, "--streams-per-connection", streamsPerConnection, 1);
        Checks.eachBetween(spec, "--concurrency", concurrency, 1, 4096);
        Checks.eachBetween(spec, "--batch", batches, 1, Integer.MAX_VALUE);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Map<String, Object>> rows = new ArrayList<>();
        int failedRuns = 0;
        long warm = (long) (warmup * 1000);
        long measure = (long) (duration * 1000);
        if (inProcess) {
            for (int batch : batches) {
                EngineBench.Result r = EngineBench.run(modelFile, batch, steps, threads, warm, measure);
                rows.add(Benchmarks.row(r));
            }
        } else {
            byte[] body = Benchmarks.body(windows, steps).getBytes(StandardCharsets.UTF_8);
            URI endpoint = url.resolve("/v1/models/" + model + "/forecast");
            ModelInferRequest infer = protocol == Protocol.grpc
                    ? GrpcLoad.request(model, GrpcLoad.inputName(url.getHost(), grpcPort, model), windows, steps) : null;
            byte[] binary = protocol == Protocol.binary
                    ? BinaryRest.request(url, model, BinaryRest.body(BinaryRest.inputName(url, model), windows, steps)) : null;
            refuseWhatTheServerRefuses(infer, binary, body, endpoint);
            for (int c : concurrency) {
                HttpLoad.Ticker ticker = ticker(err, c, warmup, duration);
                // The batch counters are on the REST port's /metrics whichever protocol carries the load.
                double[] before = Benchmarks.batchTotals(url, model);
                HttpLoad.Result r = switch (protocol) {
                    case grpc -> GrpcLoad.run(url.getHost(), grpcPort, infer, c, streamsPerConnection, warm, measure, ticker);
                    case binary -> HttpLoad.runRequest(url, binary, c, warm, measure, ticker);
                    case rest -> HttpLoad.runRequest(endpoint, Http1.post(endpoint, "application/json", "", body), c,
                            warm, measure, ticker);
                };
                double[] after = Benchmarks.batchTotals(url, model);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("protocol", protocol.name());
                row.putAll(Benchmarks.row(r, windows, before, after));
                rows.add(row);
                // Said as it happens, on stderr, so that --json output stays parseable and a long sweep shows early
                // that its figures measure errors rather than forecasts.
                for (String w : Benchmarks.warnings(r)) {
                    err.println("lstmcast bench: warning: " + w);
                }
                err.flush();
                failedRuns += r.failed() ? 1 : 0;
            }
        }
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows));
        } else {
            out.print(Benchmarks.table(rows));
        }
        out.flush();
        if (failedRuns > 0) {
            err.println("lstmcast bench: error: " + failedRuns + " of " + concurrency.size() + " runs had failed requests"
                    + " (warnings above); their figures do not measure a working server");
            err.flush();
            return CommandLine.ExitCode.SOFTWARE;
        }
        return 0;
    }

    /**
     * One request before any run: when the server refuses it as a client error (an unknown model, a missing API key,
     * windows the model cannot take), every request of the sweep would be refused alike, so the sweep stops here with
     * the server's reason rather than measuring errors for minutes.
     */
    private void refuseWhatTheServerRefuses(ModelInferRequest infer, byte[] binary, byte[] body, URI endpoint) {
        String refusal;
        if (protocol == Protocol.grpc) {
            io.grpc.Status s = GrpcLoad.probe(url.getHost(), grpcPort, infer);
            refusal = s != null && GrpcLoad.clientError(s.getCode())
                    ? "gRPC " + s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription()) : null;
        } else {
            URI target = protocol == Protocol.binary ? url.resolve("/v2/models/" + model + "/infer") : endpoint;
            HttpLoad.Probe p = HttpLoad.probe(target, protocol == Protocol.binary ? binary
                    : Http1.post(endpoint, "application/json", "", body));
            refusal = p != null && p.clientError() ? "HTTP " + p.status() + serverError(p.body()) : null;
        }
        if (refusal != null) {
            throw new DataException("the server answered the first request with " + refusal
                    + "; every request would be refused alike, so nothing was measured");
        }
    }

    /** ": " and the server's {@code error} text, else the start of the body as it came; empty when there is none. */
    static String serverError(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            JsonNode error = new ObjectMapper().readTree(body).path("error");
            if (error.isTextual()) {
                return ": " + error.asText();
            }
        } catch (IOException e) {
            // not JSON: quoted as it came
        }
        return ": " + body.replaceAll("\\s+", " ").strip();
    }

    /** A line on stderr every second: where the run is, answers so far, failures so far. */
    private static HttpLoad.Ticker ticker(PrintWriter err, int concurrency, double warmup, double duration) {
        return (elapsed, answered, failed) -> {
            String phase = elapsed < warmup
                    ? String.format(Locale.ROOT, "warming up, %.0f of %s s", elapsed, seconds(warmup))
                    : String.format(Locale.ROOT, "%.0f of %s s", elapsed - warmup, seconds(duration));
            err.printf(Locale.ROOT, "lstmcast bench: concurrency %d: %s, %d answers so far%s%n", concurrency,
                    phase, answered, failed == 0 ? "" : ", " + failed + " failed");
            err.flush();
        };
    }

    private static String seconds(double s) {
        return s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s);
    }
}
