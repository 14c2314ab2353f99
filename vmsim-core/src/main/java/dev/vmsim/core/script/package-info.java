/**
 * vmscript, the scenario language whose transcripts are diffed byte for byte against the real
 * kernel's (the oracle vmoracle.c): {@link dev.vmsim.core.script.VmScript} runs the lines of one
 * task; {@code ScriptTasks} holds the tasks of a run and runs {@code fork NAME}, {@code exit NAME}
 * and the {@code in NAME:} prefix; {@code ScriptMachine} runs {@code mem SIZE} and {@code swap SIZE},
 * which size the machine before the script's first other line.
 */
package dev.vmsim.core.script;
