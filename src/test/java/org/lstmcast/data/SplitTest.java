package org.lstmcast.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SplitTest {

    @Test
    void testIsTheCeilingOfItsFractionAndValidationComesFromTheRest() {
        // 100 rows: test = ceil(20) = 20, the 80 before it give val = ceil(8) = 8, train = 72.
        Split s = Split.of(100, 0.1, 0.2);
        assertEquals(72, s.trainEnd());
        assertEquals(80, s.valEnd());
        assertEquals(20, s.testRows());
        assertEquals(8, s.valRows());
    }

    @Test
    void fractionsRoundUp() {
        // 101 rows: test = ceil(20.2) = 21, rest 80, val = ceil(8.0) = 8, train 72.
        Split s = Split.of(101, 0.1, 0.2);
        assertEquals(21, s.testRows());
        assertEquals(8, s.valRows());
        assertEquals(72, s.trainRows());
        // 1860 rows (the bundled DAX): test ceil(372) = 372, rest 1488, val ceil(148.8) = 149, train 1339.
        Split dax = Split.of(1860, 0.1, 0.2);
        assertEquals(372, dax.testRows());
        assertEquals(149, dax.valRows());
        assertEquals(1339, dax.trainRows());
    }

    @Test
    void partsAreContiguousAndCoverEveryRow() {
        for (int rows = 10; rows < 300; rows += 7) {
            Split s = Split.of(rows, 0.15, 0.25);
            assertEquals(rows, s.trainRows() + s.valRows() + s.testRows());
        }
    }

    @Test
    void rejectsFractionsOutsideZeroOne() {
        assertThrows(IllegalArgumentException.class, () -> Split.of(100, 0.1, 0));
        assertThrows(IllegalArgumentException.class, () -> Split.of(100, 1.0, 0.2));
        assertThrows(IllegalArgumentException.class, () -> Split.of(100, Double.NaN, 0.2));
    }
}
