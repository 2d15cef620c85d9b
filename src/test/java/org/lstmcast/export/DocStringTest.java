package org.lstmcast.export;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.lstmcast.train.ModelFile;

/** The model file's description reads as English whatever the target's name. */
class DocStringTest {
    private static ModelFile.Info info(String target, int horizon) {
        return new ModelFile.Info(1, "test", "2026-01-01T00:00:00Z", target, List.of(target), "month", "level", 12, horizon,
                12, new double[] {0}, new double[] {1}, new double[] {0}, new double[] {1}, "x.csv", "0", Map.of(), Map.of(),
                0, null, null, false, null, null);
    }

    @Test
    void aTargetEndingInSTakesABareApostropheAndOneStepIsSingular() {
        String visitors = OnnxExporter.docString(info("visitors", 1));
        assertTrue(visitors.startsWith("Forecasts the next 1 value of visitors from the last 12 rows of visitors' own history."),
                visitors);
        String price = OnnxExporter.docString(info("price", 3));
        assertTrue(price.startsWith("Forecasts the next 3 values of price from the last 12 rows of price's own history."), price);
    }
}
