package dev.vmsim.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.http.HttpRequest;
import io.micronaut.http.client.HttpClient;
import java.io.File;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The pages in a real browser: Debian's chromium driven by Selenium through /usr/bin/chromedriver
 * (given explicitly, so Selenium Manager downloads nothing). Runs with -Pbrowser only; there it fails,
 * not skips, when chromium is missing. Screenshots go to target/screenshots/.
 */
@Tag("browser")
@Timeout(600)
class BrowserTest {
    static final Path SHOTS = Path.of("target", "screenshots");
    static VmsimServer server;
    static ChromeDriver driver;

    @BeforeAll
    static void start() throws Exception {
        assertTrue(
                new File("/usr/bin/chromium").canExecute(), "/usr/bin/chromium is missing: apt-get install chromium");
        assertTrue(
                new File("/usr/bin/chromedriver").canExecute(),
                "/usr/bin/chromedriver is missing: apt-get install chromium-driver");
        Files.createDirectories(SHOTS);
        server = VmsimServer.start("127.0.0.1", 0);
        final ChromeOptions o = new ChromeOptions();
        o.setBinary("/usr/bin/chromium");
        o.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1400");
        driver = new ChromeDriver(
                new ChromeDriverService.Builder()
                        .usingDriverExecutable(new File("/usr/bin/chromedriver"))
                        .build(),
                o);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    /** Waits for {@code condition}; on a timeout, fails with what the page shows (its error line, its position). */
    private static void waitFor(
            final int seconds, final java.util.function.Function<org.openqa.selenium.WebDriver, Boolean> condition) {
        try {
            new WebDriverWait(driver, Duration.ofSeconds(seconds)).until(condition::apply);
        } catch (org.openqa.selenium.TimeoutException e) {
            final Object state =
                    driver.executeScript("const t = id => document.getElementById(id) ? document.getElementById(id)"
                            + ".textContent : '-'; return 'url ' + location.href + ' | error ' + t('error') + ' | position '"
                            + " + t('position') + ' | lines ' + t('lines').slice(0, 300)");
            throw new AssertionError("timed out after " + seconds + " s; the page: " + state, e);
        }
    }

    /** Opens {@code url} afresh (a new hash alone would not reload the page). */
    private static void open(final String url) {
        driver.get("about:blank");
        driver.get(url);
    }

    private static void shot(final String name) throws Exception {
        final File f = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(f.toPath(), SHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    private static String hash(final String json) {
        return "#" + URLEncoder.encode(json, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Test
    void playgroundRunsAndStepsAScenario() throws Exception {
        open(server.url() + hash("{\"arch\":\"x86_64\",\"script\":\"map a 16K rw-\\nwrite a+4K 7\\nmaps\\n\"}"));
        waitFor(
                30,
                d -> d.findElement(By.id("locking"))
                                .findElements(By.tagName("option"))
                                .size()
                        >= 3);
        driver.findElement(By.id("run")).click();
        waitFor(60, d -> d.findElement(By.id("position")).getText().equals("line 3 of 3"));
        final List<WebElement> lines = driver.findElements(By.cssSelector("#lines li"));
        assertEquals(3, lines.size());
        assertTrue(
                lines.get(0).getText().contains("ok top-0x4000"), lines.get(0).getText());
        final String vmas = driver.findElement(By.id("x86_64-vmas")).getText();
        assertTrue(vmas.contains("top-0x4000 top+0x0 rw-p"), vmas);
        // Step back to the write, open its fault path: the kernel functions it went through.
        driver.findElement(By.id("back")).click();
        assertEquals("line 2 of 3", driver.findElement(By.id("position")).getText());
        final WebElement write =
                driver.findElements(By.cssSelector("#lines li")).get(1);
        write.findElement(By.tagName("summary")).click();
        final String path = write.findElement(By.className("timeline")).getText();
        assertTrue(
                path.contains("lock_vma_under_rcu")
                        && path.contains("do_anonymous_page")
                        && path.contains("handle_mm_fault"),
                path);
        final String walk = driver.findElement(By.id("x86_64-walk")).getText();
        assertTrue(walk.contains("top-0x3000") && walk.contains("pte"), walk);
        assertTrue(driver.findElement(By.id("explain")).getText().contains("do_anonymous_page"));
        shot("playground-fault-path.png");
        // The keyboard steps too; the URL keeps the scenario.
        driver.findElement(By.tagName("body")).sendKeys(Keys.ARROW_LEFT);
        assertEquals("line 1 of 3", driver.findElement(By.id("position")).getText());
        assertTrue(driver.getCurrentUrl().contains("%22step%22%3A1"), driver.getCurrentUrl());
        // Select the VMA: the walk follows.
        driver.findElement(By.id("run")).click();
        waitFor(60, d -> d.findElement(By.id("position")).getText().equals("line 3 of 3"));
        driver.findElement(By.cssSelector("#x86_64-vmas .vma-link")).click();
        waitFor(60, d -> d.findElement(By.id("walk-help")).getText().contains("top-0x4000"));
        // Side by side with arm64.
        driver.findElement(By.id("side")).click();
        waitFor(60, d -> !d.findElements(By.id("arm64-walk")).isEmpty());
        assertTrue(driver.findElement(By.id("arm64-vmas")).getText().contains("top-0x4000 top+0x0 rw-p"));
        shot("playground-side-by-side.png");
        // The selected address links the fault path too: the write's events about its page stand out.
        driver.findElement(By.id("back")).click();
        final List<String> written = selectedEvents("top-0x3000");
        assertTrue(written.stream().anyMatch(t -> t.contains("handle_mm_fault")), written.toString());
        assertEquals(List.of(), selectedEvents("top-0x1000"), "no event is about another page");
    }

    /** Selects {@code address}, opens the current line's fault path and returns its highlighted events. */
    private static List<String> selectedEvents(final String address) {
        final WebElement walk = driver.findElement(By.id("walk"));
        walk.clear();
        walk.sendKeys(address, Keys.ENTER);
        waitFor(60, d -> d.findElement(By.id("walk-help")).getText().contains("selected " + address));
        final WebElement line = driver.findElement(By.cssSelector("#lines li.current"));
        line.findElement(By.tagName("summary")).click();
        return line.findElements(By.cssSelector(".timeline .selected")).stream()
                .map(WebElement::getText)
                .toList();
    }

    @Test
    void anExampleIsMarkedAsWhatLinuxPrinted() throws Exception {
        open(server.url() + hash("{\"example\":\"01-cow-after-fork\",\"step\":7}"));
        waitFor(60, d -> d.findElement(By.id("position")).getText().startsWith("line 7 of "));
        final String text = driver.findElement(By.id("lines")).getText();
        assertTrue(text.contains("Linux") && !text.contains("differs"), text);
        shot("playground-cow-after-fork.png");
    }

    @Test
    void compareDrawsItsCharts() throws Exception {
        open(server.url() + "compare.html");
        waitFor(30, d -> d.findElements(By.cssSelector("#modes input")).size() >= 3);
        final WebElement duration = driver.findElement(By.id("duration"));
        duration.clear();
        duration.sendKeys("100ms");
        final WebElement repeat = driver.findElement(By.id("repeat"));
        repeat.clear();
        repeat.sendKeys("1");
        driver.findElement(By.id("go")).click();
        waitFor(300, d -> "true".equals(d.findElement(By.id("rate")).getAttribute("data-drawn")));
        assertTrue(driver.findElement(By.id("report")).getText().contains("faults/s"));
        assertEquals("1", String.valueOf(driver.executeScript("return document.getElementById('progress').value")));
        final Object bars = driver.executeScript("return Chart.getChart('rate').data.datasets[0].data.length");
        assertEquals(3L, bars);
        shot("compare.png");
    }

    @Test
    void aLessonAsksBeforeTheLineAndChecksTheAnswer() throws Exception {
        open(server.url() + "lessons.html" + hash("{\"lesson\":\"zero\",\"seed\":1}"));
        // The map line has no question: step over it; the read after it asks first.
        waitFor(60, d -> d.findElement(By.id("step")).isEnabled());
        driver.findElement(By.id("step")).click();
        waitFor(60, d -> d.findElement(By.id("question")).isDisplayed());
        assertEquals(1, driver.findElements(By.cssSelector("#lines li")).size());
        assertTrue(!driver.findElement(By.id("step")).isEnabled(), "no stepping past an open question");
        driver.findElement(By.cssSelector("#choices input[value='do_anonymous_page maps the zero page']"))
                .click();
        driver.findElement(By.id("check")).click();
        final String verdict = driver.findElement(By.id("verdict")).getText();
        assertTrue(verdict.startsWith("Right"), verdict);
        shot("lesson-zero-page.png");
    }

    /**
     * The interleavings page steps fault-vs-munmap under mmap-only to a stop where one CPU waits on
     * the mmap_lock the other holds, and on to the end; at each, the page shows what
     * {@code /api/interleavings} returned for that stop: where each CPU is, the lock's waiters, the
     * outcome. The seed is the first that has such a stop (the API test shows one within 20).
     */
    @Test
    void theInterleavingsPageStepsAFaultRacingMunmap() throws Exception {
        InterleavingApi.Response run = null;
        int waitAt = -1;
        InterleavingApi.Lock waited = null;
        try (HttpClient http = HttpClient.create(new java.net.URL(server.url()))) {
            for (long seed = 0; seed < 20 && waitAt < 0; seed++) {
                run = http.toBlocking()
                        .retrieve(
                                HttpRequest.POST(
                                        "/api/interleavings",
                                        new InterleavingApi.Request("fault-vs-munmap", "x86_64", "mmap-only", seed)),
                                InterleavingApi.Response.class);
                for (final InterleavingApi.Step s : run.steps()) {
                    waited = s.locks().stream()
                            .filter(l -> !l.waiters().isEmpty())
                            .findFirst()
                            .orElse(null);
                    if (waited != null) {
                        waitAt = s.index();
                        break;
                    }
                }
            }
        }
        assertTrue(waitAt > 0, "no seed below 20 has a stop with a waiter");
        final int n = run.steps().size();
        open(server.url() + "interleavings.html"
                + hash("{\"scenario\":\"fault-vs-munmap\",\"arch\":\"x86_64\"," + "\"locking\":\"mmap-only\",\"seed\":"
                        + run.seed() + "}"));
        waitFor(60, d -> d.findElement(By.id("where")).getText().startsWith("step 1 of " + n + ":"));
        assertLanes(run.steps().get(0));
        // Step by step to the stop with a waiter.
        for (int i = 0; i < waitAt; i++) {
            driver.findElement(By.id("step")).click();
        }
        final InterleavingApi.Step atWait = run.steps().get(waitAt);
        assertEquals(
                "step " + (waitAt + 1) + " of " + n + ": " + atWait.cpu() + " at " + atWait.kind() + " " + atWait.what()
                        + " (" + atWait.clockNs() + " ns)",
                driver.findElement(By.id("where")).getText());
        assertLanes(atWait);
        final WebElement row = driver.findElements(By.cssSelector("#locks tr")).stream()
                .filter(r -> !r.findElements(By.tagName("td")).isEmpty())
                .filter(r -> r.findElements(By.tagName("td")).get(0).getText().equals(waitedName(atWait)))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no row for the waited lock in "
                        + driver.findElement(By.id("locks")).getText()));
        final List<WebElement> cells = row.findElements(By.tagName("td"));
        final InterleavingApi.Lock lock = atWait.locks().stream()
                .filter(l -> !l.waiters().isEmpty())
                .findFirst()
                .orElseThrow();
        assertEquals(String.join(", ", lock.waiters()), cells.get(4).getText(), "the waiters");
        assertEquals(String.join(", ", lock.holders()), cells.get(2).getText(), "the holders");
        assertEquals(lock.state(), cells.get(1).getText());
        assertTrue(cells.get(4).getAttribute("class").contains("linux-bad"), "the waiters stand out");
        for (final String w : lock.waiters()) {
            final String lane = driver.findElement(By.cssSelector("section.lane[aria-label='" + w + "']"))
                    .getText();
            assertTrue(lane.contains("waiting on"), w + " shows its wait: " + lane);
        }
        shot("interleavings-waiter.png");
        // Run to the end: the last stop, the outcome, the munmap's result; Back steps one stop back.
        driver.findElement(By.id("end")).click();
        final InterleavingApi.Step last = run.steps().get(n - 1);
        assertTrue(driver.findElement(By.id("where")).getText().startsWith("step " + n + " of " + n + ": "));
        assertLanes(last);
        assertTrue(!driver.findElement(By.id("step")).isEnabled()
                && !driver.findElement(By.id("end")).isEnabled());
        final String results = driver.findElement(By.id("results")).getText();
        assertTrue(results.contains("done") && results.contains(run.results().get(1)), results);
        assertTrue(run.results().get(1).contains("munmap ok"), run.results().toString());
        assertEquals(
                last.maps().isEmpty() ? "" : String.join("\n", last.maps()),
                driver.findElement(By.id("maps")).getText());
        shot("interleavings-end.png");
        driver.findElement(By.id("back")).click();
        assertTrue(driver.findElement(By.id("where")).getText().startsWith("step " + (n - 1) + " of " + n + ": "));
    }

    /** The lock that has waiters at {@code s}. */
    private static String waitedName(final InterleavingApi.Step s) {
        return s.locks().stream()
                .filter(l -> !l.waiters().isEmpty())
                .findFirst()
                .orElseThrow()
                .name();
    }

    /** Each CPU's lane shows its state, its virtual clock and the last event it passed, as the API has them. */
    private static void assertLanes(final InterleavingApi.Step s) {
        for (final InterleavingApi.Lane l : s.lanes()) {
            final WebElement section = driver.findElement(By.cssSelector("section.lane[aria-label='" + l.cpu() + "']"));
            final String lane = section.getText();
            assertTrue(lane.contains(l.state() + " @ " + l.clockNs() + " ns"), "step " + s.index() + ": " + lane);
            assertTrue(lane.contains("last event: " + l.lastEvent()), "step " + s.index() + ": " + lane);
            assertEquals(
                    l.waitingOn() != null,
                    lane.contains("waiting on " + l.waitingOn()),
                    "step " + s.index() + ": " + lane);
            // The CPU about to run the stop's event is marked, with the event; the other is not.
            final String title = section.findElement(By.tagName("h2")).getText();
            assertEquals(
                    l.cpu().equals(s.cpu()) ? l.cpu() + " \u25b6 " + s.kind() + " " + s.what() : l.cpu(),
                    title,
                    "step " + s.index());
        }
    }
}
