/**
 * vmscript, the scenario language whose transcripts are diffed byte for byte against the real
 * kernel's (the oracle vmoracle.c): {@link dev.vmsim.core.script.VmScript}.
 */
package dev.vmsim.core.script;
