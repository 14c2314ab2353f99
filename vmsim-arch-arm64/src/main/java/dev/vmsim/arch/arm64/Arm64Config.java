package dev.vmsim.arch.arm64;

/**
 * The CPU features and sizes one simulated arm64 machine runs with.
 *
 * @param format the TTBR0 translation-table format: its granule is the machine's PAGE_SIZE
 * @param hafdbs FEAT_HAFDBS: the walker sets AF and clears RDONLY of DBM entries itself; without it
 *     those cases raise access-flag and permission faults that handle_pte_fault fixes up
 * @param asidBits ASID width (16 with FEAT_ASID16)
 * @param tlbEntries TLB slots per CPU
 */
public record Arm64Config(Arm64PageTableFormat format, boolean hafdbs, int asidBits, int tlbEntries) {
    /** 4K/48-bit, FEAT_HAFDBS, 16-bit ASIDs, 1024-entry TLB. */
    public static final Arm64Config DEFAULT = new Arm64Config(Arm64PageTableFormat.DEFAULT, true, 16, 1024);

    /**
     * The configuration for a run: {@link #DEFAULT} changed by system properties
     * {@code vmsim.arm64.hafdbs} (true/false), {@code vmsim.arm64.asidBits}, {@code vmsim.arm64.tlbEntries}.
     */
    public static Arm64Config fromSystemProperties() {
        return new Arm64Config(
                Arm64PageTableFormat.DEFAULT,
                Boolean.parseBoolean(System.getProperty("vmsim.arm64.hafdbs", "true")),
                Integer.getInteger("vmsim.arm64.asidBits", 16),
                Integer.getInteger("vmsim.arm64.tlbEntries", 1024));
    }

    /** This configuration with FEAT_HAFDBS on or off. */
    public Arm64Config withHafdbs(final boolean on) {
        return new Arm64Config(format, on, asidBits, tlbEntries);
    }

    public Arm64Config withAsidBits(final int bits) {
        return new Arm64Config(format, hafdbs, bits, tlbEntries);
    }

    public Arm64Config withFormat(final Arm64PageTableFormat f) {
        return new Arm64Config(f, hafdbs, asidBits, tlbEntries);
    }
}
