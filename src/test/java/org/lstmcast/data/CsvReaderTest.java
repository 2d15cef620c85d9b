package org.lstmcast.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class CsvReaderTest {

    private static Series read(String csv, List<String> columns, String time) throws IOException {
        return CsvReader.read(new ByteArrayInputStream(csv.getBytes(StandardCharsets.UTF_8)), "x.csv", columns, time);
    }

    private static String error(String csv, List<String> columns) {
        return assertThrows(DataException.class, () -> read(csv, columns, null)).getMessage();
    }

    @Test
    void readsRequestedColumnsInTheOrderAsked() throws IOException {
        Series s = read("date,a,b,c\n2020-01,1,2,3\n2020-02,4,5,6\n", List.of("c", "a"), null);
        assertEquals(List.of("c", "a"), s.columns());
        assertArrayEquals(new double[] {3, 1}, s.values()[0]);
        assertArrayEquals(new double[] {6, 4}, s.values()[1]);
        assertEquals(List.of("2020-01", "2020-02"), s.times());
    }

    @Test
    void toleratesByteOrderMarkQuotesSpacesAndCrLf() throws IOException {
        String csv = "\uFEFF\"day\", \"price\"\r\n\"d1\", \"1.5\"\r\nd2 ,  2e3 \r\n\r\n";
        Series s = read(csv, List.of("price"), "day");
        assertEquals(List.of("d1", "d2"), s.times());
        assertEquals(1.5, s.values()[0][0]);
        assertEquals(2000, s.values()[1][0]);
    }

    @Test
    void timeColumnIsGuessedByNameOrFallsBackToRowNumbers() throws IOException {
        assertEquals(List.of("1991.5", "1991.6"), read("index,t,DAX\n0,1991.5,1\n1,1991.6,2\n", List.of("DAX"), null).times());
        assertEquals(List.of("0", "1"), read("a,b\n1,2\n3,4\n", List.of("b"), null).times());
        assertEquals(List.of("0", "1"), read("date,b\nx,2\ny,4\n", List.of("b"), "").times());
    }

    @Test
    void emptyCellIsNamedByLineAndColumn() {
        String message = error("date,v\n2020-01,1\n2020-02,\n2020-03,3\n", List.of("v"));
        assertEquals("x.csv line 3, column 'v': empty cell", message);
    }

    @Test
    void nonNumericCellsAreRejectedWithTheirText() {
        assertEquals("x.csv line 2, column 'v': 'abc' is not a number", error("v\nabc\n", List.of("v")));
        // Double.parseDouble would accept all of these; a CSV of measurements should not.
        for (String bad : List.of("NaN", "Infinity", "0x1p3", "1.5f", "1,234")) {
            String m = error("v\n\"" + bad + "\"\n", List.of("v"));
            assertTrue(m.startsWith("x.csv line 2, column 'v': "), m);
        }
        assertTrue(error("v\n1e999\n", List.of("v")).contains("out of range"));
    }

    @Test
    void valuesBeyondFloat32AreRefusedForANetworkByLineAndColumn() throws IOException {
        String csv = "date,a,b\n2020-01,1,2\n2020-02,3,-1e39\n";
        DataException e = assertThrows(DataException.class, () -> CsvReader.readFloat32(
                new ByteArrayInputStream(csv.getBytes(StandardCharsets.UTF_8)), "x.csv", List.of("a", "b"), null));
        assertTrue(e.getMessage().startsWith("x.csv line 3, column 'b': -1e39 is too large for the network"), e.getMessage());
        assertTrue(e.getMessage().contains("float32"), e.getMessage());
        // The largest float32 itself is representable, and the plain reader keeps every finite double.
        String edge = "v\n" + Float.MAX_VALUE + "\n" + -Float.MAX_VALUE + "\n";
        Series s = CsvReader.readFloat32(new ByteArrayInputStream(edge.getBytes(StandardCharsets.UTF_8)), "x.csv",
                List.of("v"), null);
        assertEquals(Float.MAX_VALUE, (float) s.values()[0][0]);
        assertEquals(-Float.MAX_VALUE, (float) s.values()[1][0]);
        assertEquals(-1e39, read(csv, List.of("b"), null).values()[1][0]);
    }

    @Test
    void lineNumbersCountQuotedLineBreaks() {
        String csv = "note,v\n\"two\nlines\",1\nok,\n";
        assertEquals("x.csv line 4, column 'v': empty cell", error(csv, List.of("v")));
    }

    @Test
    void raggedRowsUnknownColumnsAndEmptyFilesAreClearErrors() {
        assertTrue(error("a,b\n1,2\n3\n", List.of("b")).startsWith("x.csv line 3, column 'b': missing"));
        assertEquals("x.csv: no column 'z' (columns: a, b)", error("a,b\n1,2\n", List.of("z")));
        assertEquals("x.csv: empty file (a header row is required)", error("", List.of("a")));
        assertEquals("x.csv: no data rows after the header", error("a,b\n", List.of("a")));
        assertTrue(error("a,b\n\"1,2\n", List.of("a")).startsWith("x.csv: not a readable CSV file"));
    }

    @Test
    void missingFileIsReportedByName() {
        Path missing = Path.of("no-such-dir", "missing.csv");
        DataException e = assertThrows(DataException.class, () -> CsvReader.read(missing, List.of("v"), null));
        assertEquals(missing + ": no such file", e.getMessage());
    }
}
