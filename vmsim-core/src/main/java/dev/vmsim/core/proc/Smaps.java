package dev.vmsim.core.proc;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * /proc/PID/smaps and /proc/PID/smaps_rollup (fs/proc/task_mmu.c: show_smap, __show_smap,
 * show_smap_vma_flags, show_smaps_rollup), line for line as Linux 6.18 prints them, except the
 * header's addresses, which the caller formats ({@code rel}: vmscript prints them relative to top).
 *
 * <p>Fields the simulator does not model print as the kernel prints them for a mapping without such
 * pages (see {@link MemSizeStats}): KSM, LazyFree, AnonHugePages, ShmemPmdMapped, FilePmdMapped,
 * Shared_Hugetlb, Private_Hugetlb, Swap, SwapPss are 0; THPeligible is 0 (no THP: what a kernel with
 * THP "never", or "madvise" and no MADV_HUGEPAGE, prints); ProtectionKey is not printed (as on a
 * kernel without arch_pkeys_enabled()). A shared anonymous mapping's header names the shmem file as
 * the kernel does, "00:01 INODE /dev/zero (deleted)", with its inode number printed as {@code *}:
 * it is the host's, not the scenario's.
 */
public final class Smaps {
    /** show_smap_vma_flags' mnemonics, by bit number (mnemonics[i] is bit i); null where none. */
    private static final String[] MNEMONICS = new String[64];

    static {
        final long[] bits = {
            VmFlags.VM_READ,
            VmFlags.VM_WRITE,
            VmFlags.VM_EXEC,
            VmFlags.VM_SHARED,
            VmFlags.VM_MAYREAD,
            VmFlags.VM_MAYWRITE,
            VmFlags.VM_MAYEXEC,
            VmFlags.VM_MAYSHARE,
            VmFlags.VM_GROWSDOWN,
            VmFlags.VM_UFFD_MISSING,
            VmFlags.VM_PFNMAP,
            VmFlags.VM_UFFD_WP,
            VmFlags.VM_LOCKED,
            VmFlags.VM_IO,
            VmFlags.VM_SEQ_READ,
            VmFlags.VM_RAND_READ,
            VmFlags.VM_DONTCOPY,
            VmFlags.VM_DONTEXPAND,
            VmFlags.VM_LOCKONFAULT,
            VmFlags.VM_ACCOUNT,
            VmFlags.VM_NORESERVE,
            VmFlags.VM_HUGETLB,
            VmFlags.VM_SYNC,
            VmFlags.VM_WIPEONFORK,
            VmFlags.VM_DONTDUMP,
            VmFlags.VM_SOFTDIRTY,
            VmFlags.VM_MIXEDMAP,
            VmFlags.VM_HUGEPAGE,
            VmFlags.VM_NOHUGEPAGE,
            VmFlags.VM_MERGEABLE
        };
        final String[] names = {
            "rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "um", "pf", "uw", "lo", "io", "sr", "rr", "dc", "de",
            "lf", "ac", "nr", "ht", "sf", "wf", "dd", "sd", "mm", "hg", "nh", "mg"
        };
        for (int i = 0; i < bits.length; i++) {
            MNEMONICS[Long.numberOfTrailingZeros(bits[i])] = names[i];
        }
    }

    private Smaps() {}

    /**
     * show_smap: the block of {@code vma}, header first. Caller holds the mmap_lock for read
     * (smaps walks the page tables under it, as lock_vma_range takes it for smaps).
     */
    public static List<String> smap(final MmStruct mm, final Vma vma, final LongFunction<String> rel) {
        final MemSizeStats mss = new MemSizeStats();
        mss.gather(mm, vma);
        final List<String> out = new ArrayList<>();
        out.add(header(vma, rel));
        out.add(kb("Size:", vma.vmEnd - vma.vmStart));
        out.add(kb("KernelPageSize:", mm.pageSize()));
        out.add(kb("MMUPageSize:", mm.pageSize()));
        showSmap(out, mss, false);
        out.add(String.format("%-16s%8d", "THPeligible:", 0));
        out.add(vmFlags(vma.vmFlags));
        return out;
    }

    /**
     * show_smaps_rollup over {@code vmas} (lowest first, at least one): the header spans the first
     * VMA's start to the last one's end, with no permissions, then the sums. Caller holds the
     * mmap_lock for read.
     */
    public static List<String> rollup(final MmStruct mm, final List<Vma> vmas, final LongFunction<String> rel) {
        final MemSizeStats mss = new MemSizeStats();
        for (final Vma v : vmas) {
            mss.gather(mm, v);
        }
        final List<String> out = new ArrayList<>();
        out.add(rel.apply(vmas.get(0).vmStart) + " " + rel.apply(vmas.get(vmas.size() - 1).vmEnd)
                + " ---p 00000000 00:00 0 [rollup]");
        showSmap(out, mss, true);
        return out;
    }

    /** show_map_vma's header, with the addresses as {@code rel} writes them and one space before a name. */
    private static String header(final Vma vma, final LongFunction<String> rel) {
        final String perms = "" + ((vma.vmFlags & VmFlags.VM_READ) != 0 ? 'r' : '-')
                + ((vma.vmFlags & VmFlags.VM_WRITE) != 0 ? 'w' : '-')
                + ((vma.vmFlags & VmFlags.VM_EXEC) != 0 ? 'x' : '-')
                + ((vma.vmFlags & VmFlags.VM_MAYSHARE) != 0 ? 's' : 'p');
        final String where = rel.apply(vma.vmStart) + " " + rel.apply(vma.vmEnd) + " " + perms;
        if (vma.isAnonymous()) {
            return where + " 00000000 00:00 0";
        }
        return where + String.format(" %08x 00:01 * /dev/zero (deleted)", vma.vmPgoff << vma.vmMm.pageShift());
    }

    /** __show_smap: Rss to Locked; {@code rollup} adds the Pss_Anon/File/Shmem split. */
    private static void showSmap(final List<String> out, final MemSizeStats mss, final boolean rollup) {
        final int s = MemSizeStats.PSS_SHIFT;
        out.add(kb("Rss:", mss.resident));
        out.add(kb("Pss:", mss.pss >> s));
        out.add(kb("Pss_Dirty:", mss.pssDirty >> s));
        if (rollup) {
            out.add(kb("Pss_Anon:", mss.pssAnon >> s));
            out.add(kb("Pss_File:", mss.pssFile >> s));
            out.add(kb("Pss_Shmem:", mss.pssShmem >> s));
        }
        out.add(kb("Shared_Clean:", mss.sharedClean));
        out.add(kb("Shared_Dirty:", mss.sharedDirty));
        out.add(kb("Private_Clean:", mss.privateClean));
        out.add(kb("Private_Dirty:", mss.privateDirty));
        out.add(kb("Referenced:", mss.referenced));
        out.add(kb("Anonymous:", mss.anonymous));
        out.add(kb("KSM:", 0));
        out.add(kb("LazyFree:", 0));
        out.add(kb("AnonHugePages:", 0));
        out.add(kb("ShmemPmdMapped:", 0));
        out.add(kb("FilePmdMapped:", 0));
        out.add(kb("Shared_Hugetlb:", 0));
        // The kernel prints this one label a character wider and its number a character narrower.
        out.add(String.format("%-17s%7d kB", "Private_Hugetlb:", 0));
        out.add(kb("Swap:", 0));
        out.add(kb("SwapPss:", 0));
        out.add(kb("Locked:", mss.pssLocked >> s));
    }

    /** SEQ_PUT_DEC: a 16-column label, the byte count in kB right-aligned in 8 columns, " kB". */
    private static String kb(final String label, final long bytes) {
        return String.format("%-16s%8d kB", label, bytes >> 10);
    }

    /** show_smap_vma_flags: "VmFlags:", then each set flag's mnemonic followed by a space. */
    static String vmFlags(final long flags) {
        final StringBuilder sb = new StringBuilder("VmFlags: ");
        for (int i = 0; i < 64; i++) {
            if ((flags & (1L << i)) != 0 && MNEMONICS[i] != null) {
                sb.append(MNEMONICS[i]).append(' ');
            }
        }
        return sb.toString();
    }
}
