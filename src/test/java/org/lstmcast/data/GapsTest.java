package org.lstmcast.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Empty cells and missing time steps read from real CSV files, filled by each policy; expected values by hand. */
class GapsTest {
    @TempDir
    Path tmp;

    /** Monthly sales at month starts: March's sales are empty (line 4) and May 1990 is missing (between lines 5 and 6). */
    private static final String SALES = """
            date,sales,price
            1990-01-01,10,1.0
            1990-02-01,12,1.5
            1990-03-01,,2.0
            1990-04-01,18,2.5
            1990-06-01,30,3.5
            1990-07-01,31,4.0
            """;

    private static final List<String> MONTHS = List.of("1990-01-01", "1990-02-01", "1990-03-01", "1990-04-01",
            "1990-05-01", "1990-06-01", "1990-07-01");

    private Series read(String csv, Gaps.Fill fill, String... columns) throws IOException {
        Path file = Files.writeString(tmp.resolve("data.csv"), csv);
        return CsvReader.readFloat32(file, List.of(columns), null, fill);
    }

    private String error(String csv, Gaps.Fill fill, String... columns) {
        return assertThrows(DataException.class, () -> read(csv, fill, columns)).getMessage();
    }

    @Test
    void underNoneAnEmptyCellAndThenAMissingMonthStopTheReadingWithAHint() throws IOException {
        String file = tmp.resolve("data.csv").toString();
        assertEquals(file + " line 4, column 'sales': empty cell (or --fill previous|linear|zero to fill gaps)",
                error(SALES, Gaps.Fill.NONE, "sales", "price"));
        assertEquals(file + ": 1 time step missing between line 5 ('1990-04-01') and line 6 ('1990-06-01') "
                        + "(or --fill previous|linear|zero to fill gaps)",
                error(SALES.replace("1990-03-01,,", "1990-03-01,16,"), Gaps.Fill.NONE, "sales", "price"));
        // The readers without a policy keep their plain message, for commands that have no --fill.
        Path sales = Files.writeString(tmp.resolve("data.csv"), SALES);
        assertEquals(file + " line 4, column 'sales': empty cell", assertThrows(DataException.class,
                () -> CsvReader.readFloat32(sales, List.of("sales"), null)).getMessage());
    }

    @Test
    void previousCarriesTheLastValueForward() throws IOException {
        Series s = read(SALES, Gaps.Fill.PREVIOUS, "sales", "price");
        assertEquals(MONTHS, s.times());
        assertArrayEquals(new double[] {10, 12, 12, 18, 18, 30, 31}, s.column(0));
        assertArrayEquals(new double[] {1.0, 1.5, 2.0, 2.5, 2.5, 3.5, 4.0}, s.column(1));
        assertEquals(new Gaps.Filled(Gaps.Fill.PREVIOUS, 1, 1), s.filled());
        assertEquals("filled 2 gaps (previous): 1 empty cell, 1 missing time step", s.filled().describe());
    }

    @Test
    void linearInterpolatesBetweenTheNeighbours() throws IOException {
        Series s = read(SALES, Gaps.Fill.LINEAR, "sales", "price");
        assertEquals(MONTHS, s.times());
        // March halfway between 12 and 18; May halfway between 18 and 30, and between 2.5 and 3.5.
        assertArrayEquals(new double[] {10, 12, 15, 18, 24, 30, 31}, s.column(0));
        assertArrayEquals(new double[] {1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0}, s.column(1));
        assertEquals(2, s.filled().gaps());
        assertEquals(Map.of("policy", "linear", "gaps", 2, "empty_cells", 1, "missing_steps", 1),
                s.filled().toJson());
    }

    @Test
    void zeroPutsZero() throws IOException {
        Series s = read(SALES, Gaps.Fill.ZERO, "sales", "price");
        assertEquals(MONTHS, s.times());
        assertArrayEquals(new double[] {10, 12, 0, 18, 0, 30, 31}, s.column(0));
        assertArrayEquals(new double[] {1.0, 1.5, 2.0, 2.5, 0, 3.5, 4.0}, s.column(1));
    }

    @Test
    void gapsAtTheEndsTakeTheNearestValue() throws IOException {
        String csv = "date,v\n1990-01-01,\n1990-02-01,\n1990-03-01,6\n1990-04-01,9\n1990-05-01,\n";
        assertArrayEquals(new double[] {6, 6, 6, 9, 9}, read(csv, Gaps.Fill.PREVIOUS, "v").column(0));
        assertArrayEquals(new double[] {6, 6, 6, 9, 9}, read(csv, Gaps.Fill.LINEAR, "v").column(0));
        assertArrayEquals(new double[] {0, 0, 6, 9, 0}, read(csv, Gaps.Fill.ZERO, "v").column(0));
        assertEquals("data.csv, column 'v': no value to fill the gaps from",
                error("date,v\n1990-01-01,\n1990-02-01,\n", Gaps.Fill.LINEAR, "v").replace(tmp + "/", ""));
    }

    @Test
    void missingStepsAreInsertedInTheLabelsOwnStyle() throws IOException {
        // Month ends across a leap February: two months missing, a third and two thirds of the way from 3 to 12.
        Series ends = read("date,v\n1992-01-31,3\n1992-04-30,12\n1992-05-31,13\n", Gaps.Fill.LINEAR, "v");
        assertEquals(List.of("1992-01-31", "1992-02-29", "1992-03-31", "1992-04-30", "1992-05-31"), ends.times());
        assertArrayEquals(new double[] {3, 6, 9, 12, 13}, ends.column(0));
        assertEquals(List.of("1990-Q1", "1990-Q2", "1990-Q3", "1990-Q4"),
                read("date,v\n1990-Q1,1\n1990-Q2,2\n1990-Q4,4\n", Gaps.Fill.LINEAR, "v").times());
        assertEquals(List.of("1990", "1991", "1992", "1993"),
                read("year,v\n1990,1\n1991,2\n1993,4\n", Gaps.Fill.LINEAR, "v").times());
        assertEquals(List.of("2020-W52", "2020-W53", "2021-W01", "2021-W02"),
                read("week,v\n2020-W52,1\n2021-W01,3\n2021-W02,4\n", Gaps.Fill.LINEAR, "v").times());
        assertEquals(List.of("1990-01", "1990-02", "1990-03", "1990-04"),
                read("date,v\n1990-01,1\n1990-02,2\n1990-04,4\n", Gaps.Fill.PREVIOUS, "v").times());
        // Weekly dates, one week missing; daily dates on every weekday, one day missing.
        assertEquals(List.of("2020-01-06", "2020-01-13", "2020-01-20", "2020-01-27"),
                read("date,v\n2020-01-06,1\n2020-01-13,2\n2020-01-27,4\n", Gaps.Fill.ZERO, "v").times());
        List<String> days = new ArrayList<>();
        StringBuilder csv = new StringBuilder("date,v\n");
        for (int d = 1; d <= 12; d++) {
            String label = String.format("2020-01-%02d", d);
            days.add(label);
            if (d != 9) {
                csv.append(label).append(",1\n");
            }
        }
        assertEquals(days, read(csv.toString(), Gaps.Fill.ZERO, "v").times());
        assertEquals(0, read(csv.toString(), Gaps.Fill.ZERO, "v").column(0)[8]);
        assertEquals(tmp.resolve("data.csv") + ": 1 time step missing between line 9 ('2020-01-08') and line 10 "
                + "('2020-01-10') (or --fill previous|linear|zero to fill gaps)", error(csv.toString(), Gaps.Fill.NONE, "v"));
    }

    @Test
    void theFirstMissingStretchIsNamedWithTheCountInAll() {
        String csv = "date,v\n1990-01,1\n1990-04,4\n1990-05,5\n1990-06,6\n1990-08,8\n";
        assertEquals(tmp.resolve("data.csv") + ": 2 time steps missing between line 2 ('1990-01') and line 3 "
                + "('1990-04') (3 in all) (or --fill previous|linear|zero to fill gaps)", error(csv, Gaps.Fill.NONE, "v"));
    }

    @Test
    void calendarsWithoutAClearStepAreNoGaps() throws IOException {
        // Business days with a holiday (Good Friday 2024-03-29) and a weekend.
        String trading = "date,v\n2024-03-25,1\n2024-03-26,2\n2024-03-27,3\n2024-03-28,4\n2024-04-01,5\n2024-04-02,6\n"
                + "2024-04-03,7\n";
        assertUnchanged(trading, 7);
        // A shop shut on Sundays: Monday to Saturday, then Monday again.
        assertUnchanged("date,v\n2024-03-04,1\n2024-03-05,2\n2024-03-06,3\n2024-03-07,4\n2024-03-08,5\n2024-03-09,6\n"
                + "2024-03-11,7\n2024-03-12,8\n", 8);
        // Hours: a clock change or opening hours would look like missing hours.
        assertUnchanged("time,v\n2020-03-29 00:00,1\n2020-03-29 01:00,2\n2020-03-29 03:00,3\n2020-03-29 04:00,4\n", 4);
        // Numbers with no step most gaps share.
        assertUnchanged("t,v\n1,1\n2,2\n4,3\n7,4\n11,5\n", 5);
        // Labels out of order are the trainer's to refuse, not gaps.
        assertUnchanged("date,v\n1990-03,1\n1990-01,2\n1990-02,3\n", 3);
    }

    private void assertUnchanged(String csv, int rows) throws IOException {
        Series s = read(csv, Gaps.Fill.NONE, "v");
        assertEquals(rows, s.rows());
        assertEquals(0, read(csv, Gaps.Fill.LINEAR, "v").filled().gaps());
    }

    @Test
    void theBundledSeriesHaveNoGaps() throws IOException {
        // EuStockMarkets' decimal years (260 a year, to six decimals) and the CO2 months.
        Series dax = CsvReader.readFloat32(Path.of("data/eustockmarkets_daily.csv"), List.of("DAX"), null, Gaps.Fill.NONE);
        assertEquals(1860, dax.rows());
        Series dax2 = CsvReader.readFloat32(Path.of("data/eustockmarkets_daily.csv"), List.of("DAX"), null,
                Gaps.Fill.LINEAR);
        assertEquals(Gaps.Filled.NOTHING.gaps(), dax2.filled().gaps());
        assertEquals(468, CsvReader.readFloat32(Path.of("data/co2_monthly.csv"), List.of("ppm"), null,
                Gaps.Fill.NONE).rows());
    }

    @Test
    void aDecimalYearStepRoundedToFewDigitsStillCountsMissingSteps() throws IOException {
        // R's monthly ts labels to three decimals: steps of 0.083 and 0.084; one month missing after 1990.167.
        Series s = read("t,v\n1990.000,1\n1990.083,2\n1990.167,3\n1990.333,5\n1990.417,6\n", Gaps.Fill.LINEAR, "v");
        assertEquals(List.of("1990.000", "1990.083", "1990.167", "1990.250", "1990.333", "1990.417"), s.times());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, s.column(0));
    }

    @Test
    void aSeriesWithoutGapsIsReturnedAsItIs() throws IOException {
        Path file = Files.writeString(tmp.resolve("ok.csv"), "date,v\n1990-01,1\n1990-02,2\n");
        Series s = CsvReader.readFloat32(file, List.of("v"), null, Gaps.Fill.LINEAR);
        assertEquals(0, s.filled().gaps());
        assertSame(Gaps.Fill.LINEAR, s.filled().fill());
    }

    @Test
    void unknownPolicyIsNamed() {
        assertEquals(Gaps.Fill.LINEAR, Gaps.Fill.parse("linear"));
        assertEquals("--fill must be none, previous, linear or zero, not 'mean'",
                assertThrows(IllegalArgumentException.class, () -> Gaps.Fill.parse("mean")).getMessage());
    }
}
