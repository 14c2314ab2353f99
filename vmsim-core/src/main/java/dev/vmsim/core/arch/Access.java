package dev.vmsim.core.arch;

/** The kind of a memory access a CPU makes. */
public enum Access {
    READ,
    WRITE,
    /** Instruction fetch. */
    EXEC
}
