package dev.vmsim.arch.arm64;

/**
 * A translation granule (TCR_EL1.TG0): the page size, which fixes how many VA bits each lookup level
 * resolves (granule shift - 3, since a table is one granule of 8-byte descriptors).
 */
public enum Granule {
    /** 4 KiB pages, 512-entry tables, 9 bits per level. */
    SZ_4K(12),
    /** 16 KiB pages, 2048-entry tables, 11 bits per level. */
    SZ_16K(14),
    /** 64 KiB pages, 8192-entry tables, 13 bits per level. */
    SZ_64K(16);

    private final int shift;

    Granule(final int shift) {
        this.shift = shift;
    }

    /** log2 of the page size. */
    public int shift() {
        return shift;
    }

    /** VA bits resolved per lookup level (PTDESC_TABLE_SHIFT in pgtable-hwdef.h). */
    public int bitsPerLevel() {
        return shift - 3;
    }

    /** The page size in bytes. */
    public long size() {
        return 1L << shift;
    }

    /** The granule of {@code bytes} (4096, 16384 or 65536), or null if no granule has that size. */
    public static Granule ofSize(final long bytes) {
        for (final Granule g : values()) {
            if (g.size() == bytes) {
                return g;
            }
        }
        return null;
    }
}
