package org.lstmcast.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * A bounded closed-loop client: each thread sends its next request when the last is answered, until stopped or
 * until the request or time budget is spent. Counts answers by status; transport errors count as status -1.
 */
final class Load implements AutoCloseable {
    final Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
    final List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong sent = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();

    /** What one request is: a path and a body; {@code check} may record an unexpected answer. */
    interface Call {
        int send(ServerProcess server) throws IOException, InterruptedException;
    }

    Load(ServerProcess server, int clients, long maxRequests, long maxMillis, IntFunction<Call> callFor) {
        long deadline = System.currentTimeMillis() + maxMillis;
        for (int i = 0; i < clients; i++) {
            Call call = callFor.apply(i);
            Thread t = new Thread(() -> {
                while (!stop.get() && System.currentTimeMillis() < deadline && sent.incrementAndGet() <= maxRequests) {
                    int status;
                    try {
                        status = call.send(server);
                    } catch (IOException e) {
                        status = -1;
                    } catch (InterruptedException e) {
                        return;
                    }
                    statuses.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
                }
            }, "load-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
    }

    long count(int status) {
        AtomicLong a = statuses.get(status);
        return a == null ? 0 : a.get();
    }

    long total() {
        return statuses.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** Waits until the request or time budget is spent. */
    void awaitDone() throws InterruptedException {
        for (Thread t : threads) {
            t.join();
        }
    }

    void stopAndWait() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(60_000);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopAndWait();
    }
}
