package dev.vmsim.core.tree;

import java.util.Arrays;

/**
 * Test-only reference model: the original SKELETON MapleTree/MaState (an immutable sorted array
 * replaced on every store, linear scans), kept verbatim in behaviour so the model test can compare the
 * maple tree against it operation by operation. Tree and cursor in one object: {@link #index} and
 * {@link #last} play MaState's fields.
 */
final class ReferenceRangeMap<T> {
    static final int EBUSY = 16;

    static final class Snapshot {
        final long[] first;
        final long[] last;
        final Object[] values;

        Snapshot(final long[] first, final long[] last, final Object[] values) {
            this.first = first;
            this.last = last;
            this.values = values;
        }
    }

    private Snapshot root = new Snapshot(new long[0], new long[0], new Object[0]);
    long index;
    long last;

    void set(final long first, final long last) {
        this.index = first;
        this.last = last;
    }

    int size() {
        return root.first.length;
    }

    /** (first, last, value) triples in order. */
    Snapshot snapshot() {
        return root;
    }

    @SuppressWarnings("unchecked")
    T load(final long at) {
        final int i = locate(root, at);
        return i >= 0 ? (T) root.values[i] : null;
    }

    @SuppressWarnings("unchecked")
    T erase(final long at) {
        final Snapshot s = root;
        final int i = locate(s, at);
        if (i < 0) {
            return null;
        }
        final T old = (T) s.values[i];
        store(s.first[i], s.last[i], null);
        return old;
    }

    static int locate(final Snapshot s, final long index) {
        int lo = 0;
        int hi = s.first.length - 1;
        while (lo <= hi) {
            final int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(s.last[mid], index) < 0) {
                lo = mid + 1;
            } else if (Long.compareUnsigned(s.first[mid], index) > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    static int ceiling(final Snapshot s, final long index) {
        int lo = 0;
        int hi = s.first.length;
        while (lo < hi) {
            final int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(s.last[mid], index) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    public void store(final long first, final long last, final T value) {
        if (Long.compareUnsigned(first, last) > 0) {
            throw new IllegalArgumentException("first > last");
        }
        final Snapshot s = root;
        final int n = s.first.length;
        final long[] nf = new long[n + 2];
        final long[] nl = new long[n + 2];
        final Object[] nv = new Object[n + 2];
        int k = 0;
        boolean placed = false;
        for (int i = 0; i < n; i++) {
            final long f = s.first[i];
            final long l = s.last[i];
            if (Long.compareUnsigned(l, first) < 0) {
                nf[k] = f;
                nl[k] = l;
                nv[k++] = s.values[i];
                continue;
            }
            if (Long.compareUnsigned(f, last) > 0) {
                if (!placed) {
                    if (value != null) {
                        nf[k] = first;
                        nl[k] = last;
                        nv[k++] = value;
                    }
                    placed = true;
                }
                nf[k] = f;
                nl[k] = l;
                nv[k++] = s.values[i];
                continue;
            }
            // overlap
            if (Long.compareUnsigned(f, first) < 0) {
                nf[k] = f;
                nl[k] = first - 1;
                nv[k++] = s.values[i];
            }
            if (!placed) {
                if (value != null) {
                    nf[k] = first;
                    nl[k] = last;
                    nv[k++] = value;
                }
                placed = true;
            }
            if (Long.compareUnsigned(l, last) > 0) {
                nf[k] = last + 1;
                nl[k] = l;
                nv[k++] = s.values[i];
            }
        }
        if (!placed && value != null) {
            nf[k] = first;
            nl[k] = last;
            nv[k++] = value;
        }
        root = new Snapshot(Arrays.copyOf(nf, k), Arrays.copyOf(nl, k), Arrays.copyOf(nv, k));
    }

    public T walk() {
        final Snapshot s = root;
        final long at = index;
        final int i = ceiling(s, at);
        if (i < s.first.length && Long.compareUnsigned(s.first[i], at) <= 0) {
            index = s.first[i];
            last = s.last[i];
            return (T) s.values[i];
        }
        index = i == 0 ? 0 : s.last[i - 1] + 1;
        last = i < s.first.length ? s.first[i] - 1 : -1L;
        return null;
    }

    public T find(final long max) {
        final Snapshot s = root;
        final int i = ceiling(s, index);
        if (i < s.first.length && Long.compareUnsigned(s.first[i], max) <= 0) {
            index = s.first[i];
            last = s.last[i];
            return (T) s.values[i];
        }
        return null;
    }

    public T findRev(final long min) {
        final Snapshot s = root;
        int i = ceiling(s, index);
        if (i >= s.first.length || Long.compareUnsigned(s.first[i], index) > 0) {
            i--;
        }
        if (i >= 0 && Long.compareUnsigned(s.last[i], min) >= 0) {
            index = s.first[i];
            last = s.last[i];
            return (T) s.values[i];
        }
        return null;
    }

    public int emptyArea(final long min, final long max, final long size) {
        final Snapshot s = root;
        long cursor = min;
        for (int i = 0; i <= s.first.length; i++) {
            final long gapEnd = i < s.first.length ? s.first[i] - 1 : -1L;
            if (i < s.first.length && Long.compareUnsigned(s.last[i], cursor) < 0) {
                continue;
            }
            if (i < s.first.length && Long.compareUnsigned(s.first[i], cursor) <= 0) {
                if (s.last[i] == -1L) {
                    return -EBUSY;
                }
                cursor = s.last[i] + 1;
                continue;
            }
            final long end = Long.compareUnsigned(gapEnd, max) < 0 ? gapEnd : max;
            if (Long.compareUnsigned(cursor, end) <= 0 && Long.compareUnsigned(end - cursor, size - 1) >= 0) {
                index = cursor;
                last = cursor + size - 1;
                return 0;
            }
            if (i == s.first.length || Long.compareUnsigned(s.first[i], max) > 0) {
                break;
            }
            if (s.last[i] == -1L) {
                break;
            }
            cursor = s.last[i] + 1;
        }
        return -EBUSY;
    }

    public int emptyAreaRev(final long min, final long max, final long size) {
        final Snapshot s = root;
        long top = max;
        for (int i = s.first.length - 1; i >= -1; i--) {
            final long gapStart = i >= 0 ? s.last[i] + 1 : 0;
            if (i >= 0 && Long.compareUnsigned(s.first[i], top) > 0) {
                continue;
            }
            if (i >= 0 && Long.compareUnsigned(s.last[i], top) >= 0) {
                if (s.first[i] == 0) {
                    return -EBUSY;
                }
                top = s.first[i] - 1;
                continue;
            }
            final long start =
                    (i >= 0 && s.last[i] == -1L) ? top + 1 : (Long.compareUnsigned(gapStart, min) > 0 ? gapStart : min);
            if (Long.compareUnsigned(start, top) <= 0 && Long.compareUnsigned(top - start, size - 1) >= 0) {
                last = top;
                index = top - size + 1;
                return 0;
            }
            if (i < 0 || Long.compareUnsigned(s.last[i], min) < 0) {
                break;
            }
            if (s.first[i] == 0) {
                break;
            }
            top = s.first[i] - 1;
        }
        return -EBUSY;
    }
}
