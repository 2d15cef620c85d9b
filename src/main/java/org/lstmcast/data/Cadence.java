package org.lstmcast.data;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The step between a series' time labels in the unit the labels show, and the style they are written in: months for
 * {@code 1990-01} and for month starts, month ends or one day of each month (quarterly and yearly dates are steps of
 * 3 and 12 months), quarters for {@code 1990-Q1}, ISO weeks for {@code 2020-W05}, days, business days, a duration for
 * timestamps, and a decimal step for numbers. It continues the labels past the end of a series and counts the labels
 * missing between two rows.
 *
 * <p>Missing steps are counted only where a missing label is unambiguous: months, quarters, weeks, numbers with a
 * constant step, and days when every weekday occurs in the series; and only when every gap is a whole number of the
 * smallest one, which at least half of the gaps are. Business days (a trading calendar, whose holidays are no gaps),
 * days that never fall on some weekday (a shop shut on Sundays) and timestamps (a clock change, opening hours) are
 * never counted, nor are labels that do not strictly increase.
 */
final class Cadence {
    /** A label as a whole-number position on its axis (months, quarters, weeks, days, seconds), and back. */
    private interface Style {
        /** @throws DateTimeException or IllegalArgumentException when the label is not of this style */
        long position(String label);

        String label(long position);

        /** Whether a gap of several steps means labels are missing (see the class comment). */
        default boolean counts(long[] positions) {
            return true;
        }
    }

    /** Gaps of up to this many steps are read as missing rows; wider ones mean the labels are not a calendar. */
    private static final long MOST_MISSING = 100_000;

    private static final Pattern QUARTER = Pattern.compile("(\\d{4})([- ]?)([Qq])([1-4])");
    private static final Pattern WEEK = Pattern.compile("(\\d{4})(-?)W(\\d{2})");
    private static final List<DateTimeFormatter> TIMESTAMPS = List.of(
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm", Locale.ROOT),
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss", Locale.ROOT),
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm", Locale.ROOT),
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss", Locale.ROOT));
    /** 1970-01-05, the first Monday of the epoch. */
    private static final long MONDAY = 4;

    private final Style style;
    private final long[] positions;
    private final BigDecimal[] numbers;
    /** The step future labels take: the median of the latest gaps, as a series may change its step over time. */
    private final long next;
    private final BigDecimal nextNumber;
    /** Steps missing before each row; all zero where missing steps are not counted. */
    private final long[] missing;

    private Cadence(Style style, long[] positions, BigDecimal[] numbers, List<String> labels) {
        this.style = style;
        this.positions = positions;
        this.numbers = numbers;
        int n = labels.size();
        this.missing = new long[n];
        if (numbers != null) {
            BigDecimal[] gaps = new BigDecimal[n - 1];
            for (int i = 1; i < n; i++) {
                gaps[i - 1] = numbers[i].subtract(numbers[i - 1]);
            }
            this.next = 0;
            this.nextNumber = median(Arrays.copyOfRange(gaps, Math.max(0, gaps.length - 20), gaps.length));
            countNumbers(gaps);
        } else {
            long[] gaps = new long[Math.max(0, n - 1)];
            for (int i = 1; i < n; i++) {
                gaps[i - 1] = positions[i] - positions[i - 1];
            }
            long[] recent = Arrays.copyOfRange(gaps, Math.max(0, gaps.length - 20), gaps.length);
            Arrays.sort(recent);
            this.next = recent.length == 0 ? 1 : Math.max(1, recent[recent.length / 2]);
            this.nextNumber = null;
            if (style.counts(positions)) {
                countPositions(gaps);
            }
        }
    }

    /** The cadence of these labels, or null when they are of no style known here (or a lone number). */
    static Cadence of(List<String> labels) {
        if (labels.isEmpty()) {
            return null;
        }
        List<String> s = labels.stream().map(String::strip).toList();
        BigDecimal[] numbers = numbers(s);
        if (numbers != null) {
            return s.size() >= 2 ? new Cadence(null, null, numbers, s) : null;
        }
        for (Style style : styles(s)) {
            long[] p = positions(style, s);
            if (p != null) {
                return new Cadence(style, p, null, s);
            }
        }
        return null;
    }

    /** The {@code n} labels after the last. */
    List<String> after(int n) {
        List<String> out = new ArrayList<>(n);
        if (numbers != null) {
            BigDecimal last = numbers[numbers.length - 1];
            int scale = Math.max(0, last.scale());
            for (int k = 1; k <= n; k++) {
                out.add(last.add(nextNumber.multiply(BigDecimal.valueOf(k))).setScale(scale, RoundingMode.HALF_EVEN)
                        .toPlainString());
            }
            return out;
        }
        long last = positions[positions.length - 1];
        for (int k = 1; k <= n; k++) {
            out.add(style.label(Math.addExact(last, Math.multiplyExact(next, (long) k))));
        }
        return out;
    }

    /** How many labels are missing between row {@code row - 1} and row {@code row}. */
    long missingBefore(int row) {
        return missing[row];
    }

    /** The labels missing between row {@code row - 1} and row {@code row}, evenly spaced, in the labels' style. */
    List<String> missingLabels(int row) {
        long k = missing[row] + 1;
        List<String> out = new ArrayList<>();
        for (long j = 1; j < k; j++) {
            if (numbers != null) {
                BigDecimal a = numbers[row - 1];
                BigDecimal b = numbers[row];
                int scale = Math.max(0, Math.max(a.scale(), b.scale()));
                out.add(a.add(b.subtract(a).multiply(BigDecimal.valueOf(j)).divide(BigDecimal.valueOf(k),
                        MathContext.DECIMAL64)).setScale(scale, RoundingMode.HALF_EVEN).toPlainString());
            } else {
                long a = positions[row - 1];
                out.add(style.label(a + (positions[row] - a) / k * j));
            }
        }
        return out;
    }

    private void countPositions(long[] gaps) {
        if (gaps.length == 0) {
            return;
        }
        long step = Long.MAX_VALUE;
        for (long g : gaps) {
            if (g <= 0) {
                return;
            }
            step = Math.min(step, g);
        }
        long[] sorted = gaps.clone();
        Arrays.sort(sorted);
        if (sorted[(sorted.length - 1) / 2] != step) {
            return;
        }
        for (long g : gaps) {
            if (g % step != 0 || g / step > MOST_MISSING) {
                return;
            }
        }
        for (int i = 0; i < gaps.length; i++) {
            missing[i + 1] = gaps[i] / step - 1;
        }
    }

    /** As {@link #countPositions}, with a tenth of a step's slack for labels rounded to a few decimals (1990.083). */
    private void countNumbers(BigDecimal[] gaps) {
        BigDecimal step = null;
        for (BigDecimal g : gaps) {
            if (g.signum() <= 0) {
                return;
            }
            step = step == null || g.compareTo(step) < 0 ? g : step;
        }
        BigDecimal[] sorted = gaps.clone();
        Arrays.sort(sorted);
        long[] k = new long[gaps.length];
        for (int i = 0; i < gaps.length; i++) {
            double ratio = gaps[i].divide(step, MathContext.DECIMAL64).doubleValue();
            k[i] = Math.round(ratio);
            if (Math.abs(ratio - k[i]) > 0.1 || k[i] > MOST_MISSING) {
                return;
            }
        }
        if (Math.round(sorted[(sorted.length - 1) / 2].divide(step, MathContext.DECIMAL64).doubleValue()) != 1) {
            return;
        }
        for (int i = 0; i < gaps.length; i++) {
            missing[i + 1] = k[i] - 1;
        }
    }

    private static BigDecimal median(BigDecimal[] values) {
        BigDecimal[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static BigDecimal[] numbers(List<String> labels) {
        BigDecimal[] out = new BigDecimal[labels.size()];
        try {
            for (int i = 0; i < out.length; i++) {
                out[i] = new BigDecimal(labels.get(i));
            }
            return out;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static long[] positions(Style style, List<String> labels) {
        long[] out = new long[labels.size()];
        try {
            for (int i = 0; i < out.length; i++) {
                out[i] = style.position(labels.get(i));
            }
            return out;
        } catch (DateTimeException | IllegalArgumentException | ArithmeticException e) {
            return null;
        }
    }

    /** The styles worth trying on these labels, most specific first. */
    private static List<Style> styles(List<String> labels) {
        String first = labels.get(0);
        List<Style> out = new ArrayList<>();
        out.add(yearMonths());
        Matcher q = QUARTER.matcher(first);
        if (q.matches()) {
            out.add(quarters(q.group(2), q.group(3)));
        }
        Matcher w = WEEK.matcher(first);
        if (w.matches()) {
            out.add(weeks(w.group(2)));
        }
        LocalDate[] dates = dates(labels);
        if (dates != null) {
            Style months = monthlyDates(dates);
            if (months != null) {
                out.add(months);
            }
            if (businessDays(dates)) {
                out.add(businessDays());
            }
            out.add(days());
        }
        for (DateTimeFormatter f : TIMESTAMPS) {
            try {
                LocalDateTime.parse(first, f);
                out.add(timestamps(f));
                break;
            } catch (DateTimeParseException e) {
                // the next pattern
            }
        }
        return out;
    }

    private static LocalDate[] dates(List<String> labels) {
        LocalDate[] out = new LocalDate[labels.size()];
        try {
            for (int i = 0; i < out.length; i++) {
                out[i] = LocalDate.parse(labels.get(i));
            }
            return out;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static Style yearMonths() {
        return new Style() {
            public long position(String label) {
                YearMonth m = YearMonth.parse(label);
                return m.getYear() * 12L + m.getMonthValue() - 1;
            }

            public String label(long position) {
                return month(position).toString();
            }
        };
    }

    private static YearMonth month(long position) {
        return YearMonth.of(Math.toIntExact(Math.floorDiv(position, 12)), (int) Math.floorMod(position, 12) + 1);
    }

    /** {@code 1990-Q1}, {@code 1990Q1} or {@code 1990 q1}: the separator and the letter's case of the first label. */
    private static Style quarters(String separator, String letter) {
        return new Style() {
            public long position(String label) {
                Matcher m = QUARTER.matcher(label);
                if (!m.matches() || !m.group(2).equals(separator) || !m.group(3).equals(letter)) {
                    throw new IllegalArgumentException(label);
                }
                return Long.parseLong(m.group(1)) * 4 + Long.parseLong(m.group(4)) - 1;
            }

            public String label(long position) {
                return String.format(Locale.ROOT, "%04d%s%s%d", Math.floorDiv(position, 4), separator, letter,
                        Math.floorMod(position, 4) + 1);
            }
        };
    }

    /** ISO weeks, {@code 2020-W05} or {@code 2020W05}; the position counts Mondays. */
    private static Style weeks(String dash) {
        return new Style() {
            public long position(String label) {
                Matcher m = WEEK.matcher(label);
                if (!m.matches() || !m.group(2).equals(dash)) {
                    throw new IllegalArgumentException(label);
                }
                return Math.floorDiv(isoWeek(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(3))).toEpochDay()
                        - MONDAY, 7);
            }

            public String label(long position) {
                LocalDate monday = LocalDate.ofEpochDay(position * 7 + MONDAY);
                return String.format(Locale.ROOT, "%04d%sW%02d", monday.get(IsoFields.WEEK_BASED_YEAR), dash,
                        monday.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
            }
        };
    }

    /** The first day of a quarter label ({@code 1990-Q1}, {@code 1990Q1}, {@code 1990 Q1}). */
    static LocalDate quarter(String label) {
        Matcher m = QUARTER.matcher(label);
        if (!m.matches()) {
            throw new IllegalArgumentException(label);
        }
        return LocalDate.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(4)) * 3 - 2, 1);
    }

    /** The Monday of an ISO week label ({@code 2020-W05}, {@code 2020W05}). */
    static LocalDate week(String label) {
        Matcher m = WEEK.matcher(label);
        if (!m.matches()) {
            throw new IllegalArgumentException(label);
        }
        return isoWeek(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(3)));
    }

    /** The Monday of an ISO week; week 53 of a year that has 52 is refused, not carried into the next year. */
    private static LocalDate isoWeek(int year, int week) {
        LocalDate monday = LocalDate.of(year, 1, 4).with(IsoFields.WEEK_OF_WEEK_BASED_YEAR, week)
                .with(DayOfWeek.MONDAY);
        if (monday.get(IsoFields.WEEK_BASED_YEAR) != year || monday.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR) != week) {
            throw new DateTimeException(year + " has no ISO week " + week);
        }
        return monday;
    }

    /**
     * Dates one or more months apart on the same place in each month: its first day, its last day, or one day no later
     * than the 28th. Null for dates of any other kind, or fewer than two.
     */
    private static Style monthlyDates(LocalDate[] dates) {
        if (dates.length < 2) {
            return null;
        }
        boolean starts = true;
        boolean ends = true;
        boolean sameDay = dates[0].getDayOfMonth() <= 28;
        for (LocalDate d : dates) {
            starts &= d.getDayOfMonth() == 1;
            ends &= d.getDayOfMonth() == d.lengthOfMonth();
            sameDay &= d.getDayOfMonth() == dates[0].getDayOfMonth();
        }
        if (!starts && !ends && !sameDay) {
            return null;
        }
        int day = starts ? 1 : ends ? 0 : dates[0].getDayOfMonth();
        return new Style() {
            public long position(String label) {
                LocalDate d = LocalDate.parse(label);
                if (day == 0 ? d.getDayOfMonth() != d.lengthOfMonth() : d.getDayOfMonth() != day) {
                    throw new IllegalArgumentException(label);
                }
                return d.getYear() * 12L + d.getMonthValue() - 1;
            }

            public String label(long position) {
                YearMonth m = month(position);
                return (day == 0 ? m.atEndOfMonth() : m.atDay(day)).toString();
            }
        };
    }

    /** Weekdays only, a day apart as a rule (the median gap), and enough of them to tell. */
    private static boolean businessDays(LocalDate[] dates) {
        if (dates.length < 6) {
            return false;
        }
        for (LocalDate d : dates) {
            if (weekend(d)) {
                return false;
            }
        }
        LocalDate[] recent = Arrays.copyOfRange(dates, Math.max(0, dates.length - 21), dates.length);
        long[] gaps = new long[recent.length - 1];
        for (int i = 1; i < recent.length; i++) {
            gaps[i - 1] = recent[i].toEpochDay() - recent[i - 1].toEpochDay();
        }
        Arrays.sort(gaps);
        return gaps[gaps.length / 2] == 1;
    }

    private static boolean weekend(LocalDate d) {
        return d.getDayOfWeek() == DayOfWeek.SATURDAY || d.getDayOfWeek() == DayOfWeek.SUNDAY;
    }

    /** Weekdays counted from the epoch's first Monday; holidays are no gaps here, so nothing is counted. */
    private static Style businessDays() {
        return new Style() {
            public long position(String label) {
                LocalDate d = LocalDate.parse(label);
                if (weekend(d)) {
                    throw new IllegalArgumentException(label);
                }
                long days = d.toEpochDay() - MONDAY;
                return Math.floorDiv(days, 7) * 5 + Math.floorMod(days, 7);
            }

            public String label(long position) {
                return LocalDate.ofEpochDay(Math.floorDiv(position, 5) * 7 + Math.floorMod(position, 5) + MONDAY)
                        .toString();
            }

            public boolean counts(long[] positions) {
                return false;
            }
        };
    }

    private static Style days() {
        return new Style() {
            public long position(String label) {
                return LocalDate.parse(label).toEpochDay();
            }

            public String label(long position) {
                return LocalDate.ofEpochDay(position).toString();
            }

            /** A daily series that never falls on some weekday keeps a calendar of its own: see the class comment. */
            public boolean counts(long[] positions) {
                Set<DayOfWeek> seen = EnumSet.noneOf(DayOfWeek.class);
                for (long p : positions) {
                    seen.add(LocalDate.ofEpochDay(p).getDayOfWeek());
                }
                return seen.size() == 7 || !daily(positions);
            }
        };
    }

    /** Whether the smallest gap is one day. */
    private static boolean daily(long[] positions) {
        for (int i = 1; i < positions.length; i++) {
            if (positions[i] - positions[i - 1] == 1) {
                return true;
            }
        }
        return false;
    }

    /** Date-times in seconds, written back in the pattern that read them; never counted (see the class comment). */
    private static Style timestamps(DateTimeFormatter format) {
        return new Style() {
            public long position(String label) {
                return LocalDateTime.parse(label, format).toEpochSecond(ZoneOffset.UTC);
            }

            public String label(long position) {
                return LocalDateTime.ofEpochSecond(position, 0, ZoneOffset.UTC).format(format);
            }

            public boolean counts(long[] positions) {
                return false;
            }
        };
    }
}
