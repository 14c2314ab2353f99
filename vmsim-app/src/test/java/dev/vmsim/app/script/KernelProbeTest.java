package dev.vmsim.app.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The probes find the variant a kernel runs, using the simulator in that variant as the kernel. */
class KernelProbeTest {
    private static final Arch X86 = ArchRegistry.find("x86_64");

    private static UnaryOperator<String> simulatorAs(final KernelVariant v) {
        return script -> VmScript.run(script, X86, LockingMode.PER_VMA, false, v);
    }

    @Test
    void theVanillaKernelIsTheVanillaVariant() {
        assertEquals(
                KernelVariant.VANILLA,
                new KernelProbe(simulatorAs(KernelVariant.VANILLA), X86).run().variant());
    }

    @Test
    void aKernelWithoutTheZeroPageIsFound() {
        final KernelVariant noZero = KernelVariant.VANILLA.withZeroPage(false);
        final KernelProbe.Result r = new KernelProbe(simulatorAs(noZero), ArchRegistry.find("arm64")).run();
        assertEquals(noZero, r.variant());
        assertEquals("--no-zero-page", r.findings().get(0).simulator());
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 100, 255, 257, 1000})
    void theStackGuardGapIsMeasured(final long pages) {
        final KernelVariant v = KernelVariant.VANILLA.withStackGuardGapPages(pages);
        assertEquals(v, new KernelProbe(simulatorAs(v), X86).run().variant());
    }

    /** A probe whose transcript matches no variant leaves the default and says so. */
    @Test
    void aKernelNoVariantExplainsIsReportedNotGuessed() {
        final UnaryOperator<String> odd =
                s -> simulatorAs(KernelVariant.VANILLA).apply(s).replace("Rss:", "RSS:");
        final KernelProbe.Result r = new KernelProbe(odd, X86).run();
        assertEquals(KernelVariant.VANILLA, r.variant());
        assertTrue(
                r.findings().get(0).kernel().startsWith("neither variant"),
                r.findings().toString());
    }

    /** The THP probe: the simulator places a 2 MiB mapping directly below top, so it reports no change. */
    @Test
    void thpPlacementUnchangedWhenTheKernelPlacesAsTheSimulator() {
        final KernelProbe.Finding thp = new KernelProbe(simulatorAs(KernelVariant.VANILLA), X86)
                .run()
                .findings()
                .get(2);
        assertEquals("transparent huge pages", thp.behaviour());
        assertTrue(thp.kernel().endsWith("placement unchanged"), thp.kernel());
    }
}
