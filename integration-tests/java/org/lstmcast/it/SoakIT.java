package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Minutes of steady load on the packaged server; resident memory and open file descriptors must stay flat.
 * Runs only in the soak profile: {@code ./mvnw -B verify -Psoak} (duration: {@code -Dlstmcast.soak.seconds}).
 */
class SoakIT {
    @TempDir
    Path work;

    @Test
    void steadyLoadKeepsMemoryAndFileDescriptorsFlat() throws Exception {
        int seconds = Integer.getInteger("lstmcast.soak.seconds", 180);
        Path repo = Files.createDirectories(work.resolve("repo"));
        ServerProcess.copy(FaultsIT.bundled("dax"), repo.resolve("dax/1/model.onnx"));
        ServerProcess.copy(FaultsIT.bundled("co2"), repo.resolve("co2/1/model.onnx"));
        String one = "[" + String.join(",", Collections.nCopies(30, "4321.5")) + "]";
        String body = "{\"inputs\": [" + String.join(",", Collections.nCopies(8, one)) + "], \"horizon\": 10}";
        try (ServerProcess server = ServerProcess.start(work, repo)) {
            List<long[]> samples = new ArrayList<>();
            Load load = new Load(server, 8, Long.MAX_VALUE, seconds * 1000L,
                    i -> s -> s.post("/v1/models/" + (i % 2 == 0 ? "dax" : "co2") + "/forecast", body).statusCode());
            long start = System.currentTimeMillis();
            while (System.currentTimeMillis() - start < seconds * 1000L) {
                Thread.sleep(10_000);
                samples.add(new long[] {(System.currentTimeMillis() - start) / 1000, server.rssBytes() >> 20,
                        server.openFiles(), load.total()});
            }
            load.awaitDone();
            System.out.println("soak: seconds, RSS MB, open fds, requests so far");
            samples.forEach(s -> System.out.printf("soak: %d, %d, %d, %d%n", s[0], s[1], s[2], s[3]));
            System.out.printf("soak: %d requests, statuses %s%n", load.total(), load.statuses);
            assertEquals(load.total(), load.count(200), load.statuses.toString());
            // After the first minute of warm-up (heap sizing, JIT), the last sample may not exceed the one at 60 s by much.
            long[] warm = samples.get(Math.min(5, samples.size() - 1));
            long[] last = samples.get(samples.size() - 1);
            assertTrue(last[1] - warm[1] < 64, "RSS flat: " + warm[1] + " -> " + last[1] + " MB");
            assertTrue(Math.abs(last[2] - warm[2]) <= 8, "file descriptors flat: " + warm[2] + " -> " + last[2]);
            assertEquals(0, server.terminate());
        }
    }
}
