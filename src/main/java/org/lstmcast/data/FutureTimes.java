package org.lstmcast.data;

import java.math.BigDecimal;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Labels for the rows after the end of a series, continued from its last labels: numbers by their usual step,
 * months by month, dates by their usual gap in days (business days when the series skips weekends). Labels of
 * any other kind become {@code +1, +2, ...}.
 */
public final class FutureTimes {
    private FutureTimes() {
    }

    public static List<String> after(List<String> times, int n) {
        List<String> out = new ArrayList<>(n);
        String last = times.get(times.size() - 1);
        try {
            if (times.size() >= 2 && TimeAxis.of(times).kind() == TimeAxis.Kind.NUMBER) {
                return numbers(times, n);
            }
            try {
                YearMonth m = YearMonth.parse(last);
                for (int k = 1; k <= n; k++) {
                    out.add(m.plusMonths(k).toString());
                }
                return out;
            } catch (DateTimeParseException e) {
                // not a month
            }
            LocalDate day = LocalDate.parse(last);
            return dates(times, day, n);
        } catch (DateTimeParseException | NumberFormatException | ArithmeticException e) {
            out.clear();
            for (int k = 1; k <= n; k++) {
                out.add("+" + k);
            }
            return out;
        }
    }

    private static List<String> numbers(List<String> times, int n) {
        int count = Math.min(times.size(), 21);
        BigDecimal[] recent = new BigDecimal[count];
        for (int i = 0; i < count; i++) {
            recent[i] = new BigDecimal(times.get(times.size() - count + i).trim());
        }
        BigDecimal[] steps = new BigDecimal[count - 1];
        for (int i = 1; i < count; i++) {
            steps[i - 1] = recent[i].subtract(recent[i - 1]);
        }
        Arrays.sort(steps);
        BigDecimal step = steps[steps.length / 2];
        List<String> out = new ArrayList<>(n);
        int scale = recent[count - 1].scale();
        for (int k = 1; k <= n; k++) {
            out.add(recent[count - 1].add(step.multiply(BigDecimal.valueOf(k))).setScale(Math.max(scale, 0),
                    java.math.RoundingMode.HALF_EVEN).toPlainString());
        }
        return out;
    }

    private static List<String> dates(List<String> times, LocalDate last, int n) {
        int count = Math.min(times.size(), 21);
        List<LocalDate> recent = new ArrayList<>();
        for (int i = times.size() - count; i < times.size(); i++) {
            recent.add(LocalDate.parse(times.get(i).trim()));
        }
        long[] gaps = new long[Math.max(1, count - 1)];
        boolean weekend = false;
        for (int i = 1; i < recent.size(); i++) {
            gaps[i - 1] = ChronoUnit.DAYS.between(recent.get(i - 1), recent.get(i));
        }
        for (LocalDate d : recent) {
            weekend |= d.getDayOfWeek() == DayOfWeek.SATURDAY || d.getDayOfWeek() == DayOfWeek.SUNDAY;
        }
        Arrays.sort(gaps);
        long gap = Math.max(1, gaps[gaps.length / 2]);
        List<String> out = new ArrayList<>(n);
        LocalDate d = last;
        for (int k = 1; k <= n; k++) {
            if (gap == 1 && !weekend && recent.size() >= 6) {
                do {
                    d = d.plusDays(1);
                } while (d.getDayOfWeek() == DayOfWeek.SATURDAY || d.getDayOfWeek() == DayOfWeek.SUNDAY);
            } else {
                d = d.plusDays(gap);
            }
            out.add(d.toString());
        }
        return out;
    }
}
