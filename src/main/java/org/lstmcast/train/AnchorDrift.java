package org.lstmcast.train;

import org.lstmcast.data.Transform;

/**
 * What an anchor kept alone adds for growth. A seasonal anchor: the growth between the season it repeats and the step
 * it forecasts. The first differences' anchor, the last value: nothing (naive) or the training rows' mean change
 * (drift); it has no window drift.
 */
public enum AnchorDrift {
    /** The training rows' mean seasonal change. */
    MEAN(", anchor alone", "with the training rows' mean seasonal drift"),
    /** Nothing: the anchor and its carried error. */
    NONE(", anchor alone without drift", "without drift"),
    /** The window's own mean seasonal change, so the trend follows the series' recent growth. */
    WINDOW(", anchor alone with the window's drift", "with the window's own seasonal drift");

    private final String suffix;
    private final String description;

    AnchorDrift(String suffix, String description) {
        this.suffix = suffix;
        this.description = description;
    }

    /** The candidate's name in {@code metrics.json}'s validation scores: the transform's id, then this. */
    public String candidate(Transform transform) {
        if (transform == Transform.DIFF) {
            return this == NONE ? "naive" : this == MEAN ? "drift" : "diff" + suffix;
        }
        return transform.id() + suffix;
    }

    /** What a kept anchor is, in words: "naive: the last value", "seasonal anchor alone without drift". */
    public String kept(Transform transform) {
        if (transform == Transform.DIFF) {
            return this == NONE ? "naive: the last value" : "drift: the last value plus the training rows' mean change";
        }
        return transform.id() + " anchor alone " + description;
    }

    /** How {@code metrics.json} and the report describe a kept anchor: "with ...", "without drift". */
    public String description() {
        return description;
    }
}
