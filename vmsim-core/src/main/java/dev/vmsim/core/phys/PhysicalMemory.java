package dev.vmsim.core.phys;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Simulated physical memory: {@code frames} frames of 4 KiB, addressed by physical address.
 *
 * <p>Word accesses must be 8-byte aligned. Plain, acquire/release and volatile forms and
 * compare-and-set are provided because page-table entries live here and are read by hardware
 * walkers without locks.
 *
 * <p>A frame that was never written, or was {@link #zeroFrame zeroed}, reads as zero.
 *
 * <p>SKELETON implementation (heap, one byte[] per frame, allocated on first write); [1/6] replaces
 * it with chunked off-heap Agrona buffers and sparse zeroing behind the same API.
 */
public final class PhysicalMemory {
    private static final VarHandle LONGS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final long frames;
    private final AtomicReferenceArray<byte[]> data;

    public PhysicalMemory(final long frames) {
        if (frames <= 0 || frames > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("frames out of range: " + frames);
        }
        this.frames = frames;
        this.data = new AtomicReferenceArray<>((int) frames);
    }

    public long frames() {
        return frames;
    }

    private byte[] frameForRead(final long pa) {
        return data.get(checkedPfn(pa));
    }

    private byte[] frameForWrite(final long pa) {
        final int pfn = checkedPfn(pa);
        byte[] f = data.get(pfn);
        if (f == null) {
            final byte[] fresh = new byte[Pfn.PAGE_SIZE];
            f = data.compareAndExchange(pfn, null, fresh);
            if (f == null) {
                f = fresh;
            }
        }
        return f;
    }

    private int checkedPfn(final long pa) {
        final long pfn = pa >>> Pfn.PAGE_SHIFT;
        if (pa < 0 || pfn >= frames) {
            throw new IndexOutOfBoundsException("physical address 0x" + Long.toHexString(pa));
        }
        return (int) pfn;
    }

    private static int off(final long pa) {
        return (int) (pa & (Pfn.PAGE_SIZE - 1));
    }

    public long getLong(final long pa) {
        final byte[] f = frameForRead(pa);
        return f == null ? 0 : (long) LONGS.get(f, off(pa));
    }

    public void putLong(final long pa, final long value) {
        LONGS.set(frameForWrite(pa), off(pa), value);
    }

    public long getLongAcquire(final long pa) {
        final byte[] f = frameForRead(pa);
        return f == null ? 0 : (long) LONGS.getAcquire(f, off(pa));
    }

    public void putLongRelease(final long pa, final long value) {
        LONGS.setRelease(frameForWrite(pa), off(pa), value);
    }

    public long getLongVolatile(final long pa) {
        final byte[] f = frameForRead(pa);
        return f == null ? 0 : (long) LONGS.getVolatile(f, off(pa));
    }

    public void putLongVolatile(final long pa, final long value) {
        LONGS.setVolatile(frameForWrite(pa), off(pa), value);
    }

    public boolean compareAndSetLong(final long pa, final long expected, final long update) {
        return LONGS.compareAndSet(frameForWrite(pa), off(pa), expected, update);
    }

    public byte getByte(final long pa) {
        final byte[] f = frameForRead(pa);
        return f == null ? 0 : f[off(pa)];
    }

    public void putByte(final long pa, final byte value) {
        frameForWrite(pa)[off(pa)] = value;
    }

    /** Makes the frame read as zero (lazily: no 4 KiB memset is required of an implementation). */
    public void zeroFrame(final long pfn) {
        data.set(checkedPfn(Pfn.physAddr(pfn)), null);
    }

    /** Copies one whole frame (copy_user_highpage). */
    public void copyFrame(final long srcPfn, final long dstPfn) {
        final byte[] src = frameForRead(Pfn.physAddr(srcPfn));
        if (src == null) {
            zeroFrame(dstPfn);
        } else {
            System.arraycopy(src, 0, frameForWrite(Pfn.physAddr(dstPfn)), 0, Pfn.PAGE_SIZE);
        }
    }

    /** Host bytes currently backing simulated memory. */
    public long hostBytesBacked() {
        long n = 0;
        for (int i = 0; i < data.length(); i++) {
            if (data.get(i) != null) {
                n += Pfn.PAGE_SIZE;
            }
        }
        return n;
    }
}
