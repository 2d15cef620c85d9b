package org.lstmcast.many;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Gaps;
import org.lstmcast.data.Series;
import org.lstmcast.repository.ModelRepository;

class LongFormatTest {
    private static final LongFormat FORMAT = new LongFormat("unique_id", "ds", "y", List.of("price"));

    private static LongFormat.Row row(long line, String text) {
        return FORMAT.row("t.csv", line, LongFormat.fields("t.csv", line, text),
                FORMAT.positions("t.csv", List.of("ds", "price", "unique_id", "y")));
    }

    @Test
    void columnsAreFoundByNameInAnyOrder() {
        assertArrayEquals(new int[] {2, 0, 3, 1}, FORMAT.positions("t.csv", List.of("ds", "price", "unique_id", "y")));
        DataException e = assertThrows(DataException.class, () -> FORMAT.positions("t.csv", List.of("ds", "y", "id")));
        assertEquals("t.csv: no column 'unique_id' (columns: ds, y, id)", e.getMessage());
    }

    @Test
    void aSeriesIsPutInTimeOrderWhateverTheFileOrder() {
        List<LongFormat.Row> rows = List.of(row(2, "2020-03-01,3.5,A,30"), row(3, "2020-01-01,1.5,A,10"),
                row(4, "2020-02-01,2.5,A,20"));
        Series s = FORMAT.series("t.csv", "A", rows);
        assertEquals(List.of("2020-01-01", "2020-02-01", "2020-03-01"), s.times());
        assertEquals(List.of("y", "price"), s.columns());
        assertArrayEquals(new double[] {10, 20, 30}, s.column(0));
        assertArrayEquals(new double[] {1.5, 2.5, 3.5}, s.column(1));
        assertEquals("t.csv series 'A'", s.source());
    }

    @Test
    void labelsThatAreNotTimesKeepFileOrder() {
        List<LongFormat.Row> rows = List.of(row(7, "b,1,A,2"), row(3, "c,1,A,1"), row(9, "a,1,A,3"));
        assertArrayEquals(new double[] {1, 2, 3}, FORMAT.series("t.csv", "A", rows).column(0));
    }

    @Test
    void aBadCellNamesItsLineAndColumn() {
        List<LongFormat.Row> rows = List.of(row(2, "2020-01-01,1,A,10"), row(3, "2020-02-01,1,A,1e400"),
                row(4, "2020-03-01,x,A,3"));
        DataException e = assertThrows(DataException.class, () -> FORMAT.series("t.csv", "A", rows));
        assertEquals("t.csv line 3, column 'y': 1e400 is out of range", e.getMessage());
        List<LongFormat.Row> rows2 = List.of(row(2, "2020-01-01,1,A,10"), row(4, "2020-03-01,x,A,3"));
        assertEquals("t.csv line 4, column 'price': 'x' is not a number",
                assertThrows(DataException.class, () -> FORMAT.series("t.csv", "A", rows2)).getMessage());
        List<LongFormat.Row> rows3 = List.of(row(5, "2020-01-01,1,A,"));
        assertEquals("t.csv line 5, column 'y': empty cell",
                assertThrows(DataException.class, () -> FORMAT.series("t.csv", "A", rows3)).getMessage());
    }

    @Test
    void gapsInASeriesAreRefusedOrFilledByTheFormatsPolicy() {
        // Rows in any order: May 2020 is missing, and March's y is empty.
        List<LongFormat.Row> rows = List.of(row(9, "2020-06-01,6,A,60"), row(2, "2020-01-01,1,A,10"),
                row(3, "2020-02-01,2,A,20"), row(5, "2020-03-01,3,A,"), row(7, "2020-04-01,4,A,40"));
        assertEquals("t.csv line 5, column 'y': empty cell (or --fill previous|linear|zero to fill gaps)",
                assertThrows(DataException.class, () -> FORMAT.withFill(Gaps.Fill.NONE).series("t.csv", "A", rows))
                        .getMessage());
        List<LongFormat.Row> whole = List.of(row(9, "2020-06-01,6,A,60"), row(2, "2020-01-01,1,A,10"),
                row(7, "2020-04-01,4,A,40"), row(4, "2020-03-01,3,A,30"), row(3, "2020-02-01,2,A,20"));
        assertEquals("t.csv series 'A': 1 time step missing between line 7 ('2020-04-01') and line 9 ('2020-06-01') "
                        + "(or --fill previous|linear|zero to fill gaps)",
                assertThrows(DataException.class, () -> FORMAT.withFill(Gaps.Fill.NONE).series("t.csv", "A", whole))
                        .getMessage());
        Series s = FORMAT.withFill(Gaps.Fill.LINEAR).series("t.csv", "A", rows);
        assertEquals(List.of("2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01", "2020-05-01", "2020-06-01"),
                s.times());
        assertArrayEquals(new double[] {10, 20, 30, 40, 50, 60}, s.column(0));
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, s.column(1));
        assertEquals(new Gaps.Filled(Gaps.Fill.LINEAR, 1, 1), s.filled());
        // Without a policy (train-global, predict-many) a missing step passes as it always has.
        assertEquals(5, FORMAT.series("t.csv", "A", whole).rows());
    }

    @Test
    void aTimeGivenTwiceIsRefusedWithBothLines() {
        List<LongFormat.Row> rows = List.of(row(2, "2020-01-01,1,A,10"), row(8, "2020-02-01,1,A,1"),
                row(11, "2020-01-01,1,A,3"));
        assertEquals("t.csv series 'A': t.csv line 2 and t.csv line 11 both hold time '2020-01-01'",
                assertThrows(DataException.class, () -> FORMAT.series("t.csv", "A", rows)).getMessage());
    }

    @Test
    void rowsWithoutLinesAreNamedByIdAndTime() {
        LongFormat.Row r = new LongFormat.Row("A", -1, "2020-01-01", new String[] {null, "1"});
        assertEquals("x.parquet, the row with unique_id 'A' and ds '2020-01-01', column 'y': empty cell",
                assertThrows(DataException.class, () -> FORMAT.series("x.parquet", "A", List.of(r))).getMessage());
    }

    @Test
    void aShortRowFailsItsSeriesAndARowWithoutAnIdTheTable() {
        LongFormat.Row shortRow = FORMAT.row("t.csv", 6, LongFormat.fields("t.csv", 6, "2020-01-01,1,A"),
                new int[] {2, 0, 3, 1});
        assertEquals("A", shortRow.id());
        DataException e = assertThrows(DataException.class,
                () -> FORMAT.series("t.csv", "A", List.of(row(2, "2020-01-01,1,A,10"), shortRow)));
        assertEquals("t.csv line 6, column 'y': missing (the row has 3 fields)", e.getMessage());
        DataException noId = assertThrows(DataException.class, () -> FORMAT.row("t.csv", 6,
                LongFormat.fields("t.csv", 6, "2020-01-01,1"), new int[] {2, 0, 3, 1}));
        assertEquals("t.csv line 6, column 'unique_id': missing (the row has 2 fields)", noId.getMessage());
        assertEquals("t.csv line 7, column 'unique_id': empty series id",
                assertThrows(DataException.class, () -> row(7, "2020-01-01,1,,3")).getMessage());
    }

    @Test
    void quotedFieldsAreReadAndAFieldSpanningLinesIsRefused() {
        assertEquals(List.of("a,b", "2", "x\"y"), LongFormat.fields("t.csv", 2, "\"a,b\", 2 ,\"x\"\"y\""));
        assertEquals(List.of("id", "ds"), LongFormat.fields("t.csv", 1, "\uFEFFid,ds"));
        DataException e = assertThrows(DataException.class, () -> LongFormat.fields("t.csv", 9, "\"open,1"));
        assertTrue(e.getMessage().startsWith("t.csv line 9"), e.getMessage());
    }

    @Test
    void idsThatAreNamesStayAndOthersMapToSafeDistinctNames() {
        assertEquals("store_7", ModelNames.of("store_7"));
        assertFalse(ModelNames.mapped("SKU-12.a"));
        List<String> odd = List.of("store 7", "store/7", "store\\7", "../etc", "..", "é", "", "a..b",
                "x".repeat(300), "-lead", "store 7 ");
        List<String> names = new ArrayList<>();
        for (String id : odd) {
            String name = ModelNames.of(id);
            assertTrue(ModelRepository.validName(name), id + " -> " + name);
            assertTrue(ModelNames.mapped(id));
            assertEquals(name, ModelNames.of(id), "the same id maps to the same name");
            assertFalse(names.contains(name), "two ids share " + name);
            names.add(name);
        }
        assertTrue(ModelNames.of("store 7").startsWith("store_7-"));
        assertNotEquals(ModelNames.of("store 7"), ModelNames.of("store/7"));
    }

    @Test
    void columnsMustBeDistinct() {
        assertThrows(IllegalArgumentException.class, () -> new LongFormat("id", "id", "y", List.of()));
        assertThrows(IllegalArgumentException.class, () -> new LongFormat("id", "ds", "y", List.of("ds")));
    }
}
