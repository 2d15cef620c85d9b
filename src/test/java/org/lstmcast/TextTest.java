package org.lstmcast;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TextTest {
    @Test
    void countsTakeTheSingularForOneAndThePluralOtherwise() {
        assertEquals("1 step", Text.plural(1, "step"));
        assertEquals("0 steps", Text.plural(0, "step"));
        assertEquals("5 steps", Text.plural(5, "step"));
        assertEquals("-1 steps", Text.plural(-1, "step"));
        assertEquals("2 epochs", Text.plural(2, "epoch"));
        assertEquals("2 batches", Text.plural(2, "batch"));
        assertEquals("1 validation forecast", Text.plural(1, "validation forecast"));
        assertEquals("10 validation forecasts", Text.plural(10, "validation forecast"));
        assertEquals("2 series", Text.plural(2, "series"));
        assertEquals("1 series", Text.plural(1, "series"));
        assertEquals("3 batches", Text.plural(3, "batch"));
        assertEquals("2 entries", Text.plural(2, "entry"));
        assertEquals("2 days", Text.plural(2, "day"));
        assertEquals("4 more networks", Text.plural(4, "more network", "more networks"));
    }

    @Test
    void aNameEndingInSTakesABareApostrophe() {
        assertEquals("visitors'", Text.possessive("visitors"));
        assertEquals("DAX's", Text.possessive("DAX"));
        assertEquals("price's", Text.possessive("price"));
    }
}
