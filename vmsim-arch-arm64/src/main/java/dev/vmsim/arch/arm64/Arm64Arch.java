package dev.vmsim.arch.arm64;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.FaultHandler;
import dev.vmsim.core.arch.Mmu;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.fault.FaultOps;
import dev.vmsim.core.pgtable.PageTableFormat;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The arm64 architecture ("arm64"): the 4K/48-bit TTBR0 format (16K and 64K with {@link #withPageSize}), one {@link Arm64Mmu} per CPU sharing
 * the machine's {@link AsidAllocator}, and the arch/arm64/mm/fault.c handler over {@link
 * FaultOps#KERNEL}. Registered in META-INF/services for {@link dev.vmsim.core.arch.ArchRegistry}.
 *
 * <p>The no-argument constructor (used by ServiceLoader) reads {@link Arm64Config#fromSystemProperties()},
 * so a run selects FEAT_HAFDBS with {@code -Dvmsim.arm64.hafdbs=false}.
 */
public final class Arm64Arch implements Arch {
    private final Arm64Config config;
    private final FaultOps ops;
    private final FaultHandler faultHandler;
    /** One ASID space per machine (cpu_asid_lock and asid_map are system-wide). */
    private final Map<Machine, AsidAllocator> asidAllocators = Collections.synchronizedMap(new WeakHashMap<>());

    public Arm64Arch() {
        this(Arm64Config.fromSystemProperties(), FaultOps.KERNEL);
    }

    public Arm64Arch(final Arm64Config config, final FaultOps ops) {
        this.config = config;
        this.ops = ops;
        this.faultHandler = new Arm64FaultHandler(
                ops, config.format().taskSize(), config.format().epan());
    }

    public Arm64Config config() {
        return config;
    }

    @Override
    public String name() {
        return "arm64";
    }

    @Override
    public PageTableFormat pageTableFormat() {
        return config.format();
    }

    /**
     * This configuration with the translation granule of {@code bytes} (4K, 16K or 64K) and the
     * kernel's VA size for it ({@link Arm64PageTableFormat#forGranule}), or null for another size.
     */
    @Override
    public Arch withPageSize(final long bytes) {
        final Granule g = Granule.ofSize(bytes);
        if (g == null) {
            return null;
        }
        return g == config.format().granule()
                ? this
                : new Arm64Arch(config.withFormat(Arm64PageTableFormat.forGranule(g)), ops);
    }

    /**
     * VMALLOC_TOTAL (asm/memory.h, asm/pgtable.h): VMALLOC_START is MODULES_END, 2 GiB of modules
     * above _PAGE_END(VA_BITS_MIN); VMALLOC_END is 256 MiB below VMEMMAP_START, and the vmemmap
     * (64 bytes of struct page for each page of the linear map) ends 1 GiB below the top.
     * VA_BITS_MIN is VA_BITS up to 48, else 48 (47 with 16K pages).
     */
    @Override
    public long vmallocTotal() {
        final int vaBits = config.format().vaBits();
        final int pageShift = config.format().pageShift();
        final int vaBitsMin = vaBits <= 48 ? vaBits : pageShift == 14 ? 47 : 48;
        final long pageOffset = -(1L << vaBits);
        final long pageEnd = -(1L << (vaBitsMin - 1));
        final long modulesEnd = pageEnd + (2L << 30);
        final long structPageSize = 64;
        final long vmemmapSize = ((pageEnd - pageOffset) >>> pageShift) * structPageSize;
        final long vmemmapStart = -(1L << 30) - vmemmapSize;
        final long vmallocEnd = vmemmapStart - (256L << 20);
        return vmallocEnd - modulesEnd;
    }

    @Override
    public Mmu newMmu(final Machine machine, final Cpu cpu) {
        return new Arm64Mmu(machine.memory(), cpu.id(), config, asidAllocator(machine));
    }

    /** The machine's ASID allocator. */
    public AsidAllocator asidAllocator(final Machine machine) {
        return asidAllocators.computeIfAbsent(machine, m -> new AsidAllocator(config.asidBits()));
    }

    @Override
    public FaultHandler faultHandler() {
        return faultHandler;
    }

    /**
     * Broadcast invalidation (__flush_tlb_range: TLBI VALE1IS / VAE1IS / ASIDE1IS, then DSB ISH):
     * no IPI.
     */
    @Override
    public boolean tlbShootdownByIpi() {
        return false;
    }

    /** ptep_clear_flush_young (arch/arm64/include/asm/pgtable.h): flush_tlb_page_nosync when the entry was young. */
    @Override
    public boolean clearFlushYoungFlushesTlb() {
        return true;
    }
}
