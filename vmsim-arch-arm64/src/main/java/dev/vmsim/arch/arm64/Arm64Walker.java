package dev.vmsim.arch.arm64;

import static dev.vmsim.arch.arm64.Arm64Pte.*;

import dev.vmsim.core.arch.Access;
import dev.vmsim.core.phys.PhysicalMemory;

/**
 * The stage-1 translation table walker of one CPU (ARM ARM D8 "VMSAv8-64 translation table walk").
 *
 * <p>Lock-free, as hardware is: descriptors are read with acquire loads (pairing with the kernel's
 * release/CAS stores of set_pte/pmd_populate) and, with FEAT_HAFDBS, the access flag and dirty state
 * are set with compare-and-set, so a concurrent software update of the descriptor is never lost: a
 * failed CAS re-reads the descriptor and re-evaluates it from scratch.
 *
 * <p>Checks at each level, in priority order: descriptor out of simulated memory (synchronous
 * external abort on the walk, FSC 0x14+level); invalid, or a block where the granule allows none
 * (translation fault, 0x04+level); output address beyond the OA size (address size fault,
 * 0x00+level); at the leaf, AF clear without hardware AF management (access flag fault, 0x08+level);
 * permissions, combined with the table descriptors' APTable/UXNTable/PXNTable above
 * (permission fault, 0x0C+level).
 *
 * <p>Used only by its CPU's thread; results of the last walk are left in fields (no allocation).
 */
public final class Arm64Walker {
    /** {@link #walk} result when the access faulted; see {@link #faultStatus()}. */
    public static final long FAULT = -1;

    /** TLB data bits (see {@link Arm64Tlb}): permissions the completed walk granted. */
    static final long P_EL0_R = 1L << 48;

    static final long P_EL0_W = 1L << 49;
    static final long P_EL0_X = 1L << 50;
    static final long P_EL1_W = 1L << 51;
    static final long P_EL1_X = 1L << 52;
    static final long P_GLOBAL = 1L << 53;
    static final long P_VALID = 1L << 62;

    private static final long HIER_BITS = PMD_TABLE_PXN | PMD_TABLE_UXN | PMD_TABLE_AP_NO_EL0 | PMD_TABLE_AP_RDONLY;
    /** A walk-cache data word's table address: OA bits below 52, above the valid bit. */
    private static final long WALK_TABLE_MASK = ((1L << 52) - 1) & ~Arm64WalkCache.DATA_VALID;

    private final PhysicalMemory memory;
    private final Arm64PageTableFormat format;
    private final boolean hafdbs;
    /** Per core level: VA shift and index mask, precomputed so the walk makes no calls into the format. */
    private final int[] shift;

    private final long[] indexMask;
    /** Physical addresses at or above this are outside simulated memory. */
    private final long memLimit;

    private final int vaBits;
    /** A descriptor d is a well-formed table descriptor iff (d &amp; tableCheckMask) == PMD_TYPE_TABLE. */
    private final long tableCheckMask;

    private int faultStatus;
    private int faultLevel;
    private long leafDesc;
    private int leafLevel;
    private long tlbData;

    public Arm64Walker(final PhysicalMemory memory, final Arm64PageTableFormat format, final boolean hafdbs) {
        this.memory = memory;
        this.format = format;
        this.hafdbs = hafdbs;
        this.shift = new int[format.levels()];
        this.indexMask = new long[format.levels()];
        for (int l = 0; l < shift.length; l++) {
            shift[l] = format.levelShift(l);
            indexMask[l] = (1L << format.indexBits(l)) - 1;
        }
        this.memLimit = memory.bytes();
        this.vaBits = format.vaBits();
        this.tableCheckMask = PTE_TYPE_MASK | format.oaRes0Mask();
    }

    public Arm64PageTableFormat format() {
        return format;
    }

    public boolean hafdbs() {
        return hafdbs;
    }

    /**
     * Translates {@code va} through the tables rooted at physical address {@code rootPa} for an
     * access of {@code kind} at EL0 ({@code el0}) or EL1: the physical address, or {@link #FAULT}
     * with {@link #faultStatus()} set.
     */
    public long walk(final long rootPa, final long va, final Access kind, final boolean el0) {
        return walk(rootPa, va, kind, el0, null, 0, 0);
    }

    /**
     * {@link #walk(long, long, Access, boolean)} through {@code tlb}'s walk cache under {@code asid}:
     * the walk starts below the deepest cached table descriptor on its path, and caches each table
     * descriptor it follows unless a TLBI ran since {@code gen} (the TLB's flush generation, read
     * before the walk). A cached descriptor is used without re-reading memory, as hardware does:
     * that is why a table entry needs break-before-make with a non-last-level TLBI (TLB-06).
     */
    long walk(
            final long rootPa,
            final long va,
            final Access kind,
            final boolean el0,
            final Arm64Tlb tlb,
            final int asid,
            final long gen) {
        final Arm64PageTableFormat f = format;
        final int levels = shift.length;
        if ((va >>> vaBits) != 0) {
            // Outside the TTBR0 range: a translation fault at the start level.
            return fault(Esr.FSC_FAULT, levels - 1);
        }
        final Arm64WalkCache wc = tlb == null ? null : tlb.walkCache();
        final long vpn = va >>> shift[0];
        long table = rootPa;
        long hier = 0; // accumulated PXNTable/UXNTable/APTable bits
        int start = levels - 1;
        if (wc != null) {
            for (int l = 1; l < levels; l++) {
                final long c = wc.lookup(l, vpn, asid);
                if (c != 0) {
                    table = c & WALK_TABLE_MASK;
                    hier = c & HIER_BITS;
                    start = l - 1;
                    break;
                }
            }
        }
        for (int level = start; level >= 0; level--) {
            final long descPa = table + (((va >>> shift[level]) & indexMask[level]) << 3);
            if (descPa >= memLimit) {
                return fault(Esr.FSC_SEA_TTW, level);
            }
            final long d = memory.getLongAcquire(descPa);
            if (level > 0 && (d & tableCheckMask) == PMD_TYPE_TABLE) {
                // Fast path: valid table descriptor with a legal output address.
                hier |= d & HIER_BITS;
                table = f.outputAddress(d);
                if (wc != null) {
                    wc.fill(level, vpn, asid, table | hier, tlb, gen);
                }
                continue;
            }
            if ((d & PTE_VALID) == 0) {
                return fault(Esr.FSC_FAULT, level);
            }
            final long type = d & PTE_TYPE_MASK;
            if (level > 0 && type == PMD_TYPE_TABLE) {
                return fault(Esr.FSC_ADDRSZ, level); // the fast path took every table without RES0 OA bits
            }
            if ((level == 0 && type != PTE_TYPE_PAGE) || (level > 0 && !f.blockAllowed(level))) {
                return fault(Esr.FSC_FAULT, level);
            }
            return leaf(descPa, d, level, hier, va, kind, el0);
        }
        throw new AssertionError("unreachable");
    }

    private long leaf(
            final long descPa,
            long d,
            final int level,
            final long hier,
            final long va,
            final Access kind,
            final boolean el0) {
        final Arm64PageTableFormat f = format;
        for (; ; ) {
            if ((d & PTE_VALID) == 0) {
                return fault(Esr.FSC_FAULT, level); // changed under us
            }
            if (f.addressSizeFault(d)) {
                return fault(Esr.FSC_ADDRSZ, level);
            }
            final boolean af = (d & PTE_AF) != 0;
            if (!af && !hafdbs) {
                return fault(Esr.FSC_ACCESS, level);
            }
            final boolean el0Access = (d & PTE_USER) != 0 && (hier & PMD_TABLE_AP_NO_EL0) == 0;
            final boolean tableRo = (hier & PMD_TABLE_AP_RDONLY) != 0;
            final boolean writable = (d & PTE_RDONLY) == 0 && !tableRo;
            // With FEAT_HAFDBS a write to a clean DBM entry is permitted: the walker makes it dirty.
            final boolean dbmWrite = hafdbs && !writable && !tableRo && (d & PTE_DBM) != 0;
            final boolean uxn = (d & PTE_UXN) != 0 || (hier & PMD_TABLE_UXN) != 0;
            final boolean pxn = (d & PTE_PXN) != 0 || (hier & PMD_TABLE_PXN) != 0;
            // if-chain rather than an enum switch: no $SwitchMap load on the hot path.
            final boolean ok;
            if (kind == Access.READ) {
                ok = !el0 || el0Access;
            } else if (kind == Access.WRITE) {
                ok = (!el0 || el0Access) && (writable || dbmWrite);
            } else {
                ok = el0 ? !uxn : !pxn;
            }
            if (!ok) {
                return fault(Esr.FSC_PERM, level);
            }
            final boolean makeDirty = kind == Access.WRITE && !writable;
            if (!af || makeDirty) {
                final long update = (d | PTE_AF) & (makeDirty ? ~PTE_RDONLY : ~0L);
                if (!memory.compareAndSetLong(descPa, d, update)) {
                    d = memory.getLongAcquire(descPa); // lost a race: re-evaluate the new value
                    continue;
                }
                d = update;
            }
            return complete(d, level, hier, va);
        }
    }

    /** Records a successful walk's leaf and its TLB data word: the physical address. */
    private long complete(final long d, final int level, final long hier, final long va) {
        leafDesc = d;
        leafLevel = level;
        final long offMask = (1L << shift[level]) - 1;
        final long pa = (format.outputAddress(d) & ~offMask) | (va & offMask);
        final boolean w = (d & PTE_RDONLY) == 0 && (hier & PMD_TABLE_AP_RDONLY) == 0;
        long data = P_VALID | (pa >>> shift[0]);
        if ((d & PTE_USER) != 0 && (hier & PMD_TABLE_AP_NO_EL0) == 0) {
            data |= P_EL0_R | (w ? P_EL0_W : 0);
        }
        data |= ((d & PTE_UXN) != 0 || (hier & PMD_TABLE_UXN) != 0) ? 0 : P_EL0_X;
        data |= ((d & PTE_PXN) != 0 || (hier & PMD_TABLE_PXN) != 0) ? 0 : P_EL1_X;
        data |= w ? P_EL1_W : 0;
        data |= (d & PTE_NG) == 0 ? P_GLOBAL : 0;
        tlbData = data;
        return pa;
    }

    private long fault(final int base, final int level) {
        faultLevel = format.armLevel(level);
        faultStatus = Esr.fsc(base, faultLevel);
        return FAULT;
    }

    /** The fault status code (DFSC/IFSC) of the last faulting walk. */
    public int faultStatus() {
        return faultStatus;
    }

    /** The architectural level of the last fault. */
    public int faultLevel() {
        return faultLevel;
    }

    /** The leaf descriptor the last successful walk used (after any hardware update). */
    public long leafDescriptor() {
        return leafDesc;
    }

    /** The core level (0 = page, above = block) of the last successful walk's leaf. */
    public int leafLevel() {
        return leafLevel;
    }

    /** The last successful walk as a TLB data word: page number and granted permissions. */
    long tlbData() {
        return tlbData;
    }

    /**
     * A readable walk: one line per level with index, descriptor address and value and its decoded
     * bits, for teaching. Reads only; never sets AF or dirty state.
     */
    public String dump(final long rootPa, final long va) {
        final Arm64PageTableFormat f = format;
        final StringBuilder sb = new StringBuilder();
        sb.append("walk va=0x")
                .append(Long.toHexString(va))
                .append(" on ")
                .append(f)
                .append('\n');
        if ((va >>> f.vaBits()) != 0) {
            return sb.append("  outside the TTBR0 range: translation fault at the start level\n")
                    .toString();
        }
        long table = rootPa;
        for (int level = f.levels() - 1; level >= 0; level--) {
            final int idx = f.index(va, level);
            final long descPa = table + ((long) idx << 3);
            if (descPa >= memory.bytes()) {
                return sb.append("  descriptor at 0x")
                        .append(Long.toHexString(descPa))
                        .append(" outside memory: external abort on walk\n")
                        .toString();
            }
            final long d = memory.getLongAcquire(descPa);
            sb.append(String.format(
                    "  L%-2d idx=%-5d @0x%09x desc=0x%016x %s%n",
                    f.armLevel(level), idx, descPa, d, f.describe(d, level)));
            if (!f.isTable(d, level) || (d & PTE_VALID) == 0) {
                break;
            }
            table = f.outputAddress(d);
        }
        return sb.toString();
    }
}
