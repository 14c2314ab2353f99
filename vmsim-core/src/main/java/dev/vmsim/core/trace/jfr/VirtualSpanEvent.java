package dev.vmsim.core.trace.jfr;

import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Timespan;

/** A vmsim event with a duration: {@link VirtualInstantEvent}'s start, and the duration in virtual time. */
abstract class VirtualSpanEvent extends VirtualInstantEvent {
    @Label("Virtual Duration")
    @Description(
            "Under --clock virtual: the duration in the simulated CPU's time (JFR's own duration is the host's); 0 on"
                    + " the host clock")
    @Timespan(Timespan.NANOSECONDS)
    public long virtualDuration;
}
