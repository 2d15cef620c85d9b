package org.lstmcast.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

class TimeAxisTest {

    @Test
    void recognisesNumbersDatesAndFallsBackToIndex() {
        TimeAxis years = TimeAxis.of(List.of("1991.5", "1991.75"));
        assertEquals(TimeAxis.Kind.NUMBER, years.kind());
        assertEquals(1991.75, years.x()[1]);

        TimeAxis months = TimeAxis.of(List.of("1970-01", "1970-02"));
        assertEquals(TimeAxis.Kind.DATE, months.kind());
        assertEquals(0, months.x()[0]);
        assertEquals(31L * 24 * 3600 * 1000, (long) months.x()[1]);

        assertEquals(TimeAxis.Kind.DATE, TimeAxis.of(List.of("2024-03-01", "2024-03-02")).kind());
        assertEquals(TimeAxis.Kind.DATE, TimeAxis.of(List.of("2024-03-01 10:00", "2024-03-01 11:00")).kind());
        assertEquals(TimeAxis.Kind.DATE, TimeAxis.of(List.of("2024-03-01T10:00:00Z", "2024-03-01T11:00:00+01:00")).kind());
        assertEquals(TimeAxis.Kind.INDEX, TimeAxis.of(List.of("Mon", "Tue")).kind());
    }

    @Test
    void quartersAndIsoWeeksAreDatesAtTheirFirstDay() {
        TimeAxis quarters = TimeAxis.of(List.of("1990-Q4", "1991-Q1", "1991-Q2"));
        assertEquals(TimeAxis.Kind.DATE, quarters.kind());
        assertEquals(Instant.parse("1990-10-01T00:00:00Z").toEpochMilli(), (long) quarters.x()[0]);
        assertEquals(Instant.parse("1991-04-01T00:00:00Z").toEpochMilli(), (long) quarters.x()[2]);
        assertEquals(TimeAxis.Kind.DATE, TimeAxis.of(List.of("1990Q4", "1991 Q1")).kind());
        // ISO week 1 of 2021 starts on Monday 2021-01-04; week 53 of 2020 on Monday 2020-12-28.
        TimeAxis weeks = TimeAxis.of(List.of("2020-W53", "2021-W01"));
        assertEquals(TimeAxis.Kind.DATE, weeks.kind());
        assertEquals(Instant.parse("2020-12-28T00:00:00Z").toEpochMilli(), (long) weeks.x()[0]);
        assertEquals(Instant.parse("2021-01-04T00:00:00Z").toEpochMilli(), (long) weeks.x()[1]);
        // 2021 has 52 ISO weeks: its week 53 is no week at all.
        assertEquals(TimeAxis.Kind.INDEX, TimeAxis.of(List.of("2021-W52", "2021-W53")).kind());
        assertEquals(TimeAxis.Kind.INDEX, TimeAxis.of(List.of("1990-Q4", "1990-Q5")).kind());
        TimeAxis hours = TimeAxis.of(List.of("2020-01-01 23:00:00", "2020-01-02 00:00:00"));
        assertEquals(TimeAxis.Kind.DATE, hours.kind());
        assertEquals(3_600_000L, (long) (hours.x()[1] - hours.x()[0]));
    }

    @Test
    void findsTheFirstRowOutOfOrder() {
        assertEquals(-1, TimeAxis.of(List.of("1", "2", "3")).firstOutOfOrder());
        assertEquals(2, TimeAxis.of(List.of("2020-01-01", "2020-01-03", "2020-01-02")).firstOutOfOrder());
        assertEquals(1, TimeAxis.of(List.of("5", "5")).firstOutOfOrder());
    }

    @Test
    void decimalYearsBecomeDatesAndWholeYearsStayNumbers() {
        TimeAxis decimal = TimeAxis.of(List.of("1991.0", "1991.5", "2000.5"));
        TimeAxis dates = decimal.decimalYearsAsDates();
        assertEquals(TimeAxis.Kind.DATE, dates.kind());
        // 1991 has 365 days: half of it is 182.5 days after New Year; 2000 has 366: 183 days.
        assertEquals(Instant.parse("1991-01-01T00:00:00Z").toEpochMilli(), (long) dates.x()[0]);
        assertEquals(Instant.parse("1991-07-02T12:00:00Z").toEpochMilli(), (long) dates.x()[1]);
        assertEquals(Instant.parse("2000-07-02T00:00:00Z").toEpochMilli(), (long) dates.x()[2]);
        TimeAxis years = TimeAxis.of(List.of("1990", "1991", "1992"));
        assertEquals(TimeAxis.Kind.NUMBER, years.decimalYearsAsDates().kind());
        TimeAxis measurements = TimeAxis.of(List.of("0.5", "1.5", "2.5"));
        assertEquals(TimeAxis.Kind.NUMBER, measurements.decimalYearsAsDates().kind());
    }
}
