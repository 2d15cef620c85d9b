package org.lstmcast.data;

import java.time.DateTimeException;
import java.util.ArrayList;
import java.util.List;

/**
 * Labels for the rows after the end of a series, continued from its last labels in the unit they show: numbers by
 * their usual step; months, quarters and years (as {@code 1990-01}, month starts or ends, {@code 1990-Q1}) by the
 * calendar; ISO weeks ({@code 2020-W05}) by week; dates by their usual gap in days (business days when the series
 * skips weekends); timestamps by their usual duration, in the labels' own format. Labels of any other kind become
 * {@code +1, +2, ...}.
 */
public final class FutureTimes {
    private FutureTimes() {
    }

    public static List<String> after(List<String> times, int n) {
        try {
            // The latest labels alone decide, as a series may change its step (or skip weekends) over the years.
            Cadence cadence = Cadence.of(times.subList(Math.max(0, times.size() - 21), times.size()));
            if (cadence != null) {
                return cadence.after(n);
            }
        } catch (DateTimeException | ArithmeticException e) {
            // beyond the calendar's years: numbered steps will do
        }
        List<String> out = new ArrayList<>(n);
        for (int k = 1; k <= n; k++) {
            out.add("+" + k);
        }
        return out;
    }
}
