package org.lstmcast.data;

import java.util.Locale;

/** How a window of raw values is turned into what the network sees and learns to predict. */
public enum Transform {
    /** Min-max scaled levels: the textbook recipe, blind beyond the training range. */
    LEVEL,
    /** First differences in, first differences out; levels rebuilt by a running sum from the last value. */
    DIFF,
    /** Every value divided by the window's last value, minus one; needs strictly positive values. */
    RELATIVE,
    /**
     * First differences in; out, each step's difference from the seasonal-naive forecast (the value one season
     * before it, within the window), so a network that predicts nothing forecasts the seasonal naive one. Needs a
     * season of at least 2 and a lookback of at least one season.
     */
    SEASONAL,
    /**
     * Not a transform but a choice among them, made by training: each candidate is trained and the one with the lowest
     * validation error kept. A preprocessor never holds it.
     */
    AUTO;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Transform parse(String text) {
        for (Transform t : values()) {
            if (t.id().equalsIgnoreCase(text.trim())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown transform '" + text + "' (expected level, diff, relative, seasonal or auto)");
    }

    /** Time steps the network sees for a window of {@code lookback} raw rows. */
    public int networkSteps(int lookback) {
        return this == DIFF || this == SEASONAL ? lookback - 1 : lookback;
    }
}
