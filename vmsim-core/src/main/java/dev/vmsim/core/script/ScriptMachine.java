package dev.vmsim.core.script;

import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.phys.Memparse;
import dev.vmsim.core.phys.Watermarks;
import dev.vmsim.core.swap.SwapParams;
import java.util.List;

/**
 * The machine a vmscript runs on, and the two lines that configure it: {@code mem SIZE} (the
 * machine's memory, as {@code --mem}) and {@code swap SIZE} (a swap device, as {@code --swap}; 0
 * for none). SIZE is read as the kernel's memparse reads {@code mem=}: {@code 512K}, {@code 16M},
 * plain bytes.
 *
 * <p>They configure the machine, so they are accepted only before the script's first other line
 * (blank and comment lines aside): each one that is accepted boots a fresh machine of the new size.
 * Each prints its echo and {@code ok}, or: {@code syntax} (not exactly one SIZE, or a malformed
 * one); {@code EINVAL} ({@code mem} below what the machine needs to boot the script's task, {@link
 * Watermarks#bootFrames}, or above the script machine's default {@value VmScript#FRAMES} frames:
 * {@code mem} only shrinks it; or a {@code swap} smaller than one page, which leaves no slot besides
 * the header); {@code ENOMEM} ({@code swap} larger than this host's Java heap can
 * back, {@link SwapParams#hostCanBack}, swapon's answer when it cannot allocate a device's map);
 * {@code EBUSY} (the machine is already running the script). A refused line changes nothing.
 * A size given on the command line ({@code vmsim script --mem/--swap}) is where the script starts;
 * the script's own line wins.
 *
 * <p>The machine {@link Machine#runsInline() runs inline}: kswapd's pass runs at its wakeup and the
 * swap device completes each request in its submitter, so that a script under memory pressure
 * prints the same transcript every time. Departure: no OOM killer is installed (a script is one
 * process; the kernel would kill it): an allocation that reclaim cannot satisfy takes what is left
 * below min, then fails with VM_FAULT_OOM, as on any machine built without --mem, and the access
 * answers {@code OOM}.
 *
 * <p>Not thread-safe: the session's stepping thread uses it.
 */
final class ScriptMachine {
    private final Arch arch;
    private final KernelVariant variant;
    private final Platform platform;
    /** The memory in bytes, 0 for the default {@value VmScript#FRAMES} frames. */
    private long memBytes;
    /** The swap device's size in bytes, 0 for none. */
    private long swapBytes;

    ScriptMachine(
            final Arch arch,
            final KernelVariant variant,
            final Platform platform,
            final long memBytes,
            final long swapBytes) {
        this.arch = arch;
        this.variant = variant;
        this.platform = platform;
        this.memBytes = memBytes;
        this.swapBytes = swapBytes;
    }

    /** Was the machine given a memory size or a swap device (by a line or by the caller)? */
    boolean limited() {
        return memBytes != 0 || swapBytes != 0;
    }

    /** Is {@code verb} one of the lines this class runs? */
    static boolean handles(final String verb) {
        return verb.equals("mem") || verb.equals("swap");
    }

    private long pageSize() {
        return 1L << arch.pageTableFormat().pageShift();
    }

    /** A new machine of the configured size, with its swap device if one is configured. */
    Machine boot() {
        final long frames = memBytes == 0 ? VmScript.FRAMES : memBytes / pageSize();
        final Machine m = new Machine(arch, frames, 1, variant, platform, true);
        if (swapBytes != 0) {
            m.swapon(SwapParams.device(swapBytes, pageSize()));
        }
        return m;
    }

    /**
     * Runs a {@code mem} or {@code swap} line ({@code op} its tokens); {@code started}: a line that
     * is neither has run. Returns the result ({@code ok} when the caller must boot a new machine).
     */
    String line(final List<String> op, final boolean started) {
        if (op.size() != 2) {
            return "syntax";
        }
        final long bytes;
        try {
            bytes = Memparse.parse(op.get(1));
        } catch (IllegalArgumentException e) {
            return "syntax";
        }
        if (started) {
            return "EBUSY";
        }
        if (op.get(0).equals("mem")) {
            final long frames = bytes / pageSize();
            if (frames > VmScript.FRAMES || frames < Watermarks.bootFrames(frames, 1, pageSize())) {
                return "EINVAL";
            }
            memBytes = bytes;
        } else {
            if (bytes != 0
                    && (bytes < pageSize()
                            || !SwapParams.hostCanBack(
                                    bytes, pageSize(), Runtime.getRuntime().maxMemory()))) {
                return bytes < pageSize() ? "EINVAL" : "ENOMEM";
            }
            swapBytes = bytes;
        }
        return "ok";
    }
}
