package org.lstmcast.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Transform;

/** How a series' length decides the split and the lookback; every expected figure is worked out by hand below. */
class PlanTest {
    /** The command line's defaults: lookback left to the data, validation 0.1, test 0.2. */
    private static TrainConfig defaults(int horizon, Transform transform) {
        return new TrainConfig("y", List.of(), TrainConfig.LOOKBACK_FROM_DATA, horizon, transform, 0, 1, 8, 0, 5, 32,
                1e-3, 5, 0.1, 0.2, 1, 1, true, true);
    }

    private static TrainConfig lookback(int lookback, int horizon) {
        return new TrainConfig("y", List.of(), lookback, horizon, Transform.AUTO, 0, 1, 8, 0, 5, 32, 1e-3, 5, 0.1, 0.2, 1);
    }

    @Test
    void aMonthlySeriesOf126RowsWithHorizon18KeepsTheDefaultLookback() {
        // test ceil(0.2 * 126) = 26 >= 18; validation max(18, ceil(0.1 * 100) = 10) = 18; training 82 rows.
        // Windows with lookback 30: 82 - 30 - 18 + 1 = 35, at least max(8, ceil(82 / 4) = 21).
        Plan p = Plan.of("m.csv", 126, defaults(18, Transform.AUTO), 12);
        assertEquals(82, p.split().trainEnd());
        assertEquals(100, p.split().valEnd());
        assertEquals(30, p.lookback());
        assertTrue(p.networks());
        assertEquals("", p.shortened());
    }

    @Test
    void fortyQuarterlyRowsGetAShorterLookbackThatLeavesEnoughWindows() {
        // test ceil(8) = 8, validation max(5, ceil(3.2) = 4) = 5, training 27; room 27 - 5 + 1 = 23 windows at
        // lookback 1, less max(8, ceil(27 / 4) = 7) = 8 kept as windows: lookback 15, which spans two seasons and a row.
        Plan p = Plan.of("q.csv", 40, defaults(5, Transform.AUTO), 4);
        assertEquals(27, p.split().trainEnd());
        assertEquals(32, p.split().valEnd());
        assertEquals(15, p.lookback());
        assertTrue(p.networks());
        assertTrue(p.shortened().contains("lookback 15") && p.shortened().contains("8 windows"), p.shortened());
    }

    @Test
    void aLongWeeklySeriesReadsTwoSeasonsAndARow() {
        Plan p = Plan.of("w.csv", 1000, defaults(5, Transform.AUTO), 52);
        assertEquals(105, p.lookback());
        assertTrue(p.networks());
    }

    @Test
    void twoHorizonsAndTwoRowsAreForecastByTheAnchorsAlone() {
        // 14 rows, horizon 6: 6 to test, 6 to validate, 2 to fit; no window of 6 steps ahead fits in 2 rows.
        Plan p = Plan.of("y.csv", 14, defaults(6, Transform.AUTO), 0);
        assertEquals(2, p.split().trainEnd());
        assertEquals(8, p.split().valEnd());
        assertFalse(p.networks());
        assertEquals(2, p.lookback());
        assertTrue(p.shortened().startsWith("no network"), p.shortened());
    }

    @Test
    void whereTheFractionsLeaveNoRoomTheTestAndValidationPartsShrinkToOneHorizon() {
        // Test 0.6 and validation 0.5 of 60 rows: test 36, validation 12, training 12, whose 12 - 5 + 1 = 8 origins
        // leave no lookback of 2 or more beside 8 windows. Shrunk to 5 + 5, the training part is 50 rows: lookback
        // min(30, 50 - 5 + 1 - max(8, ceil(50 / 4) = 13)) = 30.
        TrainConfig wide = new TrainConfig("y", List.of(), TrainConfig.LOOKBACK_FROM_DATA, 5, Transform.AUTO, 0, 1, 8, 0,
                5, 32, 1e-3, 5, 0.5, 0.6, 1, 1, true, true);
        Plan p = Plan.of("s.csv", 60, wide, 0);
        assertEquals(50, p.split().trainEnd());
        assertEquals(55, p.split().valEnd());
        assertEquals(30, p.lookback());
        assertTrue(p.shortened().contains("one horizon"), p.shortened());
    }

    @Test
    void fewerThanTwoHorizonsAndTwoRowsAreRefusedWithTheRowsThatWouldDo() {
        DataException e = assertThrows(DataException.class, () -> Plan.of("s.csv", 13, defaults(6, Transform.AUTO), 0));
        assertEquals("s.csv: 13 rows are too few for a horizon of 6: a forecast needs at least 14 rows (6 to test, 6 "
                + "to validate and 2 to fit); --horizon 5 fits 13 rows", e.getMessage());
        e = assertThrows(DataException.class, () -> Plan.of("s.csv", 1, defaults(1, Transform.AUTO), 0));
        assertTrue(e.getMessage().startsWith("s.csv: 1 row is too few"), e.getMessage());
    }

    @Test
    void aLookbackGivenOnTheCommandLineIsKeptOrRefusedWithTheLongestThatFits() {
        // 120 rows: test 24, validation max(5, ceil(9.6) = 10) = 10, training 86; the longest lookback leaves one
        // window: 86 - 5 = 81.
        assertEquals(81, Plan.of("s.csv", 120, lookback(81, 5), 0).lookback());
        DataException e = assertThrows(DataException.class, () -> Plan.of("s.csv", 120, lookback(200, 5), 0));
        assertEquals("s.csv: --lookback 200 is too long for 120 rows: the 86 training rows (after 24 test and 10 "
                + "validation rows) hold no window of 200 rows and 5 steps ahead; use --lookback 81 or less, or leave it "
                + "out to fit it to the data", e.getMessage());
    }

    @Test
    void aTransformGivenOnTheCommandLineNeedsRoomForItsNetwork() {
        DataException e = assertThrows(DataException.class, () -> Plan.of("s.csv", 14, defaults(6, Transform.DIFF), 0));
        assertTrue(e.getMessage().contains("too few to train a network with the diff transform")
                && e.getMessage().contains("--transform auto"), e.getMessage());
    }
}
