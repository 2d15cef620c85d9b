package org.lstmcast.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Future labels in the calendar unit the labels show; every expected label written out by hand. */
class FutureTimesTest {

    @Test
    void monthStartsGoOnToTheNextMonthStarts() {
        assertEquals(List.of("1988-07-01", "1988-08-01", "1988-09-01", "1988-10-01", "1988-11-01", "1988-12-01",
                        "1989-01-01", "1989-02-01"),
                FutureTimes.after(List.of("1988-03-01", "1988-04-01", "1988-05-01", "1988-06-01"), 8));
    }

    @Test
    void monthEndsGoOnToTheNextMonthEndsAcrossALeapFebruary() {
        assertEquals(List.of("1991-12-31", "1992-01-31", "1992-02-29", "1992-03-31", "1992-04-30"),
                FutureTimes.after(List.of("1991-09-30", "1991-10-31", "1991-11-30"), 5));
        // Starting from February's 28th: the 28th is its last day, so March's is the 31st, not the 28th.
        assertEquals(List.of("1990-03-31", "1990-04-30"),
                FutureTimes.after(List.of("1990-01-31", "1990-02-28"), 2));
    }

    @Test
    void theSameDayOfEachMonthStaysThatDay() {
        assertEquals(List.of("2021-01-15", "2021-02-15", "2021-03-15"),
                FutureTimes.after(List.of("2020-10-15", "2020-11-15", "2020-12-15"), 3));
    }

    @Test
    void quartersAndYearsAsDatesStepByThreeAndTwelveMonths() {
        assertEquals(List.of("1991-01-01", "1991-04-01", "1991-07-01"),
                FutureTimes.after(List.of("1990-01-01", "1990-04-01", "1990-07-01", "1990-10-01"), 3));
        assertEquals(List.of("1990-12-31", "1991-03-31", "1991-06-30"),
                FutureTimes.after(List.of("1990-03-31", "1990-06-30", "1990-09-30"), 3));
        assertEquals(List.of("1992-01-01", "1993-01-01"), FutureTimes.after(List.of("1990-01-01", "1991-01-01"), 2));
    }

    @Test
    void quarterLabelsKeepTheirStyle() {
        assertEquals(List.of("1990-Q2", "1990-Q3", "1990-Q4", "1991-Q1"), FutureTimes.after(List.of("1989-Q4", "1990-Q1"), 4));
        assertEquals(List.of("1991Q1", "1991Q2"), FutureTimes.after(List.of("1990Q3", "1990Q4"), 2));
        assertEquals(List.of("2000 Q1"), FutureTimes.after(List.of("1999 Q3", "1999 Q4"), 1));
    }

    @Test
    void yearsAsNumbersAndMonthsAsYearMonthsKeepWorking() {
        assertEquals(List.of("1993", "1994"), FutureTimes.after(List.of("1990", "1991", "1992"), 2));
        assertEquals(List.of("1991.00", "1991.25"), FutureTimes.after(List.of("1990.25", "1990.50", "1990.75"), 2));
        assertEquals(List.of("1990-11", "1990-12", "1991-01"), FutureTimes.after(List.of("1990-09", "1990-10"), 3));
        assertEquals(List.of("1991-01", "1991-04"), FutureTimes.after(List.of("1990-04", "1990-07", "1990-10"), 2));
    }

    @Test
    void isoWeeksRunThroughAFiftyThirdWeek() {
        // 2020 has 53 ISO weeks (it starts on a Wednesday and is a leap year); 2021 has 52.
        assertEquals(List.of("2020-W53", "2021-W01", "2021-W02"), FutureTimes.after(List.of("2020-W51", "2020-W52"), 3));
        assertEquals(List.of("2021-W52", "2022-W01"), FutureTimes.after(List.of("2021-W50", "2021-W51"), 2));
        assertEquals(List.of("2021W01"), FutureTimes.after(List.of("2020W52", "2020W53"), 1));
        // Weekly dates: seven days on, whatever the month.
        assertEquals(List.of("2021-01-04", "2021-01-11"), FutureTimes.after(List.of("2020-12-21", "2020-12-28"), 2));
    }

    @Test
    void businessDaysSkipTheWeekendAndDaysDoNot() {
        // Wednesday 2024-03-06 to Tuesday 2024-03-12, weekdays only; next come Wednesday to Monday.
        List<String> weekdays = List.of("2024-03-06", "2024-03-07", "2024-03-08", "2024-03-11", "2024-03-12");
        List<String> more = new ArrayList<>(List.of("2024-03-05"));
        more.addAll(weekdays);
        assertEquals(List.of("2024-03-13", "2024-03-14", "2024-03-15", "2024-03-18"), FutureTimes.after(more, 4));
        assertEquals(List.of("2024-03-09", "2024-03-10", "2024-03-11"),
                FutureTimes.after(List.of("2024-03-06", "2024-03-07", "2024-03-08"), 3));
        assertEquals(List.of("2024-03-01"), FutureTimes.after(List.of("2024-02-28", "2024-02-29"), 1));
    }

    @Test
    void timestampsStepByTheirDurationInTheirOwnFormat() {
        assertEquals(List.of("2020-01-01T23:00", "2020-01-02T00:00", "2020-01-02T01:00"),
                FutureTimes.after(List.of("2020-01-01T21:00", "2020-01-01T22:00"), 3));
        assertEquals(List.of("2020-01-01 23:45:00", "2020-01-02 00:00:00"),
                FutureTimes.after(List.of("2020-01-01 23:15:00", "2020-01-01 23:30:00"), 2));
        assertEquals(List.of("2020-03-01 00:00"), FutureTimes.after(List.of("2020-02-28 12:00", "2020-02-29 06:00",
                "2020-02-29 12:00", "2020-02-29 18:00"), 1));
    }

    @Test
    void otherLabelsAreNumberedSteps() {
        assertEquals(List.of("+1", "+2"), FutureTimes.after(List.of("Mon", "Tue"), 2));
        assertEquals(List.of("+1"), FutureTimes.after(List.of("1990"), 1));
        // Years past the calendar's range cannot be continued as dates.
        assertEquals(List.of("+1"), FutureTimes.after(List.of("+999999999-11", "+999999999-12"), 1));
    }
}
