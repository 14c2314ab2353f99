package dev.vmsim.app.serve;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue [4/6], "labels on every control": every input, select and textarea of each page a screen
 * reader reaches has an accessible name: a {@code <label for>}, an enclosing {@code <label>}, an
 * aria-label or a title. Buttons name themselves by their text.
 */
class PageLabelsTest {
    private static final Pattern CONTROL =
            Pattern.compile("<(input|select|textarea)\\b([^>]*)>", Pattern.CASE_INSENSITIVE);
    private static final Pattern ID = Pattern.compile("\\bid=\"([^\"]+)\"");

    private static String page(final String name) throws IOException {
        try (InputStream in = PageLabelsTest.class.getResourceAsStream("/public/" + name)) {
            assertNotNull(in, name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"index.html", "compare.html", "lessons.html", "interleavings.html"})
    void everyControlHasAnAccessibleName(final String name) throws IOException {
        final String html = page(name);
        final List<String> unnamed = new ArrayList<>();
        final Matcher m = CONTROL.matcher(html);
        int controls = 0;
        while (m.find()) {
            final String attrs = m.group(2);
            if (attrs.contains("type=\"hidden\"")) {
                continue;
            }
            controls++;
            if (attrs.contains("aria-label=") || attrs.contains("aria-labelledby=") || attrs.contains("title=")) {
                continue;
            }
            final Matcher id = ID.matcher(attrs);
            if (id.find() && html.contains("for=\"" + id.group(1) + "\"")) {
                continue;
            }
            final int open = html.lastIndexOf("<label", m.start());
            if (open >= 0 && html.indexOf("</label>", open) > m.start()) {
                continue; // inside its label
            }
            unnamed.add(m.group());
        }
        assertTrue(controls > 0, name + " has controls");
        assertTrue(unnamed.isEmpty(), name + ": controls without a label: " + unnamed);
    }
}
