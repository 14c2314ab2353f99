package dev.vmsim.core.mm;

/** errno values (include/uapi/asm-generic/errno-base.h) and their names. System calls return -errno. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int EOVERFLOW = 75;
    /** EHWPOISON (include/uapi/asm-generic/errno.h): what GUP reports for a poisoned page with FOLL_HWPOISON. */
    public static final int EHWPOISON = 133;
    /**
     * ERESTARTNOINTR (include/linux/errno.h): never seen by user space; the signal code restarts the
     * system call. restart_syscall returns it (MADV_GUARD_INSTALL raced by faults too often).
     */
    public static final int ERESTARTNOINTR = 513;

    private Errno() {}

    /** "ENOMEM" for 12 (or -12). */
    public static String name(final long errno) {
        switch ((int) Math.abs(errno)) {
            case EPERM:
                return "EPERM";
            case ENOENT:
                return "ENOENT";
            case EINTR:
                return "EINTR";
            case EAGAIN:
                return "EAGAIN";
            case ENOMEM:
                return "ENOMEM";
            case EACCES:
                return "EACCES";
            case EFAULT:
                return "EFAULT";
            case EBUSY:
                return "EBUSY";
            case EEXIST:
                return "EEXIST";
            case EINVAL:
                return "EINVAL";
            case EOVERFLOW:
                return "EOVERFLOW";
            case EHWPOISON:
                return "EHWPOISON";
            case ERESTARTNOINTR:
                return "ERESTARTNOINTR";
            default:
                return "E" + Math.abs(errno);
        }
    }

    /** A system-call return value in [-4095, -1] is an error (IS_ERR_VALUE). */
    public static boolean isError(final long ret) {
        return ret < 0 && ret >= -4095;
    }
}
