package dev.vmsim.bench;

/**
 * A tiny streaming JSON writer: objects, arrays, strings, numbers and booleans, written in order
 * into a {@link StringBuilder}. It inserts the commas; the caller keeps begin/end balanced.
 */
public final class JsonWriter {
    private final StringBuilder out = new StringBuilder();
    /** True when the next value at the current nesting level needs a comma before it. */
    private boolean needComma;

    public JsonWriter beginObject() {
        comma();
        out.append('{');
        needComma = false;
        return this;
    }

    public JsonWriter endObject() {
        out.append('}');
        needComma = true;
        return this;
    }

    public JsonWriter beginArray() {
        comma();
        out.append('[');
        needComma = false;
        return this;
    }

    public JsonWriter endArray() {
        out.append(']');
        needComma = true;
        return this;
    }

    /** The name of the next member of the current object. */
    public JsonWriter name(final String name) {
        comma();
        string(name);
        out.append(':');
        needComma = false;
        return this;
    }

    public JsonWriter value(final String s) {
        comma();
        if (s == null) {
            out.append("null");
        } else {
            string(s);
        }
        needComma = true;
        return this;
    }

    public JsonWriter value(final long n) {
        comma();
        out.append(n);
        needComma = true;
        return this;
    }

    /** A finite double; NaN and infinities (not JSON) are written as null. */
    public JsonWriter value(final double d) {
        comma();
        out.append(Double.isFinite(d) ? Double.toString(d) : "null");
        needComma = true;
        return this;
    }

    public JsonWriter value(final boolean b) {
        comma();
        out.append(b);
        needComma = true;
        return this;
    }

    /** Splices already-written JSON in as one value. */
    public JsonWriter raw(final String json) {
        comma();
        out.append(json);
        needComma = true;
        return this;
    }

    private void comma() {
        if (needComma) {
            out.append(',');
        }
    }

    private void string(final String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                default:
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
