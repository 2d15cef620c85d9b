package org.lstmcast.train;

import java.util.Locale;

import org.lstmcast.data.DataException;
import org.lstmcast.data.Split;
import org.lstmcast.data.Transform;

/**
 * How a series of a given length is split, and how many rows a window reads: the command line's fractions and lookback
 * where the series allows them, shortened where it does not, so that a short series is forecast rather than refused.
 *
 * <p>The rules, in order:
 * <ul>
 *   <li>the test and validation parts hold at least one horizon each ({@link Split#of(int, double, double, int)}), and
 *       a series needs {@code 2·H + 2} rows: one horizon to test, one to validate and two to fit a level and a drift;
 *   <li>a lookback left to the data is {@value TrainConfig#DEFAULT_LOOKBACK}, or two seasons and a row where that is
 *       longer (so the seasonal-mean anchor and its carried error fit), cut so that the training part still holds
 *       {@link #minWindows} windows;
 *   <li>where the fractions leave no room for a network, the test and validation parts shrink to one horizon each;
 *   <li>where there is still no room, no network is trained and the anchors alone compete (naive, drift, and the
 *       seasonal ones the rows allow), with a lookback the validation part can score.
 * </ul>
 *
 * @param networks whether a network can be trained; false: only the anchors alone compete
 * @param shortened what was fitted to the data, for the report; empty when nothing was
 */
public record Plan(Split split, int lookback, boolean networks, String shortened) {
    /** The fewest training windows a network is fitted to when the lookback is left to the data. */
    static final int MIN_WINDOWS = 8;

    /**
     * @param season the season the labels or --season give (0 for none), before the training part is known
     */
    public static Plan of(String source, int rows, TrainConfig config, int season) {
        int h = config.horizon();
        if (rows < 2 * h + 2) {
            throw new DataException(String.format(Locale.ROOT, "%s: %d %s too few for a horizon of %d: a forecast "
                            + "needs at least %d rows (%d to test, %d to validate and 2 to fit)%s", source, rows,
                    rows == 1 ? "row is" : "rows are", h, 2 * h + 2, h, h,
                    rows >= 4 ? String.format(Locale.ROOT, "; --horizon %d fits %d rows", (rows - 2) / 2, rows) : ""));
        }
        Split fractions = Split.of(rows, config.valFraction(), config.testFraction(), h);
        int lookback = networkLookback(fractions, config, season);
        Split split = fractions;
        String shortened = "";
        if (lookback < 0 || fractions.trainEnd() < 2) {
            Split tight = Split.tight(rows, h);
            int tightLookback = networkLookback(tight, config, season);
            if (tightLookback > 0 || fractions.trainEnd() < 2) {
                split = tight;
                lookback = tightLookback;
                shortened = String.format(Locale.ROOT, "test and validation parts of %d rows each (one horizon), "
                        + "as the fractions left too few training rows", h);
            }
        }
        if (lookback > 0) {
            if (config.lookbackFromData() && lookback < wanted(season)) {
                shortened = join(shortened, String.format(Locale.ROOT, "lookback %d, so that the %d training rows "
                        + "hold %d windows", lookback, split.trainEnd(), split.trainEnd() - lookback - h + 1));
            }
            return new Plan(split, lookback, true, shortened);
        }
        if (!config.lookbackFromData() || config.transform() != Transform.AUTO) {
            throw new DataException(tooFew(source, rows, split, config));
        }
        // Anchors alone: the longest useful lookback that still leaves every validation row a forecast at every step.
        int anchorLookback = Math.max(2, Math.min(Math.max(2, season >= 2 ? 2 * season + 1 : 2), split.trainEnd()));
        return new Plan(split, anchorLookback, false, join(shortened, String.format(Locale.ROOT, "no network: the %d "
                + "training rows hold too few windows of %d steps ahead, so only the anchors alone compete",
                split.trainEnd(), h)));
    }

    /** The lookback a network would use on {@code split}, or -1 where none fits. */
    private static int networkLookback(Split split, TrainConfig config, int season) {
        int room = split.trainEnd() - config.horizon() + 1;
        if (!config.lookbackFromData()) {
            return room - config.lookback() >= 1 ? config.lookback() : -1;
        }
        int lookback = Math.min(wanted(season), room - minWindows(split.trainEnd()));
        return lookback >= 2 ? lookback : -1;
    }

    private static int wanted(int season) {
        return Math.max(TrainConfig.DEFAULT_LOOKBACK, season >= 2 ? 2 * season + 1 : 0);
    }

    /**
     * Training windows a fitted lookback leaves: {@value #MIN_WINDOWS}, or a quarter of the training rows on longer
     * series, so the network sees many origins rather than a few long windows.
     */
    static int minWindows(int trainRows) {
        return Math.max(MIN_WINDOWS, (trainRows + 3) / 4);
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : a + "; " + b;
    }

    /** The one-line refusal for a lookback given on the command line that leaves no training window. */
    private static String tooFew(String source, int rows, Split split, TrainConfig config) {
        int room = split.trainEnd() - config.horizon();
        if (!config.lookbackFromData()) {
            return String.format(Locale.ROOT, "%s: --lookback %d is too long for %d rows: the %d training rows (after "
                            + "%d test and %d validation rows) hold no window of %d rows and %d steps ahead; %s",
                    source, config.lookback(), rows, split.trainEnd(), split.testRows(), split.valRows(),
                    config.lookback(), config.horizon(), room >= 2 ? "use --lookback " + room + " or less, or leave it "
                            + "out to fit it to the data" : "leave --lookback out to fit it to the data");
        }
        return String.format(Locale.ROOT, "%s: %d rows leave %d training rows, too few to train a network with the %s "
                        + "transform (it needs %d); use --transform auto, which falls back to the anchors alone",
                source, rows, split.trainEnd(), config.transform().id(), 2 + config.horizon() + MIN_WINDOWS - 1);
    }
}
