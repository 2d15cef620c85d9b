package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** inspect, predict and export through the command line, on the bundled models and the fixtures. */
class OnnxCommandsTest {
    @TempDir
    Path tmp;

    private static String fixture(String name) throws Exception {
        return Path.of(OnnxCommandsTest.class.getResource("/fixtures/" + name).toURI()).toString();
    }

    @Test
    void predictPrintsTheNextStepsAfterTheData() throws Exception {
        Path csv = tmp.resolve("f.csv");
        Path png = tmp.resolve("f.png");
        MainTest.Run r = MainTest.run("predict", "--model", "src/test/resources/fixtures/dax_lstm.onnx", "--data",
                "data/eustockmarkets_daily.csv", "--horizon", "12", "--out", csv.toString(), "--plot", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("DAX after 1998.646154 (last 30 of 1860 rows):"), r.out());
        List<String> lines = Files.readAllLines(csv);
        assertEquals("step,time,forecast", lines.get(0));
        assertEquals(13, lines.size(), "12 steps: the model's 5, then rolled forward");
        assertTrue(lines.get(1).startsWith("1,1998.65"), lines.get(1));
        double first = Double.parseDouble(lines.get(1).split(",")[2]);
        // The last DAX close is 5473.72; a one-day forecast of an index lies within a few percent of it.
        assertTrue(Math.abs(first - 5473.72) < 0.05 * 5473.72, "first forecast " + first);
        assertTrue(Files.size(png) > 10_000);
    }

    @Test
    void predictMonthlyDataLabelsFutureMonths() throws Exception {
        Path csv = tmp.resolve("co2.csv");
        MainTest.Run r = MainTest.run("predict", "--model", "models/co2/1/model.onnx", "--data", "data/co2_monthly.csv",
                "--out", csv.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(csv);
        assertTrue(lines.get(1).startsWith("1,1998-01,"), lines.get(1));
        assertTrue(lines.get(5).startsWith("5,1998-05,"), lines.get(5));
    }

    @Test
    void predictFillsGapsInTheHistoryWhenAsked() throws Exception {
        // The CO2 history with 1997-06's value emptied and 1997-03 left out.
        List<String> lines = new ArrayList<>(Files.readAllLines(Path.of("data/co2_monthly.csv")));
        lines.replaceAll(l -> l.startsWith("1997-06,") ? "1997-06," : l);
        lines.removeIf(l -> l.startsWith("1997-03,"));
        Path data = Files.write(tmp.resolve("gappy.csv"), lines);
        MainTest.Run none = MainTest.run("predict", "--model", "models/co2/1/model.onnx", "--data", data.toString());
        assertEquals(1, none.code(), none.err());
        assertTrue(none.err().contains("column 'ppm': empty cell (or --fill previous|linear|zero to fill gaps)"),
                none.err());
        Path csv = tmp.resolve("co2.csv");
        MainTest.Run r = MainTest.run("predict", "--model", "models/co2/1/model.onnx", "--data", data.toString(),
                "--fill", "previous", "--out", csv.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("predict: filled 2 gaps (previous): 1 empty cell, 1 missing time step\n", r.err());
        assertTrue(r.out().startsWith("ppm after 1997-12 (last "), r.out());
        assertTrue(r.out().contains(" of 468 rows)"), r.out());
        assertTrue(Files.readAllLines(csv).get(1).startsWith("1,1998-01,"));
    }

    @Test
    void predictWithAModelFromElsewhereNeedsItsColumns() throws Exception {
        Path data = tmp.resolve("series.csv");
        StringBuilder sb = new StringBuilder("day,price\n");
        for (int i = 0; i < 40; i++) {
            sb.append(i).append(',').append(100 + Math.sin(i)).append('\n');
        }
        Files.writeString(data, sb);
        String model = fixture("torch_lstm_univariate.onnx");
        MainTest.Run missing = MainTest.run("predict", "--model", model, "--data", data.toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("--features"), missing.err());
        MainTest.Run noLookback = MainTest.run("predict", "--model", model, "--data", data.toString(), "--features", "price");
        assertEquals(1, noLookback.code());
        assertTrue(noLookback.err().contains("--lookback"), noLookback.err());
        MainTest.Run ok = MainTest.run("predict", "--model", model, "--data", data.toString(), "--features", "price",
                "--lookback", "30");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("price after 39"), ok.out());

        MainTest.Run bad = MainTest.run("predict", "--model", fixture("helper_lstm_layout1.onnx"), "--data", data.toString());
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("layout=1"), bad.err());
        assertFalse(bad.err().contains("\tat "), bad.err());
    }

    @Test
    void inspectPrintsJsonForScripts() throws Exception {
        MainTest.Run r = MainTest.run("inspect", "--json", "src/test/resources/fixtures/dax_lstm.onnx");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertTrue(j.path("servable").asBoolean());
        assertEquals("input", j.path("inputs").get(0).path("name").asText());
        assertEquals("batch", j.path("inputs").get(0).path("dims").get(0).asText());
        assertEquals("sequence", j.path("inputs").get(0).path("dims").get(1).asText());
        assertEquals("forecast", j.path("outputs").get(0).path("name").asText());
        assertEquals(17, j.path("opsets").path("ai.onnx").asInt());
        assertEquals("30", j.path("metadata").path("lookback").asText());
        assertEquals(1, j.path("operators").path("LSTM").asInt());
        // Fixed dims are numbers, symbolic ones their names.
        assertTrue(j.path("inputs").get(0).path("dims").get(2).isIntegralNumber(), j.toString());
        assertEquals(1, j.path("inputs").get(0).path("dims").get(2).asInt());
        assertTrue(j.path("inputs").get(0).path("dims").get(0).isTextual());
        assertTrue(j.path("outputs").get(0).path("dims").get(1).isIntegralNumber(), j.toString());
        assertEquals(5, j.path("outputs").get(0).path("dims").get(1).asInt());
        assertEquals(30, j.path("forecast").path("lookback").asInt());

        // A model from elsewhere with a dynamic sequence length has no lookback at all, not a lookback of 0.
        MainTest.Run torch = MainTest.run("inspect", "--json", fixture("torch_lstm_univariate.onnx"));
        assertEquals(0, torch.code(), torch.err());
        JsonNode t = new ObjectMapper().readTree(torch.out());
        assertTrue(t.path("servable").asBoolean());
        assertFalse(t.path("forecast").has("lookback"), t.path("forecast").toString());
        assertEquals(3, t.path("forecast").path("horizon").asInt());
        assertEquals("[\"batch\",\"seq\",1]", t.path("inputs").get(0).path("dims").toString());
        assertEquals("[\"batch\",3]", t.path("outputs").get(0).path("dims").toString());

        MainTest.Run layout = MainTest.run("inspect", fixture("helper_lstm_layout1.onnx"));
        assertEquals(0, layout.code());
        assertTrue(layout.out().contains("servable    no"), layout.out());

        MainTest.Run broken = MainTest.run("inspect", fixture("truncated.onnx"));
        assertEquals(1, broken.code());
        assertTrue(broken.err().contains("not an ONNX model"), broken.err());
    }

    @Test
    void exportNeedsARunDirectory() {
        MainTest.Run r = MainTest.run("export", "--run", tmp.toString(), "--out", tmp.resolve("m.onnx").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no model.zip"), r.err());
        assertFalse(Files.exists(tmp.resolve("m.onnx")));
        assertEquals(2, MainTest.run("export", "--run", tmp.toString()).code());
    }
}
