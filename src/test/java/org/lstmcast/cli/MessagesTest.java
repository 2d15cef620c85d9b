package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

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
        usage("--warm-up-grpc needs --warm-up-traffic SECONDS and gRPC on (--grpc-port other than 0)", "serve", "--warm-up-grpc");
        usage("--warm-up-grpc needs --warm-up-traffic SECONDS and gRPC on (--grpc-port other than 0)", "serve",
                "--warm-up-traffic", "5", "--warm-up-grpc", "--grpc-port", "0");
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

    @Test
    void trainWarnsOnStdoutWhereAnIntervalLacksTheCalibrationItsGuaranteeNeeds() throws IOException {
        // 120 monthly rows: the validation part gives 10 forecasts per step, enough for 80% (4 suffice), not for 95%,
        // which needs the smallest n with ceil(0.95 (n + 1)) <= n: 18 gives ceil(18.05) = 19 > 18, 19 gives 19.
        StringBuilder csv = new StringBuilder("month,value\n");
        for (int t = 0; t < 120; t++) {
            csv.append(String.format(Locale.ROOT, "%d-%02d,%.4f%n", 2000 + t / 12, t % 12 + 1,
                    50 + 0.05 * t + 4 * Math.sin(2 * Math.PI * t / 12)));
        }
        Path data = Files.writeString(tmp.resolve("short.csv"), csv);
        MainTest.Run r = MainTest.run("train", "--data", data.toString(), "--target", "value", "--lookback", "12",
                "--horizon", "3", "--hidden", "4", "--epochs", "1", "--ensemble", "1", "--no-refit", "--out",
                tmp.resolve("run").toString());
        assertEquals(0, r.code(), r.err());
        JsonNode intervals = new ObjectMapper().readTree(tmp.resolve("run/metrics.json").toFile()).path("intervals");
        assertFalse(intervals.path("enough_calibration_windows").path("95").asBoolean(true), intervals.toString());
        assertTrue(intervals.path("enough_calibration_windows").path("80").asBoolean(false), intervals.toString());
        int fewest = Integer.MAX_VALUE;
        for (JsonNode n : intervals.path("calibration_windows")) {
            fewest = Math.min(fewest, n.asInt());
        }
        String[] lines = r.out().split("\n");
        int calibrated = -1;
        for (int i = 0; i < lines.length; i++) {
            calibrated = lines[i].startsWith("Prediction intervals ") ? i : calibrated;
        }
        assertTrue(calibrated >= 0, r.out());
        // The warning follows the coverage lines of the calibration it qualifies, and names the level and both counts.
        assertEquals("Warning: the 95% interval is calibrated on " + fewest + " validation forecasts per step, fewer than "
                + "the 19 its coverage guarantee needs: its width is an estimate (the larger of the widest error seen and a "
                + "Student's t bound). More validation rows (--val-fraction, or more data) give it the guarantee.",
                lines[calibrated + 3], r.out());
        assertFalse(r.out().contains("the 80% interval"), r.out());
        assertTrue(r.out().contains("\nTrained 1 epoch (best 1)"), r.out());
    }

    @Test
    void countsOfOneAreSingular() {
        MainTest.Run r = MainTest.run("inspect", "models/dax/1/model.onnx");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("servable    yes: windows of 30 rows x 1 feature [DAX] -> 5 steps"), r.out());
        assertEquals(19, TrainCommand.neededForGuarantee(95));
        assertEquals(4, TrainCommand.neededForGuarantee(80));
    }
}
