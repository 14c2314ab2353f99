package dev.vmsim.core.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.api.Test;

/** Arch's defaults, and the registry on core's own class path, where no architecture lives. */
class ArchTest {
    @Test
    void anArchWithOnePageSizeBuildsOnlyThatOne() {
        final Arch a = new TestArch();
        final long page = 1L << a.pageTableFormat().pageShift();
        assertSame(a, a.withPageSize(page));
        assertNull(a.withPageSize(page * 4), "no other granule");
        assertNull(a.withPageSize(page / 2));
        assertTrue(a.tlbShootdownByIpi(), "the default shootdown is x86's IPI");
    }

    /** Core knows no architecture: they come from the arch modules through ServiceLoader. */
    @Test
    void coreAloneRegistersNoArchitecture() {
        assertTrue(ArchRegistry.all().isEmpty(), ArchRegistry.names().toString());
        assertEquals(0, ArchRegistry.names().size());
        assertNull(ArchRegistry.find("x86_64"));
        assertNull(ArchRegistry.find("test"));
    }
}
