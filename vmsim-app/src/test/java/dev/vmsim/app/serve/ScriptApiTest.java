package dev.vmsim.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.app.VmsimMain;
import dev.vmsim.app.script.ScenarioFiles;
import dev.vmsim.bench.KernelFactory;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import jakarta.inject.Inject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /api/script}: the transcript is vmsim script's, and each step's result, events and snapshot. */
@MicronautTest
class ScriptApiTest {
    @Inject
    @Client("/")
    HttpClient http;

    @TempDir
    static Path tmp;

    private ScriptApi.Response post(final String arch, final String script) {
        return post(new ScriptApi.Request(arch, null, script, null, null));
    }

    private ScriptApi.Response post(final ScriptApi.Request req) {
        return http.toBlocking().retrieve(HttpRequest.POST("/api/script", req), ScriptApi.Response.class);
    }

    /** What `vmsim script --arch ARCH FILE` prints. */
    private static String cli(final String arch, final String script) throws Exception {
        final Path f = Files.createTempFile(tmp, "s", ".vms");
        Files.writeString(f, script, StandardCharsets.UTF_8);
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int rc = VmsimMain.run(
                new VmsimMain(KernelFactory.simulator()),
                new PrintWriter(out),
                new PrintWriter(err),
                "script",
                "--arch",
                arch,
                f.toString());
        assertEquals(0, rc, err::toString);
        return out.toString();
    }

    @TestFactory
    List<DynamicTest> everyRecordedScenarioGivesVmsimScriptsTranscriptOnBothArches() {
        final List<DynamicTest> tests = new ArrayList<>();
        for (final ScenarioFiles.Recorded r : ScenarioFiles.all()) {
            for (final String arch : List.of("x86_64", "arm64")) {
                tests.add(DynamicTest.dynamicTest(r.name() + " [" + arch + "]", () -> {
                    final ScriptApi.Response res = post(arch, r.script());
                    assertEquals(cli(arch, r.script()), res.transcript(), r.name());
                    assertEquals(r.transcript(), res.transcript(), "the recorded Linux transcript");
                    // The steps' outputs, in order, are the transcript.
                    assertEquals(
                            res.transcript(),
                            res.steps().stream().map(ScriptApi.Step::output).collect(Collectors.joining()));
                }));
            }
        }
        assertTrue(tests.size() >= 150, "scenarios x 2 arches: " + tests.size());
        return tests;
    }

    /**
     * Under memory pressure each snapshot shows the LRU and the swap slots as the core holds them: after
     * the populate, page a is swapped out (its slot counted once, by a's swap PTE, and no longer in the
     * swap cache once reclaim freed the folio); after the read the swap-in left the folio in the swap
     * cache (SWAP_HAS_CACHE, the count 0: do_swap_page keeps the slot while swap is not over half full,
     * as the kernel's should_try_to_free_swap does for a read fault), and pswpin counted it.
     */
    @Test
    void theLruAndSwapPanelsShowReclaimAndSwapIn() {
        final ScriptApi.Response res =
                post("x86_64", "mem 1M\nswap 4M\nmap a 4K rw-\nwrite a 7\nmap b 1M rw- populate\nread a\nunmap a 4K\n");
        final List<ScriptApi.Step> st = res.steps();
        // Before any pressure: a's folio is in the lru_add batch, not yet on a list; no slot is used.
        final ScriptApi.Snapshot afterWrite = st.get(3).snapshot();
        assertEquals(1, afterWrite.lru().lruAdd().size());
        assertEquals(
                List.of("parent top-0x1000"), afterWrite.lru().lruAdd().get(0).mappedBy());
        assertTrue(afterWrite.lru().lruAdd().get(0).lruAddBatch());
        assertEquals(
                List.of("inactive_anon", "active_anon", "inactive_file", "active_file"),
                afterWrite.lru().lists().stream().map(ScriptApi.LruList::name).toList());
        assertEquals(0, afterWrite.swap().get(0).used());
        // After the populate: a was swapped out.
        final ScriptApi.Snapshot afterPopulate = st.get(4).snapshot();
        final ScriptApi.SwapDevice dev = afterPopulate.swap().get(0);
        assertEquals(1024, dev.size());
        assertEquals(dev.slots().size(), dev.used());
        assertTrue(afterPopulate.vmstat().get("pswpout") >= dev.used());
        final ScriptApi.SwapSlot slotA = dev.slots().stream()
                .filter(sl -> sl.ptes().contains("parent top-0x1000"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no slot holds a's swap PTE: " + dev.slots()));
        assertEquals(1, slotA.count());
        assertEquals(slotA.hasCache(), slotA.cachePfn() != null);
        final long onLists = afterPopulate.lru().lists().stream()
                .mapToLong(ScriptApi.LruList::size)
                .sum();
        assertEquals(
                onLists,
                afterPopulate.lru().lists().stream()
                        .mapToLong(l -> l.folios().size())
                        .sum());
        assertTrue(afterPopulate.lru().lists().get(0).folios().stream().allMatch(f -> !f.active() && f.swapbacked()));
        // After the read: pswpin, and a's page back in the swap cache with its slot kept.
        final ScriptApi.Step read = st.get(5);
        assertEquals("ok 7", read.result());
        assertTrue(read.snapshot().vmstat().get("pswpin") >= 1);
        assertEquals(1, read.snapshot().vmstat().get("pgmajfault"));
        final ScriptApi.SwapSlot kept = read.snapshot().swap().get(0).slots().stream()
                .filter(sl -> sl.offset() == slotA.offset())
                .findFirst()
                .orElseThrow();
        assertEquals(0, kept.count());
        assertTrue(kept.hasCache());
        assertTrue(kept.ptes().isEmpty());
        final String pfn = kept.cachePfn();
        // The new folio went on the LRU through the lru_add batch (folio_add_lru), where it still is.
        assertTrue(
                read.snapshot().lru().lruAdd().stream()
                        .anyMatch(f -> f.pfn().equals(pfn)
                                && f.swapcache()
                                && f.mappedBy().equals(List.of("parent top-0x1000"))),
                () -> "the swapped-in folio " + pfn + " is in the lru_add batch, in the swap cache, mapped by a: "
                        + read.snapshot().lru().lruAdd());
        // The unmap frees the slot with the folio (free_swap_cache).
        assertTrue(st.get(6).snapshot().swap().get(0).slots().stream().noneMatch(sl -> sl.offset() == slotA.offset()));
    }

    @Test
    void withoutAMemoryLimitTheReclaimPanelsAreEmpty() {
        final ScriptApi.Snapshot snap =
                post("x86_64", "map a 4K rw-\nwrite a 1\n").steps().get(1).snapshot();
        assertTrue(snap.lru().lists().isEmpty());
        assertTrue(snap.lru().lruAdd().isEmpty());
        assertTrue(snap.swap().isEmpty());
    }

    @Test
    void aWriteFaultShowsItsPathAndTheStateAfterIt() {
        final ScriptApi.Response res = post("x86_64", "map a 16K rw-\nwrite a+4K 7\nmaps\n");
        assertEquals(3, res.steps().size());
        final ScriptApi.Step write = res.steps().get(1);
        assertEquals("ok", write.result());
        final List<String> names =
                write.events().stream().map(ScriptApi.Event::name).toList();
        assertTrue(
                names.containsAll(
                        List.of("page_fault_user", "lock_vma_under_rcu", "handle_mm_fault", "do_anonymous_page")),
                names::toString);
        assertFalse(write.trace().isEmpty());
        final ScriptApi.Snapshot s = write.snapshot();
        assertEquals(List.of("top-0x4000 top+0x0 rw-p"), s.maps());
        // The walk is of the faulting address, and reaches the PTE, present, writable, user, dirty.
        assertEquals("top-0x3000", s.walk().rel());
        final ScriptApi.Level pte = s.walk().levels().get(s.walk().levels().size() - 1);
        assertEquals("pte", pte.name());
        assertEquals("20:12", pte.bits());
        assertTrue(pte.fields().containsAll(List.of("P", "RW", "US", "D")), pte.fields()::toString);
        assertEquals("pgd", s.walk().levels().get(0).name());
        assertEquals(4, s.walk().levels().size());
        // The TLB of CPU 0 caches the page under the mm's PCID.
        final ScriptApi.CpuTlb tlb = s.tlbs().get(0);
        assertEquals("PCID", tlb.tagName());
        assertTrue(tlb.entries().stream().anyMatch(e -> e.rel().equals("top-0x3000")), tlb.entries()::toString);
        // Nothing is held between lines; the VMA is attached (vm_refcnt 1) and not write-locked.
        assertEquals("0x0", s.locks().mmapLock().count());
        assertFalse(s.locks().mmapLock().writerLocked());
        assertEquals(1, s.locks().vmas().get(0).vmRefcnt());
        assertFalse(s.locks().vmas().get(0).writeLocked());
        assertEquals(1L, s.vmstat().get("pgfault"));
        assertEquals(1L, s.vmstat().get("vma_lock_success"));
        // The maple tree holds the VMA in a leaf slot.
        assertTrue(s.maple().nodes().stream().flatMap(n -> n.slots().stream()).anyMatch(sl -> "top-0x4000 top+0x0 rw-p"
                .equals(sl.entry())));
        assertEquals("./vmsim script --arch x86_64 --locking per-vma FILE.vms", res.command());
    }

    @Test
    void arm64SnapshotsDecodeDescriptorsAndTagTheTlbWithAnAsid() {
        final ScriptApi.Response res = post("arm64", "map a 16K rw-\nwrite a 7\n");
        final ScriptApi.Snapshot s = res.steps().get(1).snapshot();
        final ScriptApi.Level leaf = s.walk().levels().get(s.walk().levels().size() - 1);
        assertTrue(leaf.fields().containsAll(List.of("PAGE", "AF", "USER")), leaf.fields()::toString);
        assertEquals("ASID", s.tlbs().get(0).tagName());
        assertFalse(s.tlbs().get(0).entries().isEmpty());
    }

    @Test
    void aForkedTaskGetsItsOwnSnapshot() {
        final ScriptApi.Response res = post("x86_64", "map a 16K rw-\nwrite a 1\nfork child\nin child: unmap a 4K\n");
        final ScriptApi.Snapshot s = res.steps().get(3).snapshot();
        assertEquals("child", s.task());
        assertEquals(List.of("parent", "child"), s.tasks());
        assertEquals(List.of("top-0x3000 top+0x0 rw-p"), s.maps());
        assertEquals(
                List.of("top-0x4000 top+0x0 rw-p"),
                res.steps().get(2).snapshot().maps());
    }

    @Test
    void walkAtAGivenAddress() {
        final ScriptApi.Response res =
                post(new ScriptApi.Request("x86_64", null, "map a 16K rw-\nwrite a 1\n", null, "top-0x2000"));
        assertEquals("top-0x2000", res.steps().get(1).snapshot().walk().rel());
        // Only top-0x4000 was written: the walk of top-0x2000 ends at an empty PTE.
        final List<ScriptApi.Level> lv = res.steps().get(1).snapshot().walk().levels();
        assertEquals("0x0000000000000000", lv.get(lv.size() - 1).entry());
    }

    @Test
    void badInputIs400NamingTheField() {
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "arch",
                "unknown arch 'sparc'",
                HttpRequest.POST("/api/script", "{\"arch\":\"sparc\",\"script\":\"maps\"}"));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "locking",
                "unknown locking mode 'none'",
                HttpRequest.POST("/api/script", "{\"locking\":\"none\",\"script\":\"maps\"}"));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "script",
                "missing",
                HttpRequest.POST("/api/script", "{\"arch\":\"arm64\"}"));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "walk",
                "not an address",
                HttpRequest.POST("/api/script", "{\"script\":\"maps\",\"walk\":\"nowhere\"}"));
        ApiErrors.assertError(
                http, HttpStatus.BAD_REQUEST, null, "malformed JSON", HttpRequest.POST("/api/script", "{\"arch\":"));
        ApiErrors.assertError(
                http, HttpStatus.BAD_REQUEST, null, "malformed JSON", HttpRequest.POST("/api/script", "[1, 2"));
    }

    @Test
    void aScriptOverTheLimitsIs400() {
        // The defaults: 64 KiB and 2000 lines (ServerLimits).
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "script",
                "the limit is 65536",
                HttpRequest.POST("/api/script", new ScriptApi.Request(null, null, "#".repeat(70_000), null, null)));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "script",
                "the limit is 2000",
                HttpRequest.POST("/api/script", new ScriptApi.Request(null, null, "maps\n".repeat(2001), null, null)));
    }

    @Test
    void thePagesAndChartJsComeFromTheJar() {
        for (final String page : List.of(
                "/",
                "/compare.html",
                "/lessons.html",
                "/interleavings.html",
                "/js/interleavings.js",
                "/openapi.yml",
                "/js/playground.js",
                "/examples/index.json",
                "/webjars/chart.js/4.5.1/dist/chart.umd.min.js")) {
            final String body = http.toBlocking().retrieve(HttpRequest.GET(page));
            assertNotNull(body, page);
            assertTrue(body.length() > 100, page);
        }
    }
}
