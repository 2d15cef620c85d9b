package org.lstmcast.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

import org.junit.jupiter.api.Test;

class SeasonsTest {
    private static List<String> labels(int n, IntFunction<String> label) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(label.apply(i));
        }
        return out;
    }

    private static int period(List<String> labels) {
        return Seasons.of(labels).period();
    }

    @Test
    void calendarLabelsGiveTheUsualPeriods() {
        assertEquals(12, period(labels(40, i -> YearMonth.of(1959, 1).plusMonths(i).toString())));
        assertEquals(12, period(labels(40, i -> LocalDate.of(2001, 1, 1).plusMonths(i).toString())));
        assertEquals(4, period(labels(40, i -> LocalDate.of(2001, 1, 1).plusMonths(3L * i).toString())));
        assertEquals(52, period(labels(40, i -> LocalDate.of(2020, 1, 6).plusWeeks(i).toString())));
        assertEquals(7, period(labels(40, i -> LocalDate.of(2020, 1, 1).plusDays(i).toString())));
        assertEquals(24, period(labels(100, i -> LocalDateTime.of(2020, 1, 1, 0, 0).plusHours(i).toString())));
        assertEquals(48, period(labels(100, i -> LocalDateTime.of(2020, 1, 1, 0, 0).plusMinutes(30L * i).toString()
                .replace('T', ' '))));
        assertEquals("monthly", Seasons.of(labels(40, i -> YearMonth.of(1959, 1).plusMonths(i).toString())).reason());
    }

    @Test
    void quarterAndWeekLabelsAndTimestampsGiveTheirPeriods() {
        assertEquals(4, period(labels(40, i -> String.format(Locale.ROOT, "%d-Q%d", 1990 + i / 4, i % 4 + 1))));
        assertEquals("quarterly", Seasons.of(labels(40, i -> String.format(Locale.ROOT, "%dQ%d", 1990 + i / 4,
                i % 4 + 1))).reason());
        assertEquals(52, period(List.of("2020-W51", "2020-W52", "2020-W53", "2021-W01", "2021-W02")));
        assertEquals(24, period(List.of("2020-01-01 22:00:00", "2020-01-01 23:00:00", "2020-01-02 00:00:00",
                "2020-01-02 01:00:00")));
        assertEquals(24, period(List.of("2020-01-01T22:00", "2020-01-01T23:00", "2020-01-02T00:00")));
    }

    @Test
    void weekdaysOnlyAreBusinessDays() {
        List<String> days = new ArrayList<>();
        for (LocalDate d = LocalDate.of(2021, 3, 1); days.size() < 60; d = d.plusDays(1)) {
            if (d.getDayOfWeek().getValue() <= 5) {
                days.add(d.toString());
            }
        }
        assertEquals(5, period(days));
        // One trading Saturday among them makes it a calendar-daily series.
        days.set(10, "2021-03-13");
        days.sort(null);
        assertEquals(7, period(days));
    }

    @Test
    void decimalYearsCountStepsPerYear() {
        assertEquals(12, period(labels(50, i -> String.format(Locale.ROOT, "%.4f", 1949 + i / 12.0))));
        assertEquals(4, period(labels(50, i -> String.format(Locale.ROOT, "%.3f", 1960 + i / 4.0))));
        // EuStockMarkets' labels: 260 business days a year.
        assertEquals(5, period(labels(300, i -> String.format(Locale.ROOT, "%.6f", 1991.496154 + i / 260.0))));
    }

    @Test
    void plainNumbersYearsAndOddStepsHaveNone() {
        assertEquals(0, period(labels(50, Integer::toString)));
        assertEquals(0, period(labels(50, i -> Integer.toString(1871 + i))));
        assertEquals(0, period(labels(50, i -> LocalDate.of(2020, 1, 1).plusDays(3L * i).toString())));
        assertEquals(0, period(labels(50, i -> "t" + i)));
        assertEquals(0, period(List.of("2020-01", "2020-02")));
        assertTrue(Seasons.of(labels(50, i -> LocalDate.of(2020, 1, 1).plusDays(3L * i).toString())).reason()
                .contains("3 days"));
    }
}
