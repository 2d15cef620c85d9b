package org.lstmcast.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.HdrHistogram.Recorder;
import org.lstmcast.Http1;

/**
 * A closed-loop HTTP load generator: a fixed number of clients, each on its own keep-alive connection, sends its next
 * request as soon as the last is answered. Written on plain sockets rather than an HTTP client library so that the
 * client's own cost per request stays small next to the server's, as with wrk.
 */
public final class HttpLoad {

    /**
     * One measured run. Latencies in microseconds. {@code requests} and {@code non2xx} count the measured seconds;
     * {@code problems} counts every failure from the first request on, warm-up included, since a server that fails
     * while warming up is failing too.
     */
    public record Result(int concurrency, double seconds, long requests, long non2xx, long errors, double p50, double p90,
                         double p99, double p999, double max, List<Problem> problems) {
        public double requestsPerSecond() {
            return requests / seconds;
        }

        /** Answers with a 2xx status per second in the measured seconds: the only ones that carried forecasts. */
        public double successesPerSecond() {
            return (requests - non2xx) / seconds;
        }

        /** True when any request was answered with a status other than 2xx or failed on its connection. */
        public boolean failed() {
            return !problems.isEmpty();
        }
    }

    /**
     * One kind of failure: {@code what} is "HTTP 404" or the exception's class ("ConnectException"), {@code count} how
     * often it happened, {@code example} the first answer's body or exception message, so that the reason is shown.
     */
    public record Problem(String what, long count, String example) {
    }

    private HttpLoad() {
    }

    /**
     * Told about once a second while a run goes on, so that a long sweep is seen to progress.
     *
     * @param elapsedSeconds since the run started, warm-up included
     * @param answered       answers so far, warm-up included
     * @param failed         answers that were not 2xx and failed connections so far
     */
    @FunctionalInterface
    public interface Ticker {
        Ticker NONE = (elapsedSeconds, answered, failed) -> { };

        void tick(double elapsedSeconds, long answered, long failed);
    }

    /** What the server answered one request; null status where it could not be reached (the run will say why). */
    public record Probe(int status, String body) {
        public boolean clientError() {
            return status / 100 == 4;
        }
    }

    /**
     * Sends {@code request} once on its own connection: a server that refuses it (an unknown model, a missing API key)
     * refuses the whole run, which need not be measured to know that. Null when the server cannot be reached, which
     * the run itself reports.
     */
    public static Probe probe(URI url, byte[] request) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(url.getHost(), url.getPort()), 5000);
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(request);
            out.flush();
            Http1.Response r = Http1.readResponse(new BufferedInputStream(socket.getInputStream(), 65536));
            return new Probe(r.status(), r.body());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Runs {@code warmupMillis} unmeasured, then {@code durationMillis} measured, with {@code concurrency} clients, each
     * posting {@code body} as JSON to {@code url}.
     */
    public static Result run(URI url, byte[] body, int concurrency, long warmupMillis, long durationMillis)
            throws InterruptedException {
        return runRequest(url, Http1.post(url, "application/json", "", body), concurrency, warmupMillis, durationMillis);
    }

    /** As {@link #run(URI, byte[], int, long, long)}, with the whole request made by the caller ({@link #request}). */
    public static Result runRequest(URI url, byte[] request, int concurrency, long warmupMillis, long durationMillis)
            throws InterruptedException {
        return runRequest(url, request, concurrency, warmupMillis, durationMillis, Ticker.NONE);
    }

    /** As {@link #runRequest(URI, byte[], int, long, long)}, telling {@code ticker} how it goes every second. */
    public static Result runRequest(URI url, byte[] request, int concurrency, long warmupMillis, long durationMillis,
                                    Ticker ticker) throws InterruptedException {
        Recorder recorder = new Recorder(3_600_000_000L, 3);
        AtomicLong ok = new AtomicLong();
        AtomicLong bad = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        Tally tally = new Tally();
        long start = System.nanoTime();
        long measureFrom = start + warmupMillis * 1_000_000;
        long end = measureFrom + durationMillis * 1_000_000;
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < concurrency; c++) {
            Thread t = new Thread(() -> client(url, request, measureFrom, end, recorder, ok, bad, errors, tally), "bench-" + c);
            t.setDaemon(true);
            clients.add(t);
            t.start();
        }
        long nextTick = start + 1_000_000_000L;
        for (Thread t : clients) {
            while (t.isAlive()) {
                t.join(Math.max(1, (nextTick - System.nanoTime()) / 1_000_000));
                if (System.nanoTime() >= nextTick) {
                    ticker.tick((System.nanoTime() - start) / 1e9, tally.answered(), tally.failed());
                    nextTick += 1_000_000_000L;
                }
            }
        }
        double seconds = (System.nanoTime() - measureFrom) / 1e9;
        var h = recorder.getIntervalHistogram();
        return new Result(concurrency, seconds, ok.get() + bad.get(), bad.get(), errors.get(),
                h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9), h.getMaxValue(), tally.problems());
    }

    /** Failures by kind, shared by the clients of one run; the first example of each kind is kept. */
    static final class Tally {
        private final ConcurrentMap<String, LongAdder> counts = new ConcurrentHashMap<>();
        private final ConcurrentMap<String, String> examples = new ConcurrentHashMap<>();
        private final LongAdder answered = new LongAdder();
        private final LongAdder failed = new LongAdder();

        /** An answer, good or bad, for the progress lines. */
        void answer() {
            answered.increment();
        }

        long answered() {
            return answered.sum();
        }

        long failed() {
            return failed.sum();
        }

        void add(String what, String example) {
            failed.increment();
            counts.computeIfAbsent(what, k -> new LongAdder()).increment();
            examples.putIfAbsent(what, example == null ? "" : example);
        }

        List<Problem> problems() {
            List<Problem> list = new ArrayList<>();
            for (Map.Entry<String, LongAdder> e : new TreeMap<>(counts).entrySet()) {
                list.add(new Problem(e.getKey(), e.getValue().sum(), examples.get(e.getKey())));
            }
            return List.copyOf(list);
        }
    }

    private static void client(URI url, byte[] request, long measureFrom, long end, Recorder recorder, AtomicLong ok,
                               AtomicLong bad, AtomicLong errors, Tally tally) {
        Socket socket = null;
        while (System.nanoTime() < end) {
            try {
                if (socket == null) {
                    socket = new Socket();
                    socket.setTcpNoDelay(true);
                    socket.connect(new InetSocketAddress(url.getHost(), url.getPort()), 5000);
                    socket.setSoTimeout(60_000);
                }
                OutputStream out = socket.getOutputStream();
                InputStream in = new BufferedInputStream(socket.getInputStream(), 65536);
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    out.write(request);
                    out.flush();
                    Http1.Response response = Http1.readResponse(in);
                    long t1 = System.nanoTime();
                    tally.answer();
                    boolean success = response.status() / 100 == 2;
                    if (!success) {
                        tally.add("HTTP " + response.status(), response.body());
                    }
                    if (t0 >= measureFrom && t1 <= end) {
                        recorder.recordValue(Math.max(1, (t1 - t0) / 1000));
                        (success ? ok : bad).incrementAndGet();
                    }
                }
            } catch (IOException | RuntimeException e) {
                // A RuntimeException here is an answer that is not HTTP (a bad status line or length): a failure of
                // the connection like any other, not a reason to lose this client for the rest of the run.
                errors.incrementAndGet();
                tally.add(e.getClass().getSimpleName(), e.getMessage());
                close(socket);
                socket = null;
                if (e instanceof java.net.ConnectException) {
                    // Nothing listens: retrying at once would only spin the CPU for the rest of the run.
                    pause(end);
                }
            }
        }
        close(socket);
    }

    private static void pause(long end) {
        try {
            Thread.sleep(Math.max(0, Math.min(10, (end - System.nanoTime()) / 1_000_000)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void close(Socket s) {
        try {
            if (s != null) {
                s.close();
            }
        } catch (IOException e) {
            // closing after a failure: nothing to add
        }
    }
}
