package org.lstmcast.data;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;

/**
 * The seasonal period a series' time labels imply, as forecasting tools default it (R's {@code frequency()}, Darts'
 * and statsforecast's season lengths): monthly 12, quarterly 4, weekly 52, daily 7, business days 5, hourly 24,
 * half-hourly 48. Decimal years (R's {@code ts} labels) count by how many steps make a year.
 */
public final class Seasons {
    /** A period and, for messages and metrics.json, what it was read from; period 0 means none. */
    public record Period(int period, String reason) {
    }

    private static final double DAY_MS = 86_400_000.0;

    private Seasons() {
    }

    public static Period of(List<String> labels) {
        if (labels.size() < 3) {
            return new Period(0, "too few rows to read a frequency");
        }
        TimeAxis raw = TimeAxis.of(labels);
        if (raw.kind() == TimeAxis.Kind.NUMBER) {
            TimeAxis dated = raw.decimalYearsAsDates();
            if (dated.kind() != TimeAxis.Kind.DATE) {
                return new Period(0, "the time labels are plain numbers");
            }
            return perYear(1 / medianStep(raw.x()));
        }
        if (raw.kind() != TimeAxis.Kind.DATE) {
            return new Period(0, "the time labels are not dates");
        }
        double step = medianStep(raw.x());
        double minutes = step / 60_000.0;
        double days = step / DAY_MS;
        if (Math.abs(minutes - 30) <= 1) {
            return new Period(48, "half-hourly");
        }
        if (Math.abs(minutes - 60) <= 2) {
            return new Period(24, "hourly");
        }
        if (Math.abs(days - 1) <= 0.1) {
            return weekends(raw.x()) ? new Period(7, "daily") : new Period(5, "business days");
        }
        if (Math.abs(days - 7) <= 0.5) {
            return new Period(52, "weekly");
        }
        if (days >= 28 && days <= 31.5) {
            return new Period(12, "monthly");
        }
        if (days >= 89 && days <= 92.5) {
            return new Period(4, "quarterly");
        }
        return new Period(0, "no usual season for a step of " + plain(days) + " days");
    }

    /** Decimal years: the number of steps per year names the frequency. */
    private static Period perYear(double steps) {
        if (Math.abs(steps - 12) <= 0.5) {
            return new Period(12, "monthly (decimal years)");
        }
        if (Math.abs(steps - 4) <= 0.2) {
            return new Period(4, "quarterly (decimal years)");
        }
        if (Math.abs(steps - 52) <= 1.5) {
            return new Period(52, "weekly (decimal years)");
        }
        if (steps >= 240 && steps <= 262) {
            return new Period(5, "business days (decimal years)");
        }
        if (steps >= 360 && steps <= 367) {
            return new Period(7, "daily (decimal years)");
        }
        return new Period(0, "no usual season for " + plain(steps) + " steps a year");
    }

    private static String plain(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }

    private static double medianStep(double[] x) {
        double[] steps = new double[x.length - 1];
        for (int i = 1; i < x.length; i++) {
            steps[i - 1] = x[i] - x[i - 1];
        }
        Arrays.sort(steps);
        return steps[steps.length / 2];
    }

    private static boolean weekends(double[] millis) {
        for (double m : millis) {
            DayOfWeek d = Instant.ofEpochMilli((long) m).atOffset(ZoneOffset.UTC).getDayOfWeek();
            if (d == DayOfWeek.SATURDAY || d == DayOfWeek.SUNDAY) {
                return true;
            }
        }
        return false;
    }
}
