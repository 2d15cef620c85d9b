package org.lstmcast.chart;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TimeZone;
import javax.imageio.ImageIO;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYLineAnnotation;
import org.jfree.chart.axis.DateAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.lstmcast.data.TimeAxis;

/** The PNG charts of a training run, drawn with JFreeChart. */
public final class Charts {
    static final int WIDTH = 1400;
    static final int HEIGHT = 600;
    static final int ZOOM_HEIGHT = 420;

    private Charts() {
    }

    /**
     * The whole series with the test-period forecasts drawn over it, and below it the test period alone: at the scale
     * of the whole series a good forecast is hidden under the actual line.
     *
     * @param forecast one forecast per row, NaN where there is none (before the test part)
     * @param valStart first validation row, shaded with the test part so the reader sees what was held out
     * @param testStart first test row
     */
    public static void forecast(Path png, String title, String valueLabel, TimeAxis time, double[] actual,
                                double[] forecast, String forecastLabel, int valStart, int testStart) throws IOException {
        forecast(png, title, valueLabel, time, actual, forecast, forecastLabel, valStart, testStart, List.of());
    }

    /** {@link #forecast} with prediction intervals as bands in the zoomed panel; their arrays are per row, NaN where none. */
    public static void forecast(Path png, String title, String valueLabel, TimeAxis time, double[] actual,
                                double[] forecast, String forecastLabel, int valStart, int testStart, List<Band> bands)
            throws IOException {
        List<JFreeChart> panels = forecastPanels(title, valueLabel, time, actual, forecast, forecastLabel, valStart, testStart);
        if (!bands.isEmpty()) {
            bands(panels.get(1).getXYPlot(), time.decimalYearsAsDates().x(), forecast, bands);
        }
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT + ZOOM_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = image.createGraphics();
        try {
            g2.setPaint(Color.WHITE);
            g2.fillRect(0, 0, image.getWidth(), image.getHeight());
            panels.get(0).draw(g2, new Rectangle(0, 0, WIDTH, HEIGHT));
            panels.get(1).draw(g2, new Rectangle(0, HEIGHT, WIDTH, ZOOM_HEIGHT));
        } finally {
            g2.dispose();
        }
        ImageIO.write(image, "png", png.toFile());
    }

    /** The two panels of {@link #forecast}: the whole series, then the test period zoomed. */
    static List<JFreeChart> forecastPanels(String title, String valueLabel, TimeAxis time, double[] actual,
                                           double[] forecast, String forecastLabel, int valStart, int testStart) {
        // PNGs are rendered off-screen; servers and CI have no display.
        System.setProperty("java.awt.headless", "true");
        time = time.decimalYearsAsDates();
        int last = actual.length - 1;
        XYSeries truth = new XYSeries("actual", false, true);
        XYSeries predicted = new XYSeries(forecastLabel, false, true);
        // The zoomed panel starts one row early so its actual line runs into the first forecast.
        int zoomFrom = Math.max(0, testStart - 1);
        XYSeries recentTruth = new XYSeries("actual", false, true);
        XYSeries recentPredicted = new XYSeries(forecastLabel, false, true);
        for (int i = 0; i < actual.length; i++) {
            truth.add(time.x()[i], actual[i]);
            if (i >= zoomFrom) {
                recentTruth.add(time.x()[i], actual[i]);
            }
            if (!Double.isNaN(forecast[i])) {
                predicted.add(time.x()[i], forecast[i]);
                recentPredicted.add(time.x()[i], forecast[i]);
            }
        }
        JFreeChart whole = truthAndForecast(title, valueLabel, time, truth, predicted);
        whole.removeLegend();
        XYPlot plot = whole.getXYPlot();
        ((XYLineAndShapeRenderer) plot.getRenderer()).setSeriesStroke(1, new BasicStroke(1.4f));
        shade(plot, time.x()[valStart], time.x()[testStart], new Color(0xFF, 0xE0, 0x99, 90), "validation");
        shade(plot, time.x()[testStart], time.x()[last], new Color(0x99, 0xCC, 0xFF, 90), "test");

        JFreeChart zoom = truthAndForecast("Test period, zoomed (" + (last - testStart + 1) + " rows)", valueLabel, time,
                recentTruth, recentPredicted);
        zoom.getTitle().setFont(zoom.getTitle().getFont().deriveFont(14f));
        XYPlot zoomed = zoom.getXYPlot();
        zoomed.setBackgroundPaint(new Color(0xF7, 0xFB, 0xFF));
        ((XYLineAndShapeRenderer) zoomed.getRenderer()).setSeriesStroke(1, new BasicStroke(1.4f));
        return List.of(whole, zoom);
    }

    /** Training and validation loss per epoch on a log scale, with the restored best epoch marked. */
    /** @param title which network's losses these are, or why there are none */
    public static void loss(Path png, String title, double[] train, double[] val, int bestEpoch) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeries t = new XYSeries("training loss");
        XYSeries v = new XYSeries("validation loss");
        for (int e = 0; e < train.length; e++) {
            if (train[e] > 0 && Double.isFinite(train[e])) {
                t.add(e + 1, train[e]);
            }
            if (val[e] > 0 && Double.isFinite(val[e])) {
                v.add(e + 1, val[e]);
            }
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(t);
        data.addSeries(v);
        JFreeChart chart = ChartFactory.createXYLineChart(title, "epoch", "loss", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        double lo = Math.min(t.getMinY(), v.getMinY());
        double hi = Math.max(t.getMaxY(), v.getMaxY());
        if (t.getItemCount() > 0 && hi / lo > 20) {
            // Losses that fall by orders of magnitude read best on a log scale; a narrow band reads best linear.
            LogAxis log = new LogAxis("loss");
            log.setSmallestValue(1e-9);
            plot.setRangeAxis(log);
        } else {
            ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        }
        NumberAxis epochs = (NumberAxis) plot.getDomainAxis();
        epochs.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        style(plot);
        XYLineAndShapeRenderer renderer = (XYLineAndShapeRenderer) plot.getRenderer();
        renderer.setDefaultShapesVisible(true);
        renderer.setSeriesPaint(0, new Color(0x1F, 0x77, 0xB4));
        renderer.setSeriesPaint(1, new Color(0xFF, 0x7F, 0x0E));
        ValueMarker best = new ValueMarker(bestEpoch, Color.GRAY, new BasicStroke(1f, BasicStroke.CAP_BUTT,
                BasicStroke.JOIN_MITER, 1f, new float[] {4f, 4f}, 0f));
        best.setLabel("best epoch " + bestEpoch);
        best.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        best.setLabelTextAnchor(TextAnchor.TOP_LEFT);
        if (train.length > 0) {
            plot.addDomainMarker(best);
        }
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, 500);
    }

    /** The recent history and the forecast that continues it. */
    public static void ahead(Path png, String title, String valueLabel, List<String> historyTimes, double[] history,
                             List<String> futureTimes, double[] forecast) throws IOException {
        ahead(png, title, valueLabel, historyTimes, history, futureTimes, forecast, List.of());
    }

    /**
     * A prediction interval drawn as a shaded band around the forecast; it may end before the forecast does.
     *
     * @param lower one value per step from the first forecast on
     */
    public record Band(String label, double[] lower, double[] upper) {
    }

    /** {@link #ahead} with prediction intervals, widest first, each a band under the forecast line. */
    public static void ahead(Path png, String title, String valueLabel, List<String> historyTimes, double[] history,
                             List<String> futureTimes, double[] forecast, List<Band> bands) throws IOException {
        JFreeChart chart = aheadChart(title, valueLabel, historyTimes, history, futureTimes, forecast, bands);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
    }

    /** The chart of {@link #ahead}: one marker per forecast, none on the last actual value. */
    static JFreeChart aheadChart(String title, String valueLabel, List<String> historyTimes, double[] history,
                                 List<String> futureTimes, double[] forecast, List<Band> bands) {
        System.setProperty("java.awt.headless", "true");
        List<String> all = new ArrayList<>(historyTimes);
        all.addAll(futureTimes);
        TimeAxis time = TimeAxis.of(all);
        if (time.kind() != TimeAxis.Kind.INDEX && time.firstOutOfOrder() >= 0) {
            double[] index = new double[all.size()];
            for (int i = 0; i < index.length; i++) {
                index[i] = i;
            }
            time = new TimeAxis(TimeAxis.Kind.INDEX, index);
        }
        time = time.decimalYearsAsDates();
        XYSeries past = new XYSeries("history", false, true);
        XYSeries next = new XYSeries("forecast", false, true);
        int n = history.length;
        for (int i = 0; i < n; i++) {
            past.add(time.x()[i], history[i]);
        }
        for (int h = 0; h < forecast.length; h++) {
            next.add(time.x()[n + h], forecast[h]);
        }
        JFreeChart chart = truthAndForecast(title, valueLabel, time, past, next);
        XYPlot plot = chart.getXYPlot();
        XYLineAndShapeRenderer renderer = (XYLineAndShapeRenderer) plot.getRenderer();
        BasicStroke stroke = new BasicStroke(2f);
        renderer.setSeriesStroke(1, stroke);
        renderer.setSeriesShapesVisible(1, true);
        // The last marker sits at the axis's end; without a margin half of it would be cut off.
        plot.getDomainAxis().setUpperMargin(0.015);
        // The last actual value is not a forecast: the line from it to the first forecast is drawn as an annotation,
        // outside the forecast series, so it carries no forecast marker.
        plot.addAnnotation(new XYLineAnnotation(time.x()[n - 1], history[n - 1], time.x()[n], forecast[0], stroke,
                renderer.getSeriesPaint(1)));
        shade(plot, time.x()[n - 1], time.x()[n + forecast.length - 1], new Color(0xFF, 0xCC, 0xCC, 80), "forecast");
        bands(plot, Arrays.copyOfRange(time.x(), n, n + forecast.length), forecast, bands);
        return chart;
    }

    /**
     * Bands as datasets behind the lines (JFreeChart draws higher dataset indices first), the widest palest; the
     * legend names each.
     */
    static void bands(XYPlot plot, double[] x, double[] mid, List<Band> bands) {
        for (int b = 0; b < bands.size(); b++) {
            Band band = bands.get(b);
            org.jfree.data.xy.YIntervalSeries series = new org.jfree.data.xy.YIntervalSeries(band.label());
            for (int h = 0; h < Math.min(x.length, band.lower().length); h++) {
                if (Double.isFinite(band.lower()[h]) && Double.isFinite(band.upper()[h])) {
                    series.add(x[h], mid[h], band.lower()[h], band.upper()[h]);
                }
            }
            org.jfree.data.xy.YIntervalSeriesCollection data = new org.jfree.data.xy.YIntervalSeriesCollection();
            data.addSeries(series);
            org.jfree.chart.renderer.xy.DeviationRenderer renderer = new org.jfree.chart.renderer.xy.DeviationRenderer(false, false);
            int alpha = 40 + 50 * b;
            renderer.setSeriesFillPaint(0, new Color(0xD0, 0x30, 0x30, Math.min(255, alpha)));
            renderer.setSeriesPaint(0, new Color(0xD0, 0x30, 0x30, Math.min(255, alpha)));
            renderer.setAlpha(1f);
            int index = plot.getDatasetCount() + 1;
            plot.setDataset(index, data);
            plot.setRenderer(index, renderer);
        }
    }

    /** A line chart of the truth (dark) and a forecast (red) over a time axis. */
    private static JFreeChart truthAndForecast(String title, String valueLabel, TimeAxis time, XYSeries truth,
                                               XYSeries forecast) {
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(truth);
        data.addSeries(forecast);
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel(time), valueLabel, data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setDomainAxis(timeAxis(time, truth, forecast));
        // A replaced axis misses the fonts the factory gave the original; the theme gives them again.
        ChartFactory.getChartTheme().apply(chart);
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        // Room on the right for the half of a tick label that sits at the axis's end.
        chart.setPadding(new RectangleInsets(4, 8, 4, 40));
        style(plot);
        XYLineAndShapeRenderer renderer = (XYLineAndShapeRenderer) plot.getRenderer();
        renderer.setSeriesPaint(0, new Color(0x33, 0x33, 0x33));
        renderer.setSeriesStroke(0, new BasicStroke(1.2f));
        renderer.setSeriesPaint(1, new Color(0xD6, 0x27, 0x28));
        return chart;
    }

    /**
     * Dates as dates (in UTC, the zone {@link TimeAxis} reads them in, so a month starts on its own label), numbers as
     * numbers; spans of several units are ticked at whole numbers, which reads right for decimal years ("1994", not
     * "1993.5"). The axis ends at the data: a margin would only add time where nothing happened.
     */
    private static ValueAxis timeAxis(TimeAxis time, XYSeries... series) {
        ValueAxis axis;
        if (time.kind() == TimeAxis.Kind.DATE) {
            TimeZone utc = TimeZone.getTimeZone("UTC");
            DateAxis dates = new DateAxis(xLabel(time), utc, Locale.getDefault());
            dates.setStandardTickUnits(DateAxis.createStandardDateTickUnits(utc, Locale.getDefault()));
            // DateAxis spaces its ticks by the label widths plus these insets; with the default 2 px, month labels
            // ("Aug-1990") run into each other.
            dates.setTickLabelInsets(new RectangleInsets(2, 10, 2, 10));
            axis = dates;
        } else {
            NumberAxis numbers = new NumberAxis(xLabel(time));
            numbers.setAutoRangeIncludesZero(false);
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (XYSeries s : series) {
                if (s.getItemCount() > 0) {
                    lo = Math.min(lo, s.getMinX());
                    hi = Math.max(hi, s.getMaxX());
                }
            }
            if (hi - lo >= 3) {
                numbers.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
                // Without grouping: a year reads 1994, not 1,994.
                numbers.setNumberFormatOverride(new DecimalFormat("0", DecimalFormatSymbols.getInstance(Locale.ROOT)));
            }
            axis = numbers;
        }
        axis.setLowerMargin(0);
        axis.setUpperMargin(0);
        return axis;
    }

    private static void shade(XYPlot plot, double from, double to, Color color, String label) {
        IntervalMarker marker = new IntervalMarker(from, to, color);
        marker.setLabel(label);
        marker.setLabelAnchor(RectangleAnchor.TOP_LEFT);
        marker.setLabelTextAnchor(TextAnchor.TOP_LEFT);
        plot.addDomainMarker(marker, Layer.BACKGROUND);
    }

    private static void style(XYPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
        plot.setRangeGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
    }

    private static String xLabel(TimeAxis time) {
        return switch (time.kind()) {
            case NUMBER, DATE -> "time";
            case INDEX -> "row";
        };
    }
}
