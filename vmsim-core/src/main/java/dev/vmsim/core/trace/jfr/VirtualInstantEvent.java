package dev.vmsim.core.trace.jfr;

import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Timespan;

/**
 * A vmsim event's virtual time: JFR stamps events with the host's clock, which under the virtual
 * clock says nothing about the simulated machine, so every event also carries the simulated CPU's
 * clock ({@link JfrSites} fills it from the {@link dev.vmsim.core.clock.Platform}). Abstract: JFR
 * registers only the concrete events, each with these fields.
 */
abstract class VirtualInstantEvent extends jdk.jfr.Event {
    @Label("Virtual Time")
    @Description(
            "Under --clock virtual: the simulated CPU's clock at the event, ns since the machine started (JFR's own"
                    + " start time is the host's); 0 on the host clock")
    @Timespan(Timespan.NANOSECONDS)
    public long virtualTime;
}
