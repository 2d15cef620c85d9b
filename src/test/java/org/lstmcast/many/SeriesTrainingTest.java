package org.lstmcast.many;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.data.Gaps;
import org.lstmcast.data.Transform;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.Trainer;

/** One series of a long table trained as train-many trains it (without Spark): its gaps follow the format's policy. */
class SeriesTrainingTest {
    @TempDir
    Path tmp;

    @Test
    void aSeriesWithGapsFailsUnderNoneAndTrainsFilled() throws Exception {
        Trainer.useThreads(1);
        LongFormat format = new LongFormat("unique_id", "ds", "y", List.of());
        int[] positions = format.positions("t.csv", List.of("unique_id", "ds", "y"));
        List<LongFormat.Row> rows = new ArrayList<>();
        long line = 1;
        for (int t = 0; t < 100; t++) {
            if (t == 40) {
                continue; // a month with no row
            }
            String y = t == 60 ? "" : String.format(Locale.ROOT, "%.3f", 10 + t * 0.1 + Math.sin(t / 2.0));
            line++;
            rows.add(format.row("t.csv", line, LongFormat.fields("t.csv", line,
                    "A," + LocalDate.of(2010, 1, 1).plusMonths(t) + "," + y), positions));
        }
        TrainConfig config = new TrainConfig("y", List.of(), 12, 3, Transform.DIFF, 12, 1, 4, 0, 2, 32, 3e-3, 5, 0.15,
                0.2, 7, 1);
        SeriesResult none = SeriesTraining.train(format.withFill(Gaps.Fill.NONE), "t.csv", "A", rows, config,
                tmp.resolve("none"), null);
        // Row 60 sits on line 61: 59 rows before it, as month 40 has none.
        assertEquals("t.csv line 61, column 'y': empty cell (or --fill previous|linear|zero to fill gaps)", none.error());

        SeriesResult zero = SeriesTraining.train(format.withFill(Gaps.Fill.ZERO), "t.csv", "A", rows, config,
                tmp.resolve("zero"), null);
        assertNull(zero.error());
        assertEquals(100, zero.rows());
        JsonNode filled = new ObjectMapper().readTree(tmp.resolve("zero/metrics.json").toFile()).path("data")
                .path("filled");
        assertEquals("zero", filled.path("policy").asText());
        assertEquals(1, filled.path("empty_cells").asInt());
        assertEquals(1, filled.path("missing_steps").asInt());
        assertTrue(filled.path("gaps").asInt() == 2, filled.toString());
    }
}
