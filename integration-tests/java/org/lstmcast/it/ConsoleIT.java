package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The browser console of the packaged server, driven in headless Chromium (Debian's chromium and chromedriver):
 * every test saves a screenshot under target/screenshots/. Skipped when no Chromium is installed, except on CI.
 */
class ConsoleIT {
    private static final Path CHROMIUM = Path.of(System.getProperty("lstmcast.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("lstmcast.chromedriver", "/usr/bin/chromedriver"));
    private static final Path SHOTS = Path.of(System.getProperty("lstmcast.root", ".")).resolve("target/screenshots");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;
    static ServerProcess server;
    static WebDriver driver;

    @BeforeAll
    static void start() throws Exception {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!installed && System.getenv("CI") != null) {
            throw new IllegalStateException("CI is set but " + CHROMIUM + " or " + CHROMEDRIVER
                    + " is missing: apt-get install chromium chromium-driver (.ci/run does)");
        }
        Assumptions.assumeTrue(installed, "no " + CHROMIUM + " and " + CHROMEDRIVER + ": browser tests skipped");
        Path repo = work.resolve("repo");
        // "dax": one LSTM without intervals (the earlier bundled DAX; the bundled one now keeps drift with intervals).
        Path plainLstm = Program.ROOT.resolve("src/test/resources/fixtures/dax_lstm.onnx");
        Files.createDirectories(repo.resolve("dax/1"));
        Files.copy(plainLstm, repo.resolve("dax/1/model.onnx"));
        Files.createDirectories(repo.resolve("co2/1"));
        Files.copy(Program.ROOT.resolve("models/co2/1/model.onnx"), repo.resolve("co2/1/model.onnx"));
        // The same LSTM with intervals supplied by forecast.json: absolute half-widths per step for 80% and 95%.
        Files.createDirectories(repo.resolve("banded/1"));
        Files.copy(plainLstm, repo.resolve("banded/1/model.onnx"));
        Files.writeString(repo.resolve("banded/forecast.json"), "{\"intervals\": {\"levels\": [80, 95], \"space\": "
                + "\"absolute\", \"half_width\": [[30, 60], [40, 80], [50, 100], [60, 120], [70, 140]]}}");
        Files.createDirectories(repo.resolve("broken/1"));
        Files.writeString(repo.resolve("broken/1/model.onnx"), "this is not an ONNX model");
        server = ServerProcess.start(work, repo);
        driver = browser();
        Files.createDirectories(SHOTS);
    }

    static WebDriver browser() {
        // Selenium Manager is never asked: the driver and the browser are named here (and SE_OFFLINE is set).
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--lang=en-US");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() throws Exception {
        if (driver != null) {
            driver.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void desktop() {
        if (driver != null) {
            driver.manage().window().setSize(new Dimension(1280, 1000));
        }
    }

    static WebDriverWait waiting(WebDriver d) {
        return new WebDriverWait(d, Duration.ofSeconds(30));
    }

    static void shot(WebDriver d, String name) throws Exception {
        Files.write(SHOTS.resolve(name + ".png"), ((TakesScreenshot) d).getScreenshotAs(OutputType.BYTES));
    }

    /** Resizes the window to the page's full height for a whole-page screenshot. */
    static void shotWhole(WebDriver d, String name, int width) throws Exception {
        long height = (Long) ((JavascriptExecutor) d).executeScript(
                "return Math.ceil(document.documentElement.scrollHeight)");
        d.manage().window().setSize(new Dimension(width, (int) Math.min(4000, Math.max(600, height + 140))));
        ((JavascriptExecutor) d).executeScript("window.scrollTo(0, 0)");
        Thread.sleep(300);
        shot(d, name);
    }

    static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** The last 30 DAX closes up to a row of the bundled file, as the textarea takes them. */
    static List<Double> daxWindow(int end) throws Exception {
        List<String> rows = Files.readAllLines(Program.ROOT.resolve("data/eustockmarkets_daily.csv"));
        List<Double> out = new ArrayList<>();
        for (String row : rows.subList(end - 29, end + 1)) {
            out.add(Double.parseDouble(row.split(",")[2]));
        }
        return out;
    }

    static String joined(List<Double> values) {
        return String.join(", ", values.stream().map(String::valueOf).toList());
    }

    JsonNode apiForecast(String model, String window, int horizon) throws Exception {
        var r = server.post("/v1/models/" + model + "/forecast", "{\"inputs\": [[" + window + "]], \"horizon\": " + horizon + "}");
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("forecasts").get(0);
    }

    String apiError(String model, String body) throws Exception {
        var r = server.post("/v1/models/" + model + "/forecast", body);
        assertEquals(400, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("error").asText();
    }

    @SuppressWarnings("unchecked")
    List<Number> plottedForecast(int horizon) {
        List<Number> data = (List<Number>) js("return Chart.getChart(document.getElementById('chart')).data.datasets[1].data");
        return data.subList(data.size() - horizon, data.size());
    }

    void assertSameNumbers(JsonNode expected, List<Number> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < actual.size(); i++) {
            assertEquals(expected.get(i).asDouble(), actual.get(i).doubleValue(), 0.0, "step " + (i + 1));
        }
    }

    @Test
    void modelsPageListsTheModelsTheirStatesAndWhyOneFailed() throws Exception {
        driver.get(server.base + "/");
        WebDriverWait wait = waiting(driver);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("article[data-model='broken']")));
        for (String m : List.of("dax", "co2")) {
            WebElement card = driver.findElement(By.cssSelector("article[data-model='" + m + "']"));
            assertEquals("READY", card.findElement(By.cssSelector(".badge")).getText());
            assertTrue(card.getText().contains("CPUExecutionProvider"), card.getText());
            assertTrue(card.getText().contains("Lookback"), card.getText());
            assertTrue(card.getText().contains("this model"), "test metrics table: " + card.getText());
            assertEquals(5, card.findElements(By.cssSelector("[data-live]")).size());
        }
        assertTrue(driver.findElement(By.cssSelector("article[data-model='co2']")).getText().contains("co2_monthly.csv"));
        WebElement broken = driver.findElement(By.cssSelector("article[data-model='broken']"));
        assertEquals("FAILED", broken.findElement(By.cssSelector(".badge")).getText());
        assertTrue(broken.findElement(By.cssSelector(".reason")).getText().contains("not an ONNX model"), broken.getText());
        assertTrue(broken.findElement(By.cssSelector(".advice")).getText().contains("What to do"), broken.getText());
        // The live figures follow the traffic: forecasts sent now show as requests per second within a few refreshes.
        String window = joined(daxWindow(500));
        for (int i = 0; i < 20; i++) {
            apiForecast("dax", window, 5);
        }
        wait.until(d -> {
            String rps = d.findElement(By.cssSelector("article[data-model='dax'] [data-live='requests_per_second']")).getText();
            String batch = d.findElement(By.cssSelector("article[data-model='dax'] [data-live='mean_batch_size']")).getText();
            return !rps.equals("0") && !rps.equals("–") && batch.equals("1");
        });
        shotWhole(driver, "models", 1280);
    }

    @Test
    void pastedWindowIsForecastAndPlottedAsTheApiAnswers() throws Exception {
        driver.get(server.base + "/models/dax");
        WebDriverWait wait = waiting(driver);
        WebElement values = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("values")));
        String window = joined(daxWindow(1200));
        values.sendKeys(window);
        WebElement horizon = driver.findElement(By.id("horizon"));
        assertEquals("5", horizon.getAttribute("value"), "the model's horizon by default");
        horizon.clear();
        horizon.sendKeys("8");
        driver.findElement(By.id("run")).click();
        wait.until(d -> d.findElements(By.cssSelector("#forecast-table tbody tr")).size() == 8);
        JsonNode expected = apiForecast("dax", window, 8);
        assertSameNumbers(expected, plottedForecast(8));
        List<WebElement> cells = driver.findElements(By.cssSelector("#forecast-table td.value"));
        for (int i = 0; i < 8; i++) {
            assertEquals(expected.get(i).asDouble(), Double.parseDouble(cells.get(i).getText()), 0.0);
        }
        // Zoom with the wheel, then reset: the full range comes back.
        js("const c = Chart.getChart(document.getElementById('chart')); c.zoom(2);");
        assertTrue((Boolean) js("return Chart.getChart(document.getElementById('chart')).isZoomedOrPanned()"));
        driver.findElement(By.id("reset-zoom")).click();
        assertFalse((Boolean) js("return Chart.getChart(document.getElementById('chart')).isZoomedOrPanned()"));
        // Keyboard: the form submits from the horizon field with Enter.
        horizon.clear();
        horizon.sendKeys("3", org.openqa.selenium.Keys.ENTER);
        wait.until(d -> d.findElements(By.cssSelector("#forecast-table tbody tr")).size() == 3);
        assertSameNumbers(apiForecast("dax", window, 3), plottedForecast(3));
        horizon.clear();
        horizon.sendKeys("8", org.openqa.selenium.Keys.ENTER);
        wait.until(d -> d.findElements(By.cssSelector("#forecast-table tbody tr")).size() == 8);
        shotWhole(driver, "forecast", 1280);
    }

    @Test
    void uploadedCsvColumnsAreForecast() throws Exception {
        List<String> rows = Files.readAllLines(Program.ROOT.resolve("data/co2_monthly.csv"));
        Path csv = work.resolve("co2-part.csv");
        Files.write(csv, rows.subList(0, 301));
        driver.get(server.base + "/models/co2");
        WebDriverWait wait = waiting(driver);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("csv-file"))).sendKeys(csv.toAbsolutePath().toString());
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("time-column")));
        assertEquals("date", new Select(driver.findElement(By.id("time-column"))).getFirstSelectedOption().getText());
        assertEquals("ppm", new Select(driver.findElement(By.id("value-column-0"))).getFirstSelectedOption().getText());
        driver.findElement(By.id("run")).click();
        wait.until(d -> d.findElements(By.cssSelector("#forecast-table tbody tr")).size() == 5);
        // The page sends the last 120 rows of the chosen column.
        List<String> sent = new ArrayList<>();
        for (String row : rows.subList(301 - 120, 301)) {
            sent.add(row.split(",")[1]);
        }
        assertSameNumbers(apiForecast("co2", String.join(",", sent), 5), plottedForecast(5));
        // The time column labels the axis, and the forecast steps continue it month by month.
        String lastDate = rows.get(300).split(",")[0];
        @SuppressWarnings("unchecked")
        List<String> labels = (List<String>) js("return Chart.getChart(document.getElementById('chart')).data.labels");
        assertEquals(lastDate, labels.get(labels.size() - 6));
        assertEquals(nextMonth(lastDate), labels.get(labels.size() - 5));
        shotWhole(driver, "forecast-csv", 1280);
    }

    static String nextMonth(String yyyyMm) {
        YearMonth m = YearMonth.parse(yyyyMm).plusMonths(1);
        return m.toString();
    }

    @Test
    void badInputShowsTheApisOwnMessageNextToTheField() throws Exception {
        driver.get(server.base + "/models/dax");
        WebDriverWait wait = waiting(driver);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("values"))).sendKeys("1, 2, 3");
        driver.findElement(By.id("run")).click();
        WebElement error = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("values-error")));
        assertEquals(apiError("dax", "{\"inputs\": [[1, 2, 3]], \"horizon\": 5}"), error.getText());
        assertEquals("true", driver.findElement(By.id("values")).getAttribute("aria-invalid"));
        shot(driver, "forecast-error");

        WebElement values = driver.findElement(By.id("values"));
        values.clear();
        String window = joined(daxWindow(800));
        values.sendKeys(window);
        WebElement horizon = driver.findElement(By.id("horizon"));
        horizon.clear();
        // Beyond the server's --max-horizon: only the server knows its limit, and its message shows beside the field.
        horizon.sendKeys("1000000");
        driver.findElement(By.id("run")).click();
        WebElement horizonError = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("horizon-error")));
        assertEquals(apiError("dax", "{\"inputs\": [[" + window + "]], \"horizon\": 1000000}"), horizonError.getText());
        assertEquals("", driver.findElement(By.id("values-error")).getText());
    }

    @Test
    void aHorizonThatIsNotAPositiveWholeNumberIsFlaggedByThePageAndRefusedByTheServer() throws Exception {
        String window = joined(daxWindow(800));
        for (String typed : List.of("abc", "-2", "0", "2.5")) {
            driver.get(server.base + "/models/dax");
            WebDriverWait wait = waiting(driver);
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("values"))).sendKeys(window);
            WebElement horizon = driver.findElement(By.id("horizon"));
            wait.until(d -> !horizon.getAttribute("value").isEmpty());
            horizon.clear();
            horizon.sendKeys(typed);
            driver.findElement(By.id("run")).click();
            WebElement error = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("horizon-error")));
            assertEquals("Horizon must be a whole number of at least 1, got \"" + typed + "\"", error.getText(), typed);
            assertEquals("true", horizon.getAttribute("aria-invalid"), typed);
            // Nothing was forecast with the model's own horizon in its place.
            assertTrue(driver.findElement(By.id("result")).getAttribute("class").contains("hidden"), typed);
            String sent = typed.matches("-?[0-9.]+") ? typed : "\"" + typed + "\"";
            assertTrue(apiError("dax", "{\"inputs\": [[" + window + "]], \"horizon\": " + sent + "}").contains("horizon"), typed);
        }
    }

    @Test
    void aModelWithIntervalsIsDrawnWithItsBandsAsTheApiAnswersThem() throws Exception {
        driver.get(server.base + "/models/banded");
        WebDriverWait wait = waiting(driver);
        String window = joined(daxWindow(900));
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("values"))).sendKeys(window);
        WebElement horizon = driver.findElement(By.id("horizon"));
        wait.until(d -> !horizon.getAttribute("value").isEmpty());
        horizon.clear();
        horizon.sendKeys("7");
        driver.findElement(By.id("run")).click();
        wait.until(d -> d.findElements(By.cssSelector("#forecast-table tbody tr")).size() == 7);
        var answer = server.post("/v1/models/banded/forecast", "{\"inputs\": [[" + window + "]], \"horizon\": 7, "
                + "\"intervals\": [80, 95]}");
        assertEquals(200, answer.statusCode(), answer.body());
        JsonNode api = JSON.readTree(answer.body());
        assertEquals(6, api.path("intervals_extrapolated_from").asInt());
        for (int l = 0; l < 2; l++) {
            String level = l == 0 ? "80" : "95";
            for (String side : List.of("lower", "upper")) {
                @SuppressWarnings("unchecked")
                List<Number> plotted = (List<Number>) js("const d = Chart.getChart(document.getElementById('chart')).data"
                        + ".datasets.find(s => s.label === '" + level + "% " + (side.equals("lower") ? "lower" : "interval")
                        + "'); return d.data.slice(d.data.length - 7)");
                for (int h = 0; h < 7; h++) {
                    assertEquals(api.path(side).get(0).get(h).get(l).asDouble(), plotted.get(h).doubleValue(), 0.0,
                            level + "% " + side + " step " + (h + 1));
                }
            }
        }
        List<WebElement> heads = driver.findElements(By.cssSelector("#forecast-table th.band"));
        assertEquals(List.of("80% interval", "95% interval"), heads.stream().map(WebElement::getText).toList());
        List<WebElement> rows = driver.findElements(By.cssSelector("#forecast-table tbody tr"));
        assertFalse(rows.get(4).getText().contains("*"), rows.get(4).getText());
        assertTrue(rows.get(5).getText().endsWith("*"), rows.get(5).getText());
        assertTrue(driver.findElement(By.id("band-note")).getText().contains("from step 6"));
        shotWhole(driver, "forecast-intervals", 1280);

        // A model without intervals: no band, no note.
        driver.get(server.base + "/models/dax");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("values"))).sendKeys(window);
        driver.findElement(By.id("run")).click();
        wait.until(d -> d.findElements(By.cssSelector("#forecast-table tbody tr")).size() == 5);
        assertEquals(2L, js("return Chart.getChart(document.getElementById('chart')).data.datasets.length"));
        assertEquals(0, driver.findElements(By.cssSelector("#forecast-table th.band")).size());
    }

    @Test
    void theServeBannerGivesTheConsolesAddress() throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!server.log.contains("lstmcast serve: console: " + server.base + "/") && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(server.log.contains("lstmcast serve: console: " + server.base + "/"), server.logTail(20));
    }

    @Test
    void forecastPageFitsA360PixelScreen() throws Exception {
        driver.manage().window().setSize(new Dimension(360, 800));
        driver.get(server.base + "/models/dax");
        WebDriverWait wait = waiting(driver);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("values"))).sendKeys(joined(daxWindow(1500)));
        driver.findElement(By.id("run")).click();
        wait.until(d -> d.findElements(By.cssSelector("#forecast-table tbody tr")).size() == 5);
        long overflow = (Long) js("return document.documentElement.scrollWidth - document.documentElement.clientWidth");
        assertTrue(overflow <= 0, "the page scrolls sideways by " + overflow + " px at 360 px");
        shotWhole(driver, "forecast-360", 360);
        driver.get(server.base + "/");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("article[data-model='broken']")));
        overflow = (Long) js("return document.documentElement.scrollWidth - document.documentElement.clientWidth");
        assertTrue(overflow <= 0, "the models page scrolls sideways by " + overflow + " px at 360 px");
        shotWhole(driver, "models-360", 360);
    }

    @Test
    void docsPageShowsEveryOperationOfTheDocument() throws Exception {
        driver.get(server.base + "/docs");
        WebDriverWait wait = waiting(driver);
        wait.until(d -> d.findElements(By.cssSelector(".opblock")).size() >= 17);
        JsonNode doc = JSON.readTree(server.get("/openapi.json").body());
        int operations = 0;
        for (JsonNode path : doc.get("paths")) {
            operations += path.size();
        }
        assertEquals(operations, driver.findElements(By.cssSelector(".opblock")).size());
        assertTrue(driver.findElement(By.cssSelector(".swagger-ui")).getText().contains("/v1/models/{model}/forecast"));
        shotWhole(driver, "docs", 1280);
    }

    @Test
    void withAnApiKeyThePagesAskForItOnceAndShowNothingWithout() throws Exception {
        Path repo = work.resolve("repo");
        try (ServerProcess keyed = ServerProcess.start(work, repo, "--api-key", "console-s3cret")) {
            WebDriver d = browser();
            try {
                d.get(keyed.base + "/");
                WebDriverWait wait = waiting(d);
                WebElement key = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("api-key")));
                assertFalse(d.findElement(By.id("content")).isDisplayed());
                assertEquals(0, d.findElements(By.cssSelector("article.model")).size());
                key.sendKeys("wrong", org.openqa.selenium.Keys.ENTER);
                wait.until(x -> x.findElement(By.cssSelector("#key-panel .error")).getText().contains("API key"));
                shot(d, "api-key");
                d.findElement(By.id("api-key")).sendKeys("console-s3cret", org.openqa.selenium.Keys.ENTER);
                wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("article[data-model='dax']")));
                assertFalse(d.findElement(By.id("key-panel")).isDisplayed());
                // Kept for the tab: the forecast page asks no more.
                d.get(keyed.base + "/models/dax");
                wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("values"))).sendKeys(joined(daxWindow(300)));
                assertFalse(d.findElement(By.id("key-panel")).isDisplayed());
                d.findElement(By.id("run")).click();
                wait.until(x -> x.findElements(By.cssSelector("#forecast-table tbody tr")).size() == 5);
            } finally {
                d.quit();
            }
        }
    }
}
