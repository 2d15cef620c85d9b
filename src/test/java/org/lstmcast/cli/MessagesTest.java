package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each error names what the user typed: the option, its value, the file. */
class MessagesTest {
    @TempDir
    Path tmp;

    private static MainTest.Run usage(String expected, String... args) {
        MainTest.Run r = MainTest.run(args);
        assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
        assertTrue(r.err().startsWith(args[0] + ": " + expected + "\n"), String.join(" ", args) + "\n" + r.err());
        return r;
    }

    @Test
    void serveNamesTheOptionAndItsValue() {
        usage("--port must be between 0 and 65535, got -5", "serve", "--port", "-5");
        usage("--grpc-port must be between 0 and 65535, got 70000", "serve", "--grpc-port", "70000");
        usage("--poll-seconds must be greater than 0, got 0", "serve", "--poll-seconds", "0");
        usage("--poll-seconds must be greater than 0, got -1e-3", "serve", "--poll-seconds", "-1e-3");
        usage("--max-queue-delay-us must be at least 0, got -1", "serve", "--max-queue-delay-us", "-1");
        usage("--max-batch-size must be at least 1, got 0", "serve", "--max-batch-size", "0");
        usage("--request-timeout-ms must be at least 1, got 0", "serve", "--request-timeout-ms", "0");
        usage("--max-loaded must be at least 0, got -3", "serve", "--max-loaded", "-3");
        // The first bad option is the one named, whichever order they were typed in.
        usage("--port must be between 0 and 65535, got 65536", "serve", "--threads", "0", "--port", "65536");
    }

    @Test
    void predictAndBenchNameTheOptionAndItsValue() {
        String model = tmp.resolve("m.onnx").toString();
        String data = tmp.resolve("d.csv").toString();
        usage("--horizon must be between 1 and 100000, got -2", "predict", "--model", model, "--data", data, "--horizon", "-2");
        usage("--lookback must be at least 1, got -7", "predict", "--model", model, "--data", data, "--lookback", "-7");
        usage("--horizon must be between 1 and 100000, got 100001", "predict-many", "--data", data, "--model", model,
                "--out", tmp.resolve("o.csv").toString(), "--horizon", "100001");
        usage("--duration must be greater than 0, got 0", "bench", "--duration", "0");
        usage("--concurrency values must be between 1 and 4096, got 0", "bench", "--concurrency", "4,0");
        usage("--grpc-port must be between 1 and 65535, got 0", "bench", "--grpc-port", "0");
    }

    @Test
    void aMissingFileIsSaidSoWhicheverCommandReadsIt() {
        Path missing = tmp.resolve("missing.h5");
        MainTest.Run r = MainTest.run("convert", missing.toString(), "--out", tmp.resolve("x.onnx").toString());
        assertEquals(1, r.code(), r.err());
        assertEquals("lstmcast convert: error: " + missing + ": no such file\n", r.err());
        Path inNoFolder = tmp.resolve("nope").resolve("missing.h5");
        r = MainTest.run("convert", inNoFolder.toString(), "--out", tmp.resolve("x.onnx").toString());
        assertEquals("lstmcast convert: error: " + inNoFolder + ": no such folder " + tmp.resolve("nope") + "\n", r.err());
    }

    @Test
    void inspectFailsOnADamagedKerasFileAndDescribesAnUnsupportedOne() throws IOException {
        byte[] whole = Files.readAllBytes(Path.of("src/test/resources/convert/keras/k2_lstm_stack.h5"));
        Path truncated = tmp.resolve("truncated.h5");
        Files.write(truncated, Arrays.copyOf(whole, 2000));
        MainTest.Run r = MainTest.run("inspect", truncated.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("lstmcast inspect: error: truncated.h5 cannot be read as a Keras HDF5 file"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertEquals("", r.out());

        // A readable file that does not convert is still described, with exit 0.
        MainTest.Run unsupported = MainTest.run("inspect", "src/test/resources/convert/keras/k2_unsupported.h5");
        assertEquals(0, unsupported.code(), unsupported.err());
        assertTrue(unsupported.out().contains("converts: false"), unsupported.out());
        assertFalse(unsupported.out().contains("cannot be read"), unsupported.out());
    }
}
