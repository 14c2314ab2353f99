package dev.vmsim.core.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Fix 7 of issue [1/6]: a write section of mm_lock_seq begins as do_raw_write_seqcount_begin does,
 * {@code seq++} then {@code smp_wmb()}, and ends as vma_end_write_all does, {@code smp_wmb()} then
 * {@code seq++} (a release store).
 *
 * <p>Why the bytecode: the difference between the fixed begin (store, then store-store fence) and
 * the broken one (a release store, which orders only what came before it) is a reordering of the
 * section's later stores before the odd seq. x86 hosts (TSO) never reorder stores, so no run on
 * them can show it; the jcstress test MmapLockSpeculateTest runs the protocol and can show it only
 * on a weakly ordered host. This test reads the compiled {@code MmapLock} with javap and checks the
 * order of the VarHandle operations in the begin and the end, so it fails on any host when the fix
 * is undone.
 */
class MmLockSeqBeginOrderTest {
    /** The VarHandle operations of {@code method}, in bytecode order, e.g. "setOpaque", "storeStoreFence". */
    private static List<String> varHandleOps(final String method) throws Exception {
        final ToolProvider javap = ToolProvider.findFirst("javap")
                .orElseThrow(() -> new AssertionError("javap is part of every JDK 17 the build runs on"));
        final Path classes = Path.of(MmapLock.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        final StringWriter out = new StringWriter();
        final int rc = javap.run(
                new PrintWriter(out),
                new PrintWriter(out),
                "-c",
                "-p",
                "-cp",
                classes.toString(),
                MmapLock.class.getName());
        assertEquals(0, rc, out.toString());
        final List<String> ops = new ArrayList<>();
        boolean inMethod = false;
        for (final String line : out.toString().split("\n")) {
            if (line.startsWith("  ") && !line.startsWith("   ") && line.contains("(")) {
                inMethod = line.contains(" " + method + "(");
                continue;
            }
            final int at = line.indexOf("java/lang/invoke/VarHandle.");
            if (inMethod && at >= 0) {
                final String rest = line.substring(at + "java/lang/invoke/VarHandle.".length());
                ops.add(rest.substring(0, rest.indexOf(':')));
            }
        }
        return ops;
    }

    @Test
    void aWriteSectionBeginsWithTheSeqStoreAndThenAStoreStoreFence() throws Exception {
        final List<String> ops = varHandleOps("seqBegin");
        final int store = ops.indexOf("setOpaque");
        assertTrue(store >= 0, "the odd seq is stored: " + ops);
        assertTrue(
                ops.indexOf("storeStoreFence") > store || ops.indexOf("fullFence") > store,
                "smp_wmb after seq++, so no store of the section passes the odd seq: " + ops);
        assertTrue(!ops.contains("setRelease"), "a release store orders only what came before it: " + ops);
    }

    @Test
    void aWriteSectionEndsWithAReleaseStoreOfTheSeq() throws Exception {
        final List<String> ops = varHandleOps("vmaEndWriteAll");
        assertTrue(ops.contains("setRelease"), "smp_wmb before seq++ is a release store: " + ops);
    }
}
