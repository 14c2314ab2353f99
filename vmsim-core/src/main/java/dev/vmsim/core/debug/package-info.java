/**
 * Debug-build aids that are not kernel mechanisms: {@link dev.vmsim.core.debug.BugSwitches}, one
 * switch per historical bug of the test catalogue ({@link dev.vmsim.core.debug.Bug}), each turning
 * one fix off so that its regression test can show the failure the kernel saw.
 */
package dev.vmsim.core.debug;
