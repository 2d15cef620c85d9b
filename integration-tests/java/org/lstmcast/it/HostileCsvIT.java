package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train and predict on hostile CSV files: a clear one-line error or success, never a stack trace. */
class HostileCsvIT {
    @TempDir
    Path work;

    private void assertClean(Program.Result r, String what) {
        assertTrue(r.code() == 0 || r.code() == 1, what + ": exit " + r.code() + "\n" + r.err());
        assertFalse(r.err().contains("Exception"), what + ": " + r.err());
        assertFalse(r.err().contains("\tat "), what + ": " + r.err());
        if (r.code() == 1) {
            assertEquals(1, r.err().strip().lines().count(), what + ": one line\n" + r.err());
            assertTrue(r.err().startsWith("lstmcast "), what + ": " + r.err());
        }
    }

    @Test
    void hostileFilesGetClearAnswers() throws Exception {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("empty.csv", "");
        files.put("header-only.csv", "date,price\n");
        files.put("ragged.csv", "date,price\n2020-01-01,1\n2020-01-02\n2020-01-03,3,4\n");
        files.put("bom-quoted.csv", "\uFEFF\"date\",\"price\"\n" + rows(400, "\"%s\",\"%.4f\""));
        files.put("huge-numbers.csv", "date,price\n2020-01-01,1e308\n2020-01-02,-1e308\n2020-01-03,1e999\n");
        files.put("binary.csv", "\u0000\u0001\u0002PK\u0003\u0004");
        files.put("unterminated-quote.csv", "date,price\n\"2020-01-01,1\n");
        files.put("descending.csv", "date,price\n2020-01-03,3\n2020-01-02,2\n2020-01-01,1\n");
        for (Map.Entry<String, String> f : files.entrySet()) {
            Files.writeString(work.resolve(f.getKey()), f.getValue(), StandardCharsets.UTF_8);
            Program.Result train = Program.run(work, "train", "--data", f.getKey(), "--target", "price", "--epochs", "1",
                    "--quiet", "--out", "run-" + f.getKey());
            assertClean(train, "train " + f.getKey());
            if (train.code() != 0) {
                assertFalse(Files.exists(work.resolve("run-" + f.getKey())), "no half-written run for " + f.getKey());
            }
            Program.Result predict = Program.run(work, "predict", "--model",
                    Program.ROOT.resolve("models/dax/1/model.onnx").toAbsolutePath().toString(), "--data", f.getKey(),
                    "--features", "price");
            assertClean(predict, "predict " + f.getKey());
        }
        // The quoted file with a byte-order mark is valid and trains.
        assertTrue(Files.exists(work.resolve("run-bom-quoted.csv/model.zip")));
    }

    @Test
    void predictReadsAMillionRows() throws Exception {
        Path big = work.resolve("million.csv");
        try (BufferedWriter w = Files.newBufferedWriter(big)) {
            w.write("t,DAX\n");
            double level = 2000;
            Random r = new Random(1);
            for (int i = 0; i < 1_000_000; i++) {
                level *= 1 + 0.01 * r.nextGaussian() / 10;
                w.write(i + "," + String.format(Locale.ROOT, "%.2f", level) + "\n");
            }
        }
        Program.Result r = Program.run(work, "predict", "--model",
                Program.ROOT.resolve("models/dax/1/model.onnx").toAbsolutePath().toString(), "--data", big.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("DAX after 999999 (last 30 of 1000000 rows)"), r.out());
    }

    private static String rows(int n, String format) {
        StringBuilder sb = new StringBuilder();
        LocalDate d = LocalDate.of(2020, 1, 1);
        for (int i = 0; i < n; i++) {
            sb.append(String.format(Locale.ROOT, format, d.plusDays(i), 100 + 10 * Math.sin(i / 5.0) + i * 0.05)).append('\n');
        }
        return sb.toString();
    }
}
