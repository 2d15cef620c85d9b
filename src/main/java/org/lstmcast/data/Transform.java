package org.lstmcast.data;

import java.util.Locale;

/** How a window of raw values is turned into what the network sees and learns to predict. */
public enum Transform {
    /** Min-max scaled levels: the textbook recipe, blind beyond the training range. */
    LEVEL,
    /** First differences in, first differences out; levels rebuilt by a running sum from the last value. */
    DIFF,
    /** Every value divided by the window's last value, minus one; needs strictly positive values. */
    RELATIVE;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Transform parse(String text) {
        for (Transform t : values()) {
            if (t.id().equalsIgnoreCase(text.trim())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown transform '" + text + "' (expected level, diff or relative)");
    }

    /** Time steps the network sees for a window of {@code lookback} raw rows. */
    public int networkSteps(int lookback) {
        return this == DIFF ? lookback - 1 : lookback;
    }
}
