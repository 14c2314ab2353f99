package dev.vmsim.core;

/**
 * The kernel build and boot settings a machine runs with, where Linux kernels differ in what a
 * process observes. The simulator models the vanilla kernel ({@link #VANILLA}); a variant lets it
 * match another kernel, such as one booted with {@code stack_guard_gap=} or one that never maps the
 * shared zero page. Configuration, not a fork of the code: the mm reads it where the kernel reads
 * the corresponding setting.
 *
 * @param zeroPage whether a read fault on anonymous memory maps the shared zero page; false models
 *     {@code mm_forbids_zeropage()} returning true (s390 with KVM in mainline, and patched kernels
 *     such as one booted with {@code pvm_no_zero_page=1}): do_anonymous_page then allocates a zeroed
 *     page and prepares the VMA's anon_vma on a read fault too
 * @param stackGuardGapPages {@code stack_guard_gap} in pages (boot parameter {@code
 *     stack_guard_gap=}, default 256)
 */
public record KernelVariant(boolean zeroPage, long stackGuardGapPages) {
    /** Default stack_guard_gap, in pages (mm/mmap.c: 256UL &lt;&lt; PAGE_SHIFT). */
    public static final long DEFAULT_STACK_GUARD_GAP_PAGES = 256;

    /** The kernel as mainline builds and boots it on x86-64 and arm64. */
    public static final KernelVariant VANILLA = new KernelVariant(true, DEFAULT_STACK_GUARD_GAP_PAGES);

    public KernelVariant {
        if (stackGuardGapPages < 0) {
            throw new IllegalArgumentException("stack_guard_gap must not be negative: " + stackGuardGapPages);
        }
    }

    /** mm_forbids_zeropage(): read faults on anonymous memory allocate instead of mapping the zero page. */
    public boolean forbidsZeropage() {
        return !zeroPage;
    }

    /** This variant with the zero page on ({@code true}) or forbidden. */
    public KernelVariant withZeroPage(final boolean on) {
        return new KernelVariant(on, stackGuardGapPages);
    }

    /** This variant with {@code stack_guard_gap} of {@code pages} pages. */
    public KernelVariant withStackGuardGapPages(final long pages) {
        return new KernelVariant(zeroPage, pages);
    }

    /** The settings that differ from {@link #VANILLA}, as the CLI names them ("" for the vanilla kernel). */
    public String describe() {
        final StringBuilder sb = new StringBuilder();
        if (!zeroPage) {
            sb.append("--no-zero-page");
        }
        if (stackGuardGapPages != DEFAULT_STACK_GUARD_GAP_PAGES) {
            sb.append(sb.length() == 0 ? "" : " ")
                    .append("stack_guard_gap=")
                    .append(stackGuardGapPages)
                    .append(" pages");
        }
        return sb.toString();
    }
}
