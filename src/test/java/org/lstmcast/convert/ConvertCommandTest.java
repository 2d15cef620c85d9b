package org.lstmcast.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.cli.Main;
import org.lstmcast.convert.keras.KerasReader;
import org.lstmcast.export.OnnxCheckerTest;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.model.Activation;

/** {@code lstmcast convert} end to end: the command line, the files it writes, and what they answer. */
class ConvertCommandTest {
    @TempDir
    Path tmp;

    /**
     * The tutorial recipe: an LSTM trained on MinMax-scaled DAX closes, window 60. Converted with the scaler fitted
     * from the CSV, it takes raw closes and answers in index points, equal to NumPy's forecast of the same windows.
     */
    @Test
    void kerasStockModelAnswersInPricesWithTheFittedScaler() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(KerasConversionTest.DIR.resolve("stock_lstm_w60.expected.json").toFile());
        Path repo = tmp.resolve("repo");
        String out = run(0, "convert", KerasConversionTest.DIR.resolve("stock_lstm_w60.h5").toString(),
                "--fit-scaler", "data/eustockmarkets_daily.csv", "--columns", "DAX",
                "--train-rows", expected.get("train_rows").asText(), "--out", repo.resolve("dax_keras").toString());
        assertTrue(out.contains("proof:"), out);
        Path written = repo.resolve("dax_keras").resolve("1").resolve("model.onnx");
        assertTrue(Files.isRegularFile(written), out);

        OnnxMl.ModelProto model = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(written));
        Map<String, String> meta = new HashMap<>();
        model.getMetadataPropsList().forEach(p -> meta.put(p.getKey(), p.getValue()));
        ForecastSpec spec = ForecastSpec.fromMetadata(meta);
        assertEquals(60, spec.lookback());
        assertEquals(1, spec.horizon());
        assertEquals("DAX", spec.target());
        assertEquals("keras", meta.get("converted_from"));
        assertEquals(Converter.sha256(KerasConversionTest.DIR.resolve("stock_lstm_w60.h5")), meta.get("source_sha256"));

        List<double[][]> raw = new ArrayList<>();
        for (JsonNode w : expected.get("raw_windows")) {
            double[][] rows = new double[w.size()][1];
            for (int t = 0; t < rows.length; t++) {
                rows[t][0] = w.get(t).asDouble();
            }
            raw.add(rows);
        }
        double[][] want = KerasConversionTest.flatRows(expected.get("forecast_raw"));
        KerasConversionTest.assertClose(want, Converter.runOrt(model.toByteArray(), raw), 1e-4, "stock forecast in prices");
        // A second conversion goes to the next version folder.
        run(0, "convert", KerasConversionTest.DIR.resolve("stock_lstm_w60.h5").toString(), "--scale-min", "1402.34",
                "--scale-max", "3430.95", "--out", repo.resolve("dax_keras").toString());
        assertTrue(Files.isRegularFile(repo.resolve("dax_keras").resolve("2").resolve("model.onnx")));
    }

    @Test
    void refusalsWriteNothingAndSayWhy() throws Exception {
        Path target = tmp.resolve("x.onnx");
        String err = run(1, "convert", KerasConversionTest.DIR.resolve("k2_unsupported.h5").toString(), "--out", target.toString());
        assertTrue(err.contains("Conv1D") && err.contains("not supported"), err);
        err = run(1, "convert", KerasConversionTest.DIR.resolve("stock_lstm_w60.h5").toString(), "--lookback", "30",
                "--out", target.toString());
        assertTrue(err.contains("--lookback 30") && err.contains("60"), err);
        err = run(1, "convert", KerasConversionTest.DIR.resolve("stock_lstm_w60.h5").toString(), "--scale-min", "1,2",
                "--scale-max", "3,4", "--out", target.toString());
        assertTrue(err.contains("one value per input feature"), err);
        assertFalse(Files.exists(target));
    }

    @Test
    void withoutAScalerTheAnswerIsInTheTrainingUnitsAndTheScalerOptionsAreNamed() throws Exception {
        String h5 = KerasConversionTest.DIR.resolve("stock_lstm_w60.h5").toString();
        String plain = run(0, "convert", h5, "--out", tmp.resolve("plain.onnx").toString());
        assertTrue(plain.contains("model:   raw windows of 60 rows in, 1 forecast out, in the units the model was trained "
                + "on: no scaler was given. If it was trained on scaled values, fold the scaler in with --scale-min/"
                + "--scale-max (the MinMaxScaler's data_min_ and data_max_) or --fit-scaler DATA.csv --columns C,... "
                + "[--train-rows N], and it answers in original units\n"), plain);
        assertFalse(plain.contains("original units out"), plain);
        String scaled = run(0, "convert", h5, "--scale-min", "1402.34", "--scale-max", "3430.95", "--out",
                tmp.resolve("scaled.onnx").toString());
        assertTrue(scaled.contains("model:   raw windows of 60 rows in, 1 forecast in original units out\n"), scaled);
    }

    @Test
    void aSoftmaxHeadIsNamedAsClassProbabilities() throws Exception {
        // Keras 2 functional: LSTM(4, seq) -> LSTM(3) -> Dense(2, softmax), windows of 6 steps of 3 features.
        String h5 = KerasConversionTest.DIR.resolve("k2_functional.h5").toString();
        String out = run(0, "convert", h5, "--out", tmp.resolve("classes.onnx").toString());
        assertTrue(out.contains("model:   raw windows of 6 rows in, 2 class probabilities out (a softmax head: a "
                + "classifier's output, not forecasts)\n"), out);
        assertFalse(out.contains("original units"), out);
        // Activation(softmax) as a layer after the last Dense is the same head.
        String act = run(0, "convert", KerasConversionTest.DIR.resolve("k2_activations.h5").toString(), "--out",
                tmp.resolve("act.onnx").toString());
        assertTrue(act.contains("3 class probabilities out"), act);
        // Unscaling probabilities into the series' units is meaningless: refused, and nothing is written.
        Path target = tmp.resolve("scaled-classes.onnx");
        String err = run(1, "convert", h5, "--scale-min", "0,0,0", "--scale-max", "1,1,1", "--out", target.toString());
        assertTrue(err.contains("the model ends in a softmax: it answers class probabilities"), err);
        assertFalse(Files.exists(target));
        JsonNode inspected = new ObjectMapper().readTree(run(0, "inspect", "--json", h5));
        assertEquals("class probabilities (a softmax head), not forecasts", inspected.path("output").asText(), inspected.toString());
        // A linear head is not one.
        JsonNode linear = new ObjectMapper().readTree(run(0, "inspect", "--json",
                KerasConversionTest.DIR.resolve("k3_functional.h5").toString()));
        assertFalse(linear.has("output"), linear.toString());
    }

    /** A dropped-in source is converted once and reused until its bytes or its settings change. */
    @Test
    void theCachedConversionIsReusedUntilTheSourceOrItsSettingsChange() throws Exception {
        Path source = tmp.resolve("m/1/model.h5");
        Files.createDirectories(source.getParent());
        Files.copy(KerasConversionTest.DIR.resolve("stock_lstm_w60.h5"), source);
        ConvertOptions scaled = ConvertOptions.defaults().withScale(new double[] {1402.34}, new double[] {3430.95});
        Converter.Cached first = Converter.cached(source, scaled);
        assertFalse(first.reused());
        assertEquals(source.getParent().resolve("model.converted.onnx"), first.file());
        assertTrue(Converter.cached(source, scaled).reused());
        Converter.Cached rescaled = Converter.cached(source, ConvertOptions.defaults().withScale(new double[] {0}, new double[] {1}));
        assertFalse(rescaled.reused(), "other settings, another conversion");
        Files.copy(KerasConversionTest.DIR.resolve("k2_old_list_config.h5"), source, StandardCopyOption.REPLACE_EXISTING);
        assertFalse(Converter.cached(source, ConvertOptions.defaults().withScale(new double[] {0, 0}, new double[] {1, 1})).reused(),
                "another source, another conversion");
    }

    @Test
    void inspectSaysWhetherAndHowASourceConverts() throws Exception {
        JsonNode ok = new ObjectMapper().readTree(run(0, "inspect", "--json",
                KerasConversionTest.DIR.resolve("k2_encoder_decoder.h5").toString()));
        assertTrue(ok.get("converts").asBoolean(), ok.toString());
        assertEquals(3, ok.get("horizon").asInt(), "RepeatVector(3) then a sequence: three steps ahead");
        assertTrue(ok.get("layers").toString().contains("RepeatVector(3)"), ok.toString());
        JsonNode refused = new ObjectMapper().readTree(run(0, "inspect", "--json",
                KerasConversionTest.DIR.resolve("k2_unsupported.h5").toString()));
        assertFalse(refused.get("converts").asBoolean());
        assertTrue(refused.get("reason").asText().contains("Conv1D"), refused.toString());
    }

    /** Every Keras fixture's conversion passes the reference ONNX checker's full check. */
    @Test
    void conversionsPassTheOnnxChecker() throws Exception {
        String python = OnnxCheckerTest.pythonWithOnnx();
        assumeTrue(python != null || System.getenv("CI") != null, "no python3 with the onnx package");
        assertTrue(python != null, "CI must have python3-onnx installed");
        List<String> files = new ArrayList<>();
        try (Stream<Path> h5 = Files.list(KerasConversionTest.DIR)) {
            for (Path p : h5.filter(f -> f.toString().endsWith(".h5")).sorted().toList()) {
                if (p.getFileName().toString().contains("unsupported")) {
                    continue;
                }
                Converter.Result r = Converter.convert(p, ConvertOptions.defaults()
                        .withLookback(KerasReader.read(p, null).steps() > 0 ? 0 : 7));
                Path onnx = tmp.resolve(p.getFileName() + ".onnx");
                Converter.write(r, onnx);
                files.add(onnx.toString());
            }
        }
        List<String> command = new ArrayList<>(List.of(python, "-c", String.join("\n", "import sys, onnx",
                "for p in sys.argv[1:]:", "    onnx.checker.check_model(onnx.load(p), full_check=True)", "    print('ok', p)")));
        command.addAll(files);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertEquals(files.size(), out.lines().filter(l -> l.startsWith("ok ")).count(), out);
    }

    /** Runs the CLI in-process; returns stdout on success, stderr on failure. */
    static String run(int expectedCode, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        String o = out.toString(StandardCharsets.UTF_8);
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(expectedCode, code, "exit code; out: " + o + " err: " + e);
        return expectedCode == 0 ? o : e;
    }
}
