package dev.vmsim.bench.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.CostModel;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The profile files and the virtual clock's cost model name the same parameters. */
class CostModelParametersTest {
    @Test
    void profileNamesAreTheCostModelsParameters() {
        assertEquals(ProfileParameters.NAMES, CostModel.PARAMETERS, "same names, same order");
        assertEquals(ProfileParameters.COUNTS, CostModel.COUNTS);
        for (final Cost c : Cost.values()) {
            assertEquals("ns", ProfileParameters.unit(c.parameter()), c.parameter());
        }
    }

    @Test
    void everyShippedProfileBuildsACostModel() throws Exception {
        for (final String name : new String[] {"host", "icelake-2s-64c", "zen5-2s-128c"}) {
            final MachineProfile p = MachineProfiles.load(name);
            final CostModel m = CostModels.of(p);
            assertEquals(Math.round(p.value("zero_page_4k") * 1000), m.ps(Cost.ZERO_PAGE_4K), name);
        }
    }

    @Test
    void transfersFollowTheTopology() throws Exception {
        final CostModel ice = CostModels.of(MachineProfiles.load("icelake-2s-64c"));
        assertEquals(0, ice.logicalTransferPs(5, 5));
        assertEquals(ice.ps(Cost.C2C_LLC), ice.logicalTransferPs(0, 31), "cores 0 and 31: socket 0");
        assertEquals(ice.ps(Cost.C2C_REMOTE), ice.logicalTransferPs(0, 32), "core 32 is on socket 1");
        assertEquals(ice.ps(Cost.C2C_SMT), ice.logicalTransferPs(0, 64), "cpu 64 is core 0's sibling");
        final CostModel zen = CostModels.of(MachineProfiles.load("zen5-2s-128c"));
        assertEquals(zen.ps(Cost.C2C_LLC), zen.logicalTransferPs(0, 7), "one CCD: 8 cores");
        assertEquals(zen.ps(Cost.C2C_SOCKET), zen.logicalTransferPs(0, 8), "next CCD, same socket");
        assertEquals(zen.ps(Cost.C2C_REMOTE), zen.logicalTransferPs(0, 64));
    }

    @Test
    void threadsArePlacedAsForkBalancingPlacesPftsWorkers() throws Exception {
        final CostModel ice = CostModels.of(MachineProfiles.load("icelake-2s-64c"));
        assertEquals(ice.ps(Cost.C2C_LLC), ice.transferPs(0, 1), "the second thread stays on socket 0");
        assertEquals(ice.ps(Cost.C2C_REMOTE), ice.transferPs(0, 2), "the third crosses: imb_numa_nr = 2");
        final CostModel zen = CostModels.of(MachineProfiles.load("zen5-2s-128c"));
        assertEquals(zen.ps(Cost.C2C_SOCKET), zen.transferPs(0, 1), "threads 0 and 1 on different CCDs");
        assertEquals(zen.ps(Cost.C2C_REMOTE), zen.transferPs(0, 3), "the fourth on socket 1");
        assertTrue(zen.node(0) != zen.node(3), "4 nodes: 32 cores each");
    }

    @Test
    void aMissingOrNegativeParameterIsNamed() {
        final Map<String, Double> v =
                new HashMap<>(MachineProfiles.defaultProfile().values());
        v.remove("ipi_send");
        assertEquals(
                "missing parameter ipi_send",
                assertThrows(IllegalArgumentException.class, () -> new CostModel(v))
                        .getMessage());
        v.put("ipi_send", -1.0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CostModel(v))
                .getMessage()
                .contains("ipi_send"));
    }
}
