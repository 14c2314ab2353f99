package dev.vmsim.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        assertTrue(new File("/usr/bin/chromium").canExecute(), "/usr/bin/chromium is missing: apt-get install chromium");
        assertTrue(new File("/usr/bin/chromedriver").canExecute(), "/usr/bin/chromedriver is missing: apt-get install chromium-driver");
        Files.createDirectories(SHOTS);
        server = VmsimServer.start("127.0.0.1", 0);
        final ChromeOptions o = new ChromeOptions();
        o.setBinary("/usr/bin/chromium");
        o.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1400");
        driver = new ChromeDriver(new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).build(), o);
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
    private static void waitFor(final int seconds, final java.util.function.Function<org.openqa.selenium.WebDriver, Boolean> condition) {
        try {
            new WebDriverWait(driver, Duration.ofSeconds(seconds)).until(condition::apply);
        } catch (org.openqa.selenium.TimeoutException e) {
            final Object state = driver.executeScript("const t = id => document.getElementById(id) ? document.getElementById(id)"
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
        waitFor(30, d -> d.findElement(By.id("locking")).findElements(By.tagName("option")).size() >= 3);
        driver.findElement(By.id("run")).click();
        waitFor(60, d -> d.findElement(By.id("position")).getText().equals("line 3 of 3"));
        final List<WebElement> lines = driver.findElements(By.cssSelector("#lines li"));
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).getText().contains("ok top-0x4000"), lines.get(0).getText());
        final String vmas = driver.findElement(By.id("x86_64-vmas")).getText();
        assertTrue(vmas.contains("top-0x4000 top+0x0 rw-p"), vmas);
        // Step back to the write, open its fault path: the kernel functions it went through.
        driver.findElement(By.id("back")).click();
        assertEquals("line 2 of 3", driver.findElement(By.id("position")).getText());
        final WebElement write = driver.findElements(By.cssSelector("#lines li")).get(1);
        write.findElement(By.tagName("summary")).click();
        final String path = write.findElement(By.className("timeline")).getText();
        assertTrue(path.contains("lock_vma_under_rcu") && path.contains("do_anonymous_page") && path.contains("handle_mm_fault"), path);
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
        driver.findElement(By.cssSelector("#choices input[value='do_anonymous_page maps the zero page']")).click();
        driver.findElement(By.id("check")).click();
        final String verdict = driver.findElement(By.id("verdict")).getText();
        assertTrue(verdict.startsWith("Right"), verdict);
        shot("lesson-zero-page.png");
    }
}
