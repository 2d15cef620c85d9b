package org.lstmcast.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import ai.onnx.proto.OnnxMl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.data.DataException;

/** inspect on files lstmcast did not make: PyTorch exports and graphs built with onnx.helper (see fixtures/). */
class OnnxInspectorTest {
    @TempDir
    Path tmp;

    static Path fixture(String name) {
        try {
            return Path.of(OnnxInspectorTest.class.getResource("/fixtures/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void pytorchExportWithDynamicSequenceIsServable() {
        ModelReport r = OnnxInspector.inspect(fixture("torch_lstm_univariate.onnx"));
        assertTrue(r.servable(), r.problems().toString());
        assertEquals(List.of("batch", "seq", "1"), r.inputs().get(0).dims());
        assertEquals("x", r.forecast().inputName());
        assertEquals("y", r.forecast().outputName());
        assertEquals(3, r.forecast().horizon());
        assertEquals(0, r.forecast().lookback(), "dynamic sequence: no lookback known");
        assertEquals(1, r.operators().get("LSTM"));
        assertEquals(14L, r.opsets().get("ai.onnx"));
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("no lstmcast metadata")));
    }

    @Test
    void fixedSequenceLengthBecomesTheLookback() {
        ModelReport r = OnnxInspector.inspect(fixture("torch_lstm_2layer_multivariate.onnx"));
        assertTrue(r.servable(), r.problems().toString());
        assertEquals(24, r.forecast().lookback());
        assertEquals(3, r.forecast().featureCount());
        assertEquals(4, r.forecast().horizon());
        assertEquals(2, r.operators().get("LSTM"));
    }

    @Test
    void aTimeMajorModelIsKnownByItsDimensionNames() {
        ModelReport r = OnnxInspector.inspect(fixture("helper_time_major.onnx"));
        assertTrue(r.servable(), r.problems().toString());
        assertTrue(r.forecast().timeMajor());
        assertEquals(0, r.forecast().sequenceAxis());
        assertEquals(3, r.forecast().horizon());
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("time-major")), r.notes().toString());
    }

    @Test
    void aTimeMajorModelWithUninformativeNamesIsFoundByATestRun() throws IOException {
        // The same graph with its input dims renamed [a, b, 1]: only running it tells the layout.
        OnnxMl.ModelProto.Builder m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(fixture("helper_time_major.onnx"))).toBuilder();
        var shape = m.getGraphBuilder().getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
        shape.getDimBuilder(0).setDimParam("a");
        shape.getDimBuilder(1).setDimParam("b");
        Path renamed = Files.write(tmp.resolve("renamed.onnx"), m.build().toByteArray());
        ModelReport r = OnnxInspector.inspect(renamed);
        assertTrue(r.servable(), r.problems().toString());
        assertTrue(r.forecast().timeMajor(), "batch-first, the model answers one row per time step, not per window");
        assertTrue(r.notes().stream().anyMatch(n -> n.contains("a test run shows")), r.notes().toString());
        // Without the runtime (as the server reads a file before loading it) the names alone say batch-first.
        assertFalse(OnnxInspector.inspect(renamed, false).forecast().timeMajor());
    }

    @Test
    void unservableModelsSayWhy() {
        assertProblem("helper_lstm_layout1.onnx", "layout=1");
        assertProblem("helper_lstm_layout1.onnx", "ONNX Runtime cannot load it");
        assertProblem("helper_two_outputs.onnx", "2 outputs [Y, Y_h] and none is named 'forecast'");
        assertProblem("helper_dense.onnx", "has rank 2 [batch, 4]");
        assertProblem("helper_int_input.onnx", "is INT64, not a FLOAT sequence");
    }

    @Test
    void brokenFilesAreDataErrors() throws IOException {
        assertTrue(assertThrows(DataException.class, () -> OnnxInspector.inspect(fixture("truncated.onnx")))
                .getMessage().contains("not an ONNX model"));
        byte[] noise = new byte[4096];
        new Random(1).nextBytes(noise);
        Path random = Files.write(tmp.resolve("random.onnx"), noise);
        assertThrows(DataException.class, () -> OnnxInspector.inspect(random));
        Path empty = Files.write(tmp.resolve("empty.onnx"), new byte[0]);
        assertThrows(DataException.class, () -> OnnxInspector.inspect(empty));
        assertThrows(DataException.class, () -> OnnxInspector.inspect(tmp.resolve("missing.onnx")));
    }

    private static void assertProblem(String file, String expected) {
        ModelReport r = OnnxInspector.inspect(fixture(file));
        assertFalse(r.servable(), file);
        assertTrue(r.problems().stream().anyMatch(p -> p.contains(expected)), file + ": " + r.problems());
    }
}
