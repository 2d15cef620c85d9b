package org.lstmcast.forecast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sessions made from {@link Ort#sessionOptions()} keep ONNX Runtime's native console log off stderr. */
class OrtTest {
    /** What ONNX Runtime's console logger writes: ANSI colours, or its "[E:onnxruntime:..." line prefix. */
    static final Pattern NATIVE_LOG = Pattern.compile("\u001b\\[|\\[[VIWEF]:onnxruntime:");

    @TempDir
    Path tmp;

    record Child(int code, String out, String err) {
    }

    Child probe(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                SessionLogProbe.class.getName()));
        cmd.addAll(List.of(args));
        Path out = tmp.resolve("out.txt");
        Path err = tmp.resolve("err.txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        // The class path goes by environment: a long command line is what ONNX Runtime 1.29 crashes on (see NOTES).
        pb.environment().put("CLASSPATH", System.getProperty("java.class.path"));
        Process p = pb.start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the probe finished");
        return new Child(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    static String fixture(String name) throws Exception {
        return Path.of(OrtTest.class.getResource("/fixtures/" + name).toURI()).toString();
    }

    @Test
    void aRefusedModelGivesItsReasonToLstmcastAndNothingToStderr() throws Exception {
        String layout1 = fixture("helper_lstm_layout1.onnx");
        String truncated = fixture("truncated.onnx");
        String good = fixture("torch_lstm_univariate.onnx");
        Child quiet = probe(layout1, truncated, good);
        assertEquals(0, quiet.code(), quiet.err());
        assertTrue(quiet.out().contains("refused: " + layout1 + ": ") && quiet.out().contains("layout == 1"),
                "the reason comes back in the exception: " + quiet.out());
        assertTrue(quiet.out().contains("refused: " + truncated + ": "), quiet.out());
        assertTrue(quiet.out().contains("loaded: " + good), "a valid model still loads: " + quiet.out());
        assertTrue(!NATIVE_LOG.matcher(quiet.err()).find(), "native log on stderr:\n" + quiet.err());

        // The same models with ONNX Runtime's default options: proves the check above can see the native log.
        Child plain = probe("--plain", layout1);
        assertTrue(NATIVE_LOG.matcher(plain.err()).find(), "default options log natively:\n" + plain.err());
    }
}
