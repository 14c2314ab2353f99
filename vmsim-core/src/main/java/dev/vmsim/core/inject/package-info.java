/** Fault injection (lib/fault-inject.c): make a chosen allocation fail to exercise the error paths. */
package dev.vmsim.core.inject;
