package org.lstmcast.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files separated by semicolons or tabs read as commas do; the separator is taken from the header line. */
class DelimitersTest {
    @TempDir
    Path tmp;

    private Path file(String name, String text) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void semicolonAndTabSeparatedFilesReadAsTheCommaSeparatedOne() throws IOException {
        String[] separators = {",", ";", "\t"};
        for (String sep : separators) {
            Path p = file("visitors.csv", "\uFEFFmonth" + sep + "visitors" + sep + "\"note" + sep + "x\"\r\n"
                    + "2020-01" + sep + "120" + sep + "a\r\n2020-02" + sep + "135.5" + sep + "\"b" + sep + "c\"\r\n");
            Series s = CsvReader.read(p, List.of("visitors"), null);
            assertEquals(List.of("2020-01", "2020-02"), s.times(), "separator " + sep);
            assertArrayEquals(new double[] {120}, s.values()[0]);
            assertArrayEquals(new double[] {135.5}, s.values()[1]);
        }
    }

    @Test
    void theSeparatorIsTheMostFrequentOneOutsideQuotesAndACommaOnATie() {
        assertEquals(';', Delimiters.of("month;visitors"));
        assertEquals('\t', Delimiters.of("a\tb\tc,d"));
        assertEquals(',', Delimiters.of("\"a;b;c\",d"));
        assertEquals(',', Delimiters.of("visitors"));
        assertEquals(',', Delimiters.of("a;b,c"));
    }

    @Test
    void aHeaderNameHoldingAnotherSeparatorIsPointedOut() throws IOException {
        Path p = file("mixed.csv", "month,total,adults;children\n2020-01,3,1;2\n");
        DataException e = assertThrows(DataException.class, () -> CsvReader.read(p, List.of("children"), null));
        assertEquals(p + ": no column 'children' (columns: month, total, adults;children) (the header name "
                + "'adults;children' holds a ';': is the file ';'-separated?)", e.getMessage());
        // A header without such a name: the message is the usual one.
        Path plain = file("plain.csv", "month,total\n2020-01,3\n");
        DataException miss = assertThrows(DataException.class, () -> CsvReader.read(plain, List.of("visitors"), null));
        assertEquals(plain + ": no column 'visitors' (columns: month, total)", miss.getMessage());
    }
}
