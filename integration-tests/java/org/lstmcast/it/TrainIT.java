package org.lstmcast.it;

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

/** {@code lstmcast train} from the packaged jar, in a directory that is not the repository. */
class TrainIT {
    @TempDir
    Path work;

    @Test
    void trainsOnTheBundledDataFromAnyDirectory() throws Exception {
        Program.Result r = Program.run(work, "train", "--epochs", "2", "--out", "dax");
        assertEquals(0, r.code(), r.err());
        // The first line names what was kept: with 2 epochs, an anchor alone or the networks.
        assertTrue(r.out().startsWith("Kept: ") && r.out().contains(" s in all."), r.out());
        assertTrue(r.out().contains("naive"), r.out());
        assertTrue(r.err().contains("epoch 1/2"), r.err());
        for (String f : List.of("model.zip", "metrics.json", "predictions.csv", "forecast.png", "loss.png")) {
            assertTrue(Files.size(work.resolve("dax").resolve(f)) > 0, f);
        }
        JsonNode m = new ObjectMapper().readTree(work.resolve("dax/metrics.json").toFile());
        assertEquals(372, m.path("test_rows").asInt());
        assertEquals("DAX", m.path("config").path("target").asText());
        assertEquals(5, m.path("model").path("rmse").size());
        // The DAX is close to a random walk: even two epochs of a differenced model land near the naive forecast.
        double lstm = m.path("model").path("rmse").get(0).asDouble();
        double naive = m.path("baselines").path("naive").path("rmse").get(0).asDouble();
        assertTrue(lstm < 1.5 * naive, lstm + " vs " + naive);
        byte[] png = Files.readAllBytes(work.resolve("dax/forecast.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
    }

    @Test
    void seasonalDataGetsTheSeasonalBaselineWithoutBeingTold() throws Exception {
        Path csv = Program.ROOT.resolve("data/co2_monthly.csv").toAbsolutePath();
        Program.Result r = Program.run(work, "train", "--data", csv.toString(), "--target", "ppm",
                "--lookback", "24", "--horizon", "3", "--epochs", "2", "--quiet", "--out", "co2");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out(), "--quiet prints nothing");
        JsonNode m = new ObjectMapper().readTree(work.resolve("co2/metrics.json").toFile());
        assertEquals(3, m.path("baselines").path("seasonal_naive").path("mase").size());
        assertEquals("ppm", m.path("config").path("target").asText());
        assertEquals(12, m.path("season").path("period").asInt());
        assertEquals("the time column: monthly", m.path("season").path("from").asText());

        Program.Result off = Program.run(work, "train", "--data", csv.toString(), "--target", "ppm", "--season", "1",
                "--lookback", "24", "--horizon", "3", "--epochs", "1", "--out", "co2-none");
        assertEquals(0, off.code(), off.err());
        assertTrue(off.out().contains("Season: none (--season)."), off.out());
        assertFalse(off.out().contains("seasonal_naive"), off.out());
    }

    @Test
    void badInputGetsOneLineAndTheRightExitCode() throws Exception {
        Files.writeString(work.resolve("bad.csv"), "date,v\n2020-01-01,1\n2020-01-02,\n");
        Program.Result data = Program.run(work, "train", "--data", "bad.csv", "--target", "v", "--out", "run");
        assertEquals(1, data.code());
        assertEquals("lstmcast train: error: bad.csv line 3, column 'v': empty cell (or --fill previous|linear|zero to fill "
                + "gaps)", data.err().strip());
        assertFalse(Files.exists(work.resolve("run")));

        // A DAX close of 1e30 in the validation rows (line 1400): float32 holds it, but no validation loss is finite.
        // 1e300 does not fit a float32 at all and is refused while reading.
        List<String> dax = Files.readAllLines(Program.ROOT.resolve("data/eustockmarkets_daily.csv"));
        for (String huge : List.of("1e30", "1e300")) {
            List<String> lines = new ArrayList<>(dax);
            String[] cells = lines.get(1399).split(",");
            cells[2] = huge;
            lines.set(1399, String.join(",", cells));
            Files.write(work.resolve("huge.csv"), lines);
            Program.Result r = Program.run(work, "train", "--data", "huge.csv", "--target", "DAX", "--epochs", "3",
                    "--patience", "2", "--quiet", "--out", "run");
            assertEquals(1, r.code(), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("lstmcast train: error: huge.csv"), r.err());
            assertTrue(r.err().contains(huge.equals("1e30") ? "row 1399 ('1996.873077'), column 'DAX'" : "line 1400, column 'DAX'"),
                    r.err());
            assertFalse(Files.exists(work.resolve("run")));
        }

        Program.Result usage = Program.run(work, "train", "--epochs", "-3", "--out", "run");
        assertEquals(2, usage.code());
        assertTrue(usage.err().contains("epochs must be at least 1"), usage.err());
        assertFalse(usage.err().contains("Exception"), usage.err());

        Program.Result version = Program.run(work, "--version");
        assertEquals(0, version.code());
        assertTrue(version.out().startsWith("lstmcast "), version.out());
    }
}
