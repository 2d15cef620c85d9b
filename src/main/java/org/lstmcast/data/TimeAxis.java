package org.lstmcast.data;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Positions of rows on a time axis, read from their time labels: plain numbers (e.g. decimal years), calendar
 * dates, months, quarters ({@code 1990-Q1}, at their first day), ISO weeks ({@code 2020-W05}, at their Monday) and
 * date-times (as epoch milliseconds), or, when the labels are neither, the row number.
 */
public record TimeAxis(Kind kind, double[] x) {

    public enum Kind { NUMBER, DATE, INDEX }

    private static final List<ToLongFunction<String>> DATE_PARSERS = List.of(
            s -> LocalDate.parse(s).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli(),
            s -> YearMonth.parse(s).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli(),
            s -> Cadence.quarter(s).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli(),
            s -> Cadence.week(s).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli(),
            s -> LocalDateTime.parse(s).toInstant(ZoneOffset.UTC).toEpochMilli(),
            s -> LocalDateTime.parse(s, DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm[:ss]")).toInstant(ZoneOffset.UTC).toEpochMilli(),
            s -> OffsetDateTime.parse(s).toInstant().toEpochMilli());

    public static TimeAxis of(List<String> labels) {
        double[] numbers = new double[labels.size()];
        if (fill(labels, numbers, Double::parseDouble)) {
            return new TimeAxis(Kind.NUMBER, numbers);
        }
        for (ToLongFunction<String> parser : DATE_PARSERS) {
            double[] millis = new double[labels.size()];
            if (fill(labels, millis, s -> parser.applyAsLong(s))) {
                return new TimeAxis(Kind.DATE, millis);
            }
        }
        double[] index = new double[labels.size()];
        for (int i = 0; i < index.length; i++) {
            index[i] = i;
        }
        return new TimeAxis(Kind.INDEX, index);
    }

    /**
     * Decimal years (1991.5 is the middle of 1991: how R's {@code ts} labels daily and monthly series) as dates, so
     * that a chart can label them as dates; whole years and other numbers stay as they are.
     */
    public TimeAxis decimalYearsAsDates() {
        if (kind != Kind.NUMBER || x.length < 2) {
            return this;
        }
        boolean fractions = false;
        for (double v : x) {
            if (v < 1000 || v > 3000) {
                return this;
            }
            fractions |= v != Math.floor(v);
        }
        if (!fractions) {
            return this;
        }
        double[] millis = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int year = (int) Math.floor(x[i]);
            double start = LocalDate.of(year, 1, 1).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
            double end = LocalDate.of(year + 1, 1, 1).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
            millis[i] = start + (x[i] - year) * (end - start);
        }
        return new TimeAxis(Kind.DATE, millis);
    }

    /** The first row whose time is not after the row before it, or -1 when times strictly increase. */
    public int firstOutOfOrder() {
        for (int i = 1; i < x.length; i++) {
            if (!(x[i] > x[i - 1])) {
                return i;
            }
        }
        return -1;
    }

    private interface Parser {
        double parse(String s);
    }

    private static boolean fill(List<String> labels, double[] out, Parser parser) {
        try {
            for (int i = 0; i < out.length; i++) {
                out[i] = parser.parse(labels.get(i));
                if (!Double.isFinite(out[i])) {
                    return false;
                }
            }
            return true;
        } catch (IllegalArgumentException | DateTimeException e) {
            return false;
        }
    }
}
