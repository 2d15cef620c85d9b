package org.lstmcast.train;

/** What a seasonal anchor kept alone adds for the growth between the season it repeats and the step it forecasts. */
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
    public String candidate(org.lstmcast.data.Transform transform) {
        return transform.id() + suffix;
    }

    /** How {@code metrics.json} and the report describe a kept anchor: "with ...", "without drift". */
    public String description() {
        return description;
    }
}
