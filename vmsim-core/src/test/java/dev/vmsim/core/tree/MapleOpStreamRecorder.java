package dev.vmsim.core.tree;

import dev.vmsim.core.Machine;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Mman;
import dev.vmsim.core.testing.TestArch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Records the VMA tree's op stream of a seeded system-call workload (TREE-17, "port the idea" of
 * check_erase2_sets, whose sets are the tree writes of real processes): every store the mm makes to
 * its maple tree, as {@code STORE first last} or {@code SNULL first last}, then {@code END n} with
 * the number of VMAs left. {@link MapleOpStreamTest} replays the files.
 *
 * <p>Regenerate (after a deliberate change to the order of the mm's tree writes), in vmsim-core:
 * {@code mvn -o -q test-compile dependency:build-classpath -Dmdep.outputFile=cp.txt}, then
 * {@code java -cp target/test-classes:target/classes:$(cat cp.txt) dev.vmsim.core.tree.MapleOpStreamRecorder
 * src/test/resources/dev/vmsim/core/tree/opstreams}.
 * The files stay valid replay input either way: they are tree operations, not expected mm output.
 */
final class MapleOpStreamRecorder {
    private static final long PAGE = 4096;
    private static final long WINDOW = 0x1000_0000L;
    private static final int PAGES = 256;
    /** The seeds of the recorded workloads, one file each. */
    static final long[] SEEDS = {1, 2, 3};

    static final int OPS = 600;

    private MapleOpStreamRecorder() {}

    public static void main(final String[] args) throws IOException {
        final Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        for (final long seed : SEEDS) {
            Files.write(dir.resolve("seed-" + seed + ".ops"), record(seed), StandardCharsets.UTF_8);
        }
    }

    /** The op stream of workload {@code seed}: header, one line per tree store, END. */
    static List<String> record(final long seed) {
        final List<String> out = new ArrayList<>();
        out.add("# TREE-17 op stream: the VMA tree writes of " + OPS + " seeded system calls (seed " + seed
                + ") over a " + PAGES + "-page window at 0x" + Long.toHexString(WINDOW));
        final Machine machine = TestArch.machine(4096);
        try {
            final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
            // The tree as recording begins (the vdso), then every store.
            mm.mmMt().forEachRange((first, last, v) -> out.add(String.format("STORE 0x%x 0x%x", first, last)));
            mm.mmMt()
                    .setStoreTrace((first, last, v) ->
                            out.add(String.format("%s 0x%x 0x%x", v == null ? "SNULL" : "STORE", first, last)));
            final Random rnd = new Random(seed);
            for (int i = 0; i < OPS; i++) {
                step(mm, rnd);
            }
            mm.mmMt().setStoreTrace(null);
            out.add("END " + mm.vmas().size());
        } finally {
            machine.close();
        }
        return out;
    }

    private static void step(final MmStruct mm, final Random rnd) {
        final int first = rnd.nextInt(PAGES);
        final int pages = 1 + rnd.nextInt(Math.min(16, PAGES - first));
        final long addr = WINDOW + first * PAGE;
        final long len = pages * PAGE;
        final int prot = rnd.nextInt(4) == 0 ? Mman.PROT_READ : Mman.PROT_READ | Mman.PROT_WRITE;
        switch (rnd.nextInt(6)) {
            case 0, 1 -> mm.mmap(addr, len, prot, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
            case 2 -> mm.munmap(addr, len);
            case 3 -> mm.mprotect(addr, len, prot);
            case 4 -> mm.mremap(addr, len, len + PAGE * rnd.nextInt(4), 0, 0);
            default -> mm.mmap(0, len, prot, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS);
        }
    }
}
