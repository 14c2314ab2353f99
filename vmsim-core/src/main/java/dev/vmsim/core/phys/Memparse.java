package dev.vmsim.core.phys;

/**
 * memparse (lib/cmdline.c): a size as the kernel reads mem= and swap sizes on its command line, a
 * decimal number with an optional suffix K, M, G, T, P or E (either case) multiplying it by a power
 * of 1024. Departures: no 0x/0 prefixes (memparse takes simple_strtoull's bases, which a user of
 * --mem 010M would not expect), and anything after the suffix is an error rather than left to the
 * caller, since the caller here has nothing else to read.
 */
public final class Memparse {
    private Memparse() {}

    /**
     * The size {@code text} names, in bytes.
     *
     * @throws IllegalArgumentException one line saying what is wrong with it
     */
    public static long parse(final String text) {
        final String t = text.trim();
        int end = 0;
        while (end < t.length() && Character.isDigit(t.charAt(end))) {
            end++;
        }
        if (end == 0) {
            throw new IllegalArgumentException("malformed size '" + text + "': expected a number of bytes with an"
                    + " optional K, M, G or T suffix, e.g. 512M");
        }
        final int shift;
        if (end == t.length()) {
            shift = 0;
        } else if (end == t.length() - 1) {
            shift = switch (Character.toUpperCase(t.charAt(end))) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                case 'P' -> 50;
                case 'E' -> 60;
                default -> -1;
            };
        } else {
            shift = -1;
        }
        if (shift < 0) {
            throw new IllegalArgumentException("malformed size '" + text + "': expected a number of bytes with an"
                    + " optional K, M, G or T suffix, e.g. 512M");
        }
        final long n;
        try {
            n = Long.parseLong(t.substring(0, end));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        return n << shift;
    }
}
