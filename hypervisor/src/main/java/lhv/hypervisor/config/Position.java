package lhv.hypervisor.config;

/** Where a value came from: a file and Jackson's 1-based line and column. */
public record Position(String file, int line, int column) {
    /** For values that came from the built-in defaults rather than a file. */
    public static final Position NONE = new Position("(defaults)", 0, 0);

    @Override
    public String toString() {
        return line > 0 ? file + ":" + line + ":" + column : file;
    }
}
