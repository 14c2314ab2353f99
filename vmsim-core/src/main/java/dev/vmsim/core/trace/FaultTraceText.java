package dev.vmsim.core.trace;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders recorded events as one line per page fault, for {@code vmsim script --trace}: the arch
 * decode, then each step the fault took through the locks and mm core, then the signal if one was
 * delivered, e.g. {@code #PF err=0x6 [W U] cr2=top-0x4000 -> lock_vma_under_rcu: locked ->
 * handle_mm_fault(WRITE|USER|VMA_LOCK): do_anonymous_page new page -> 0}. Addresses near {@code top}
 * are written relative to it, as the vmscript transcript writes them. Events outside a page-fault
 * slice (the mmap_lock taken by a syscall) and the mmap_lock tracepoints inside one are left out:
 * the JSON trace has them.
 */
public final class FaultTraceText {
    private static final Pattern HEX = Pattern.compile("0x[0-9a-fA-F]+");

    private FaultTraceText() {}

    /** One line per fault in {@code events} (in emission order, from one thread). */
    public static List<String> lines(final List<TraceEvent> events, final long top) {
        final List<String> out = new ArrayList<>();
        StringBuilder line = null;
        String handler = null;
        StringBuilder lockMm = null;
        for (final TraceEvent e : events) {
            if (isFaultSlice(e.name)) {
                if (e.phase == TraceSink.BEGIN) {
                    line = new StringBuilder(relative(e.arg("decode"), top));
                } else if (e.phase == TraceSink.END && line != null) {
                    final String sig = e.arg("signal");
                    if (sig != null && !sig.equals("ok")) {
                        line.append(" -> signal ").append(sig);
                    }
                    out.add(line.toString());
                    line = null;
                }
                continue;
            }
            if (line == null) {
                continue;
            }
            switch (e.name) {
                case FaultTrace.LOCK_VMA_UNDER_RCU:
                case FaultTrace.LOCK_VMA_UNDER_RCU_WAIT:
                    line.append(" -> ").append(e.name).append(": ").append(e.arg("result"));
                    break;
                case FaultTrace.LOCK_MM_AND_FIND_VMA:
                    if (e.phase == TraceSink.BEGIN) {
                        lockMm = new StringBuilder();
                    } else if (e.phase == TraceSink.END) {
                        line.append(" -> lock_mm_and_find_vma: ").append(e.arg("result"));
                        if (lockMm != null && lockMm.length() > 0) {
                            line.append(" (").append(lockMm).append(')');
                        }
                        lockMm = null;
                    }
                    break;
                case FaultTrace.MMAP_WRITE_LOCK_VIA:
                    // upgrade_mmap_lock_carefully (the kernel) or the simulator's atomic upgrade (--mmap-upgrade).
                    appendPart(
                            lockMm,
                            "upgrade".equals(e.arg("via"))
                                    ? "write lock by upgrade"
                                    : "read lock dropped, write lock taken");
                    break;
                case FaultTrace.EXPAND_DOWNWARDS:
                    appendPart(
                            lockMm, "0".equals(e.arg("ret")) ? "stack expanded" : "expand_downwards=" + e.arg("ret"));
                    break;
                case FaultTrace.HANDLE_MM_FAULT:
                    if (e.phase == TraceSink.BEGIN) {
                        line.append(" -> handle_mm_fault(")
                                .append(e.arg("flags"))
                                .append(')');
                        handler = null;
                    } else if (e.phase == TraceSink.END) {
                        if (handler != null) {
                            line.append(": ").append(handler);
                        }
                        line.append(" -> ").append(e.arg("ret"));
                        handler = null;
                    }
                    break;
                case FaultTrace.DO_ANONYMOUS_PAGE:
                    handler = "do_anonymous_page " + ("zero".equals(e.arg("page")) ? "zero page" : "new page");
                    break;
                case FaultTrace.DO_WP_PAGE:
                    handler = "do_wp_page " + e.arg("action")
                            + ("copy".equals(e.arg("action")) && "zero".equals(e.arg("from")) ? " of zero page" : "");
                    break;
                case FaultTrace.SHMEM_FAULT:
                    handler = "shmem fault " + e.arg("result");
                    break;
                case FaultTrace.HANDLE_PTE_FAULT:
                    handler = handlePteFaultText(e.arg("action"));
                    break;
                case FaultTrace.DO_SWAP_PAGE:
                    handler =
                            (handler == null || !handler.startsWith("do_swap_page") ? "do_swap_page " : handler + ", ")
                                    + swapStepText(e.arg("step"), e.arg("detail"));
                    break;
                default:
                    break; // mmap_lock tracepoints: in the JSON trace only
            }
        }
        if (line != null) {
            out.add(line.toString()); // a fault still open (the recorder filled up)
        }
        return out;
    }

    private static boolean isFaultSlice(final String name) {
        return name.equals(FaultTrace.PAGE_FAULT_USER)
                || name.equals(FaultTrace.PAGE_FAULT_KERNEL)
                || name.equals(FaultTrace.DO_MEM_ABORT);
    }

    private static String handlePteFaultText(final String action) {
        switch (action) {
            case "access_flags":
                return "access-flag/dirty update";
            case "spurious":
                return "spurious (local TLB flush)";
            default:
                return "pte changed under us";
        }
    }

    private static String swapStepText(final String step, final String detail) {
        switch (step) {
            case "swap_pte":
                return detail;
            case "swap_cache":
                return "swap cache " + detail;
            case "lock_dropped":
                return detail + " lock dropped";
            default:
                return step.replace('_', ' ') + (detail.isEmpty() ? "" : " " + detail);
        }
    }

    private static void appendPart(final StringBuilder sb, final String part) {
        if (sb == null) {
            return;
        }
        if (sb.length() > 0) {
            sb.append(", ");
        }
        sb.append(part);
    }

    /** Rewrites hex numbers within 2 GiB of {@code top} as {@code top-0x...} / {@code top+0x...}. */
    static String relative(final String s, final long top) {
        if (s == null) {
            return "?";
        }
        final Matcher m = HEX.matcher(s);
        final StringBuilder sb = new StringBuilder();
        while (m.find()) {
            final String hex = m.group();
            String rep = hex;
            if (hex.length() <= 18) {
                final long v = Long.parseUnsignedLong(hex.substring(2), 16);
                final long d = v - top;
                if (d >= -(1L << 31) && d <= (1L << 31)) {
                    rep = d < 0 ? "top-0x" + Long.toHexString(-d) : "top+0x" + Long.toHexString(d);
                }
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(rep));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
