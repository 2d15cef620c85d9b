package org.lstmcast.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYAnnotation;
import org.jfree.chart.annotations.XYLineAnnotation;
import org.jfree.chart.axis.AxisState;
import org.jfree.chart.axis.DateAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.Tick;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.axis.ValueTick;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.data.TimeAxis;

class ChartsTest {
    @TempDir
    Path tmp;

    /** The bundled DAX's shape: 1860 business days stamped in decimal years from mid-1991, 260 a year. */
    private static TimeAxis decimalYears(int rows) {
        List<String> t = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            t.add(String.format(Locale.ROOT, "%.6f", 1991.496154 + i / 260.0));
        }
        return TimeAxis.of(t);
    }

    /** The bundled CO2's shape: months from 1959-01. */
    private static TimeAxis months(int rows) {
        List<String> t = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            t.add(YearMonth.of(1959, 1).plusMonths(i).toString());
        }
        return TimeAxis.of(t);
    }

    private static double[] wave(int rows) {
        double[] v = new double[rows];
        for (int i = 0; i < rows; i++) {
            v[i] = 1000 + i + 50 * Math.sin(i / 7.0);
        }
        return v;
    }

    /** One-step forecasts over the test rows only, as training draws them. */
    private static double[] forecastFrom(double[] actual, int testStart) {
        double[] f = new double[actual.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = i < testStart ? Double.NaN : actual[i - 1];
        }
        return f;
    }

    private static List<JFreeChart> panels(TimeAxis time, int rows, int valStart, int testStart) {
        double[] actual = wave(rows);
        return Charts.forecastPanels("t", "v", time, actual, forecastFrom(actual, testStart), "forecast", valStart, testStart);
    }

    /**
     * Draws the chart as the PNG is drawn and checks every labelled tick of its time axis: inside the image, and clear
     * of its neighbours.
     */
    private static List<String> assertTickLabelsFit(JFreeChart chart, int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = image.createGraphics();
        ChartRenderingInfo info = new ChartRenderingInfo();
        chart.draw(g2, new Rectangle2D.Double(0, 0, width, height), info);
        Rectangle2D dataArea = info.getPlotInfo().getDataArea();
        ValueAxis axis = chart.getXYPlot().getDomainAxis();
        // The ticks as drawn: choosing a tick unit again would start from the one the drawing chose and could differ.
        axis.setAutoTickUnitSelection(false, false);
        FontMetrics metrics = g2.getFontMetrics(axis.getTickLabelFont());
        List<String> labels = new ArrayList<>();
        double previousRight = Double.NEGATIVE_INFINITY;
        for (Object o : axis.refreshTicks(g2, new AxisState(), dataArea, RectangleEdge.BOTTOM)) {
            ValueTick tick = (ValueTick) o;
            String text = ((Tick) tick).getText();
            if (text == null || text.isEmpty()) {
                continue;
            }
            double x = axis.valueToJava2D(tick.getValue(), dataArea, RectangleEdge.BOTTOM);
            double half = metrics.stringWidth(text) / 2.0;
            assertTrue(x - half >= 0 && x + half <= width, "tick '" + text + "' at x " + x + " is cut off at width " + width);
            assertTrue(x - half > previousRight, "tick '" + text + "' overlaps the one before it");
            previousRight = x + half;
            labels.add(text);
        }
        g2.dispose();
        assertTrue(labels.size() >= 4, "too few ticks: " + labels);
        return labels;
    }

    @Test
    void decimalYearsAreLabelledAsDatesThatFit() {
        int rows = 1860;
        List<JFreeChart> p = panels(decimalYears(rows), rows, 1116, 1488);
        assertEquals(2, p.size());
        for (JFreeChart chart : p) {
            DateAxis axis = assertInstanceOf(DateAxis.class, chart.getXYPlot().getDomainAxis());
            assertEquals("UTC", axis.getTimeZone().getID());
        }
        List<String> whole = assertTickLabelsFit(p.get(0), Charts.WIDTH, Charts.HEIGHT);
        assertTrue(whole.stream().noneMatch(t -> t.matches(".*\\d{4}\\.\\d.*")), "no decimal years: " + whole);
        assertTrue(whole.stream().anyMatch(t -> t.contains("1992")) && whole.stream().anyMatch(t -> t.contains("1998")),
                whole.toString());
        List<String> zoomed = assertTickLabelsFit(p.get(1), Charts.WIDTH, Charts.ZOOM_HEIGHT);
        assertTrue(zoomed.stream().noneMatch(t -> t.matches(".*\\d{4}\\.\\d.*")), "no decimal years: " + zoomed);
    }

    @Test
    void wholeYearsStayNumbersTickedWithoutGrouping() {
        int rows = 60;
        double[] x = new double[rows];
        for (int i = 0; i < rows; i++) {
            x[i] = 1950 + i;
        }
        List<JFreeChart> p = panels(new TimeAxis(TimeAxis.Kind.NUMBER, x), rows, 40, 50);
        assertInstanceOf(NumberAxis.class, p.get(0).getXYPlot().getDomainAxis());
        List<String> years = assertTickLabelsFit(p.get(0), Charts.WIDTH, Charts.HEIGHT);
        for (String y : years) {
            assertTrue(y.matches("\\d{4}"), "whole years, no grouping: " + years);
        }
    }

    @Test
    void monthsGetADateAxisInUtcWhoseTicksFit() {
        int rows = 468;
        List<JFreeChart> p = panels(months(rows), rows, 336, 374);
        for (JFreeChart chart : p) {
            DateAxis axis = assertInstanceOf(DateAxis.class, chart.getXYPlot().getDomainAxis());
            // TimeAxis reads dates as UTC midnights; another zone would put 1998-01 on 31 Dec 1997.
            assertEquals("UTC", axis.getTimeZone().getID());
        }
        assertTickLabelsFit(p.get(0), Charts.WIDTH, Charts.HEIGHT);
        assertTickLabelsFit(p.get(1), Charts.WIDTH, Charts.ZOOM_HEIGHT);
    }

    @Test
    void secondPanelHoldsTheTestPeriodOnly() {
        int rows = 1860;
        int testStart = 1488;
        TimeAxis time = decimalYears(rows);
        List<JFreeChart> p = panels(time, rows, 1116, testStart);
        XYDataset whole = p.get(0).getXYPlot().getDataset();
        assertEquals(rows, whole.getItemCount(0));
        assertEquals(rows - testStart, whole.getItemCount(1));
        XYDataset zoom = p.get(1).getXYPlot().getDataset();
        // The actual line starts one row early so it meets the first forecast.
        assertEquals(rows - testStart + 1, zoom.getItemCount(0));
        assertEquals(rows - testStart, zoom.getItemCount(1));
        p.get(1).getXYPlot().getDomainAxis().setAutoRange(true);
        assertTrue(p.get(1).getXYPlot().getDomainAxis().getLowerBound() >= time.x()[testStart - 1]);
        // Zoomed in value too: the range axis spans the test period's values, not the whole series'.
        double lowestTest = Arrays.stream(wave(rows), testStart - 1, rows).min().orElseThrow();
        assertTrue(p.get(1).getXYPlot().getRangeAxis().getLowerBound() > lowestTest - 0.1 * lowestTest);
        assertTrue(p.get(1).getXYPlot().getRangeAxis().getLowerBound()
                > p.get(0).getXYPlot().getRangeAxis().getLowerBound());
    }

    @Test
    void forecastPngStacksBothPanels() throws Exception {
        int rows = 468;
        double[] actual = wave(rows);
        Path png = tmp.resolve("forecast.png");
        Charts.forecast(png, "t", "v", months(rows), actual, forecastFrom(actual, 374), "forecast", 336, 374);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(Charts.WIDTH, image.getWidth());
        assertEquals(Charts.HEIGHT + Charts.ZOOM_HEIGHT, image.getHeight());
        assertTrue(Files.size(png) > 10_000);
    }

    @Test
    void predictChartHasOneMarkerPerForecastAndNoneOnTheLastActual() {
        List<String> past = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            past.add(YearMonth.of(1988, 1).plusMonths(i).toString());
        }
        List<String> future = new ArrayList<>();
        for (int h = 0; h < 10; h++) {
            future.add(YearMonth.of(1998, 1).plusMonths(h).toString());
        }
        double[] history = wave(120);
        double[] forecast = Arrays.copyOfRange(wave(130), 120, 130);
        JFreeChart chart = Charts.aheadChart("t", "v", past, history, future, forecast, List.of());
        XYPlot plot = chart.getXYPlot();
        XYDataset data = plot.getDataset();
        assertEquals(2, data.getSeriesCount());
        assertEquals(120, data.getItemCount(0));
        assertEquals(10, data.getItemCount(1), "one forecast marker per forecast");
        assertEquals(forecast[0], data.getYValue(1, 0));
        assertInstanceOf(DateAxis.class, plot.getDomainAxis());
        // The line from the last actual value to the first forecast is an annotation, not a forecast point.
        List<XYAnnotation> annotations = plot.getAnnotations();
        assertEquals(1, annotations.size());
        XYLineAnnotation link = assertInstanceOf(XYLineAnnotation.class, annotations.get(0));
        assertEquals(data.getXValue(0, 119), link.getX1());
        assertEquals(history[119], link.getY1());
        assertEquals(data.getXValue(1, 0), link.getX2());
        assertEquals(forecast[0], link.getY2());
    }
}
