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
     * As {@link #SEASONAL}, from the mean of the values one and two seasons before each step: an anchor that carries
     * half of last year's noise where the seasonal-naive one carries all of it, for series whose season repeats more
     * steadily than any one year shows. Needs a lookback of at least two seasons.
     */
    SEASONAL_MEAN,
    /**
     * Not a transform but a choice among them, made by training: each candidate is trained and the one with the lowest
     * validation error kept. A preprocessor never holds it.
     */
    AUTO;

    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** How many past seasons each step's anchor averages: 0 for the transforms without a seasonal anchor. */
    public int anchorSeasons() {
        return this == SEASONAL ? 1 : this == SEASONAL_MEAN ? 2 : 0;
    }

    public static Transform parse(String text) {
        for (Transform t : values()) {
            if (t.id().equalsIgnoreCase(text.trim())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown transform '" + text + "' (expected level, diff, relative, seasonal, seasonal-mean or auto)");
    }

    /** Time steps the network sees for a window of {@code lookback} raw rows. */
    public int networkSteps(int lookback) {
        return this == DIFF || anchorSeasons() > 0 ? lookback - 1 : lookback;
    }
}
