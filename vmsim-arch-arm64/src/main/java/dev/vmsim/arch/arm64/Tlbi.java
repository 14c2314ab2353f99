package dev.vmsim.arch.arm64;

import dev.vmsim.core.Machine;
import dev.vmsim.core.cpu.Cpu;

/**
 * The inner-shareable (broadcast) TLBI forms the kernel issues from __flush_tlb_page / flush_tlb_mm /
 * flush_tlb_all (arch/arm64/include/asm/tlbflush.h): one instruction on one CPU invalidates the
 * matching entries in every CPU's TLB of the shareability domain, here every CPU of the machine.
 * Each returns once every TLB has dropped its entries (the DSB ISH that follows a TLBI); see
 * {@link Arm64Tlb} for why a walk in flight on another CPU cannot re-insert a retired entry.
 *
 * <p>Safe from any thread: it only calls the TLBs' invalidation methods.
 */
public final class Tlbi {
    private Tlbi() {}

    /**
     * TLBI VAE1IS: {@code va} under {@code asid} (and a global entry for {@code va}), with the table
     * descriptors cached for its walk, on every CPU.
     */
    public static void vae1is(final Machine machine, final int asid, final long va) {
        for (final Cpu c : machine.cpus()) {
            final Arm64Mmu mmu = (Arm64Mmu) c.mmu();
            mmu.tlb().tlbiVae1(asid, va >>> mmu.walker().format().pageShift());
        }
    }

    /** TLBI VALE1IS: the last-level entry for {@code va} under {@code asid} on every CPU; walk caches keep theirs. */
    public static void vale1is(final Machine machine, final int asid, final long va) {
        for (final Cpu c : machine.cpus()) {
            final Arm64Mmu mmu = (Arm64Mmu) c.mmu();
            mmu.tlb().tlbiVale1(asid, va >>> mmu.walker().format().pageShift());
        }
    }

    /** TLBI VAAE1IS: {@code va} under every ASID, table descriptors on its walk included, on every CPU. */
    public static void vaae1is(final Machine machine, final long va) {
        for (final Cpu c : machine.cpus()) {
            final Arm64Mmu mmu = (Arm64Mmu) c.mmu();
            mmu.tlb().tlbiVaae1(va >>> mmu.walker().format().pageShift());
        }
    }

    /** TLBI VAALE1IS: the last-level entry for {@code va} under every ASID on every CPU. */
    public static void vaale1is(final Machine machine, final long va) {
        for (final Cpu c : machine.cpus()) {
            final Arm64Mmu mmu = (Arm64Mmu) c.mmu();
            mmu.tlb().tlbiVaale1(va >>> mmu.walker().format().pageShift());
        }
    }

    /** TLBI ASIDE1IS: every non-global entry of {@code asid} on every CPU. */
    public static void aside1is(final Machine machine, final int asid) {
        for (final Cpu c : machine.cpus()) {
            ((Arm64Mmu) c.mmu()).tlb().tlbiAside1(asid);
        }
    }

    /** TLBI VMALLE1IS: everything on every CPU. */
    public static void vmalle1is(final Machine machine) {
        for (final Cpu c : machine.cpus()) {
            ((Arm64Mmu) c.mmu()).tlb().tlbiVmalle1();
        }
    }
}
