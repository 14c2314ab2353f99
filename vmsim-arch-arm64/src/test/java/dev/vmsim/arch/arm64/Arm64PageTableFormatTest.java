package dev.vmsim.arch.arm64;

import static dev.vmsim.arch.arm64.Arm64Pte.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.vmsim.core.mm.VmFlags;
import org.junit.jupiter.api.Test;

class Arm64PageTableFormatTest {
    private static final Arm64PageTableFormat F = Arm64PageTableFormat.DEFAULT;

    @Test
    void geometryOfEachGranuleAndVaSize() {
        check(Granule.SZ_4K, 48, 4, new int[] {9, 9, 9, 9}, 0);
        check(Granule.SZ_4K, 52, 5, new int[] {9, 9, 9, 9, 4}, -1);
        check(Granule.SZ_4K, 39, 3, new int[] {9, 9, 9}, 1);
        check(Granule.SZ_16K, 48, 4, new int[] {11, 11, 11, 1}, 0);
        check(Granule.SZ_16K, 47, 3, new int[] {11, 11, 11}, 1);
        check(Granule.SZ_16K, 52, 4, new int[] {11, 11, 11, 5}, 0);
        check(Granule.SZ_64K, 48, 3, new int[] {13, 13, 6}, 1);
        check(Granule.SZ_64K, 52, 3, new int[] {13, 13, 10}, 1);
        check(Granule.SZ_64K, 42, 2, new int[] {13, 13}, 2);
    }

    private static void check(final Granule g, final int va, final int levels, final int[] bits, final int rootLevel) {
        final Arm64PageTableFormat f = new Arm64PageTableFormat(g, va, false);
        assertEquals(levels, f.levels(), f.toString());
        for (int l = 0; l < levels; l++) {
            assertEquals(bits[l], f.indexBits(l), f + " level " + l);
        }
        assertEquals(rootLevel, f.armLevel(levels - 1));
        assertEquals(g.shift(), f.levelShift(0));
        assertEquals(va, f.levelShift(levels - 1) + f.indexBits(levels - 1));
        assertEquals(1L << va, f.taskSize());
    }

    @Test
    void blocksOnlyWhereTheGranuleAllowsThem() {
        final Arm64PageTableFormat k4 = F;
        assertTrue(k4.blockAllowed(1)); // L2 2M
        assertTrue(k4.blockAllowed(2)); // L1 1G
        assertFalse(k4.blockAllowed(3)); // L0
        assertTrue(new Arm64PageTableFormat(Granule.SZ_4K, 52, false).blockAllowed(3)); // L0 with LPA2
        final Arm64PageTableFormat k16 = new Arm64PageTableFormat(Granule.SZ_16K, 48, false);
        assertTrue(k16.blockAllowed(1));
        assertFalse(k16.blockAllowed(2));
        final Arm64PageTableFormat k64 = new Arm64PageTableFormat(Granule.SZ_64K, 48, false);
        assertTrue(k64.blockAllowed(1));
        assertFalse(k64.blockAllowed(2));
        assertTrue(new Arm64PageTableFormat(Granule.SZ_64K, 52, false).blockAllowed(2));
    }

    @Test
    void protectionMapAsLinuxHasIt() {
        final long def = PTE_TYPE_PAGE | PTE_AF | PTE_SHARED;
        final long none = F.vmGetPageProt(VmFlags.VM_NONE);
        assertEquals(0, none & PTE_VALID);
        assertEquals(def & ~PTE_VALID | PTE_PRESENT_INVALID | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_UXN, none);
        assertTrue(F.ptePresent(none), "PROT_NONE is present to software");
        final long ro = def | PTE_USER | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_UXN;
        assertEquals(ro, F.vmGetPageProt(VmFlags.VM_READ));
        assertEquals(ro, F.vmGetPageProt(VmFlags.VM_READ | VmFlags.VM_WRITE), "private writable is COW read-only");
        assertEquals(ro | PTE_WRITE, F.vmGetPageProt(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED));
        assertEquals(ro & ~PTE_UXN, F.vmGetPageProt(VmFlags.VM_READ | VmFlags.VM_EXEC));
        assertEquals(
                ro & ~PTE_UXN | PTE_WRITE,
                F.vmGetPageProt(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC | VmFlags.VM_SHARED));
        assertEquals(none, F.vmGetPageProt(VmFlags.VM_SHARED));
        assertEquals(ro & ~PTE_UXN, F.vmGetPageProt(VmFlags.VM_EXEC), "without EPAN exec-only is readable");
        final Arm64PageTableFormat epan = new Arm64PageTableFormat(Granule.SZ_4K, 48, true);
        assertEquals(def | PTE_RDONLY | PTE_NG | PTE_PXN, epan.vmGetPageProt(VmFlags.VM_EXEC));
        // PAGE_SHARED is "clean writable": writable to software, read-only to the hardware.
        final long shared = F.vmGetPageProt(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_SHARED);
        assertTrue(F.pteWrite(shared));
        assertFalse(F.pteDirty(shared));
    }

    @Test
    void pteHelpersFollowArm64PgtableH() {
        final long clean = F.pfnPte(0x1234, F.vmGetPageProt(0xb));
        assertEquals(0x1234, F.pfn(clean));
        final long dirty = F.pteMkdirty(clean);
        assertTrue(F.pteDirty(dirty));
        assertEquals(0, dirty & PTE_RDONLY, "mkdirty of a writable PTE clears RDONLY");
        assertTrue((dirty & PTE_DIRTY) != 0);
        // hw dirty (DBM and !RDONLY) without the software bit is dirty too.
        final long hwDirty = clean & ~PTE_RDONLY;
        assertTrue(F.pteDirty(hwDirty));
        final long wp = F.pteWrprotect(hwDirty);
        assertFalse(F.pteWrite(wp));
        assertTrue((wp & PTE_RDONLY) != 0);
        assertTrue((wp & PTE_DIRTY) != 0, "wrprotect moves hw dirty into sw DIRTY");
        assertTrue(F.pteDirty(wp));
        final long cleaned = F.pteMkclean(dirty);
        assertFalse(F.pteDirty(cleaned));
        assertTrue(F.pteWrite(cleaned));
        final long ro = F.pfnPte(7, F.vmGetPageProt(VmFlags.VM_READ));
        assertTrue((F.pteMkdirty(ro) & PTE_RDONLY) != 0, "mkdirty of a read-only PTE keeps RDONLY");
        assertTrue((F.pteMkwrite(F.pteMkdirty(ro)) & PTE_RDONLY) == 0, "mkwrite of a sw-dirty PTE clears RDONLY");
        assertTrue((F.pteMkwrite(ro) & PTE_RDONLY) != 0, "mkwrite of a clean PTE stays hw read-only");
        assertFalse(F.pteYoung(F.pteMkold(ro)));
        assertTrue(F.pteYoung(F.pteMkyoung(F.pteMkold(ro))));
        assertTrue(F.pteSpecial(F.pteMkspecial(ro)));
        // pte_modify keeps the pfn and hw dirtiness, takes the rest from the new prot.
        final long mod = F.pteModify(hwDirty, F.vmGetPageProt(VmFlags.VM_READ));
        assertEquals(0x1234, F.pfn(mod));
        assertFalse(F.pteWrite(mod));
        assertTrue(F.pteDirty(mod));
        final long back = F.pteModify(mod, F.vmGetPageProt(0xb));
        assertTrue(F.pteWrite(back));
        assertEquals(0, back & PTE_RDONLY, "sw-dirty PTE made writable again is hw-writable");
    }

    @Test
    void tableEntriesAndOutputAddresses() {
        final long t = F.mkTable(0x55, 1);
        assertTrue(F.isTable(t, 1));
        assertFalse(F.isHugeLeaf(t, 1));
        assertEquals(0x55, F.pfn(t));
        final long blk = F.mkBlock(0x4000_0000L, F.vmGetPageProt(VmFlags.VM_READ), 2);
        assertTrue(F.isHugeLeaf(blk, 2));
        assertFalse(F.isTable(blk, 2));
        assertThrows(IllegalArgumentException.class, () -> F.mkBlock(0, 0, 3));
        // 52-bit output addresses.
        final Arm64PageTableFormat lpa2 = new Arm64PageTableFormat(Granule.SZ_4K, 52, false);
        final long pa = 0xf_1234_5678_9000L;
        final long d = lpa2.encodeOutputAddress(pa);
        assertEquals(3L << 8, d & (3L << 8), "OA[51:50] in bits 9:8");
        assertEquals(pa, lpa2.outputAddress(d));
        final Arm64PageTableFormat lpa64 = new Arm64PageTableFormat(Granule.SZ_64K, 52, false);
        final long pa64 = 0xa_0000_1234_0000L;
        final long d64 = lpa64.encodeOutputAddress(pa64);
        assertEquals(0xaL << 12, d64 & (0xfL << 12), "OA[51:48] in bits 15:12");
        assertEquals(pa64, lpa64.outputAddress(d64));
        assertTrue(F.addressSizeFault(1L << 48));
        assertFalse(lpa2.addressSizeFault(1L << 48));
    }

    @Test
    void describeNamesTheBits() {
        final long pte = F.pfnPte(0x10, F.vmGetPageProt(0xb));
        final String s = F.describe(pte, 0);
        assertTrue(s.startsWith("PAGE V"), s);
        assertTrue(
                s.contains("USER")
                        && s.contains("RDONLY")
                        && s.contains("AF")
                        && s.contains("DBM/WRITE")
                        && s.contains("UXN")
                        && s.contains("PXN")
                        && s.contains("nG"),
                s);
        assertTrue(s.contains("oa=0x10000"), s);
        assertTrue(F.describe(F.mkTable(3, 1) | PTE_PXN << 6, 1).contains("TABLE"));
        assertTrue(F.describe(F.vmGetPageProt(0), 0).contains("PRESENT_INVALID"));
    }

    /** PGTABLE_LEVELS and each level's index bits of the formats machines run (VA_BITS_48), root last. */
    @Test
    void eachGranuleHasTheKernelsLevelsAndIndexBits() {
        final int[][] bits = {{9, 9, 9, 9}, {11, 11, 11, 1}, {13, 13, 6}};
        for (final Granule g : Granule.values()) {
            final Arm64PageTableFormat f = Arm64PageTableFormat.forGranule(g);
            final int[] want = bits[g.ordinal()];
            assertEquals(want.length, f.levels(), g.name());
            for (int l = 0; l < want.length; l++) {
                assertEquals(want[l], f.indexBits(l), g + " level " + l);
            }
            assertEquals(g.shift(), f.pageShift());
            assertEquals(1L << 48, f.taskSize());
            assertEquals(8L << f.indexBits(0), g.size(), "a table is one page of PAGE_SIZE / 8 entries");
            assertEquals(0x1234, f.pfn(f.pfnPte(0x1234, 0)), "pfns are in granule units");
            assertEquals(0x1234L << g.shift(), f.outputAddress(f.mkTable(0x1234, 1)));
        }
        assertSame(Arm64PageTableFormat.DEFAULT, Arm64PageTableFormat.forGranule(Granule.SZ_4K));
        assertEquals(Granule.SZ_64K, Granule.ofSize(65536));
        assertNull(Granule.ofSize(8192));
    }
}
