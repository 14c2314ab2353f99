package dev.vmsim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.LockingMode;
import org.junit.jupiter.api.Test;

/** MODE[+upgrade]: the names compare --modes takes and the reports print. */
class LockingVariantTest {
    @Test
    void everyModeParsesWithAndWithoutTheUpgrade() {
        for (final LockingMode m : LockingMode.values()) {
            final LockingVariant plain = LockingVariant.parse(m.cliName());
            assertEquals(m, plain.mode());
            assertFalse(plain.mmapUpgrade());
            assertEquals(m.cliName(), plain.name());
            final LockingVariant up = LockingVariant.parse(m.cliName() + "+upgrade");
            assertTrue(up.mmapUpgrade());
            assertEquals(m.cliName() + "+upgrade", up.name());
            assertEquals(up, plain.withMmapUpgrade(true));
            assertEquals(up, up.withMmapUpgrade(false), "--mmap-upgrade adds, it never removes");
        }
    }

    @Test
    void badNamesSayWhatIsAccepted() {
        final IllegalArgumentException mode =
                assertThrows(IllegalArgumentException.class, () -> LockingVariant.parse("per-vm"));
        for (final LockingMode m : LockingMode.values()) {
            assertTrue(mode.getMessage().contains(m.cliName()), mode.getMessage());
        }
        final IllegalArgumentException opt =
                assertThrows(IllegalArgumentException.class, () -> LockingVariant.parse("per-vma+upgrad"));
        assertTrue(opt.getMessage().contains("+upgrad'"), opt.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LockingVariant.parse("per-vma+upgrade+upgrade"));
        assertThrows(IllegalArgumentException.class, () -> LockingVariant.parse("per-vma+"));
    }
}
