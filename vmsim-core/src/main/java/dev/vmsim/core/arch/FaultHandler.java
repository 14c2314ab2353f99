package dev.vmsim.core.arch;

import dev.vmsim.core.cpu.Cpu;

/** The architecture's fault entry (x86 exc_page_fault / do_user_addr_fault; arm64 do_mem_abort / do_page_fault). */
public interface FaultHandler {
    /**
     * Handles {@code fault}, raised on {@code cpu} by an access with register state {@code regs}.
     * Returns {@link SigInfo#OK} if the access should be retried, otherwise the signal the task gets
     * ({@link SigInfo#make}), or {@link SigInfo#OOPS} for an unfixable kernel-mode fault.
     */
    int handle(Cpu cpu, ArchFault fault, PtRegs regs);
}
