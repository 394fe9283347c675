package lhv.platform.loader;

import lhv.platform.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;

/**
 * What a loader will write into guest RAM, gathered first and checked as a whole (inside RAM, no
 * overlaps between pieces) before one byte is written: the load either happens completely or not
 * at all.
 *
 * <p>Context: Java host, while loading an image.
 */
final class LoadPlan {
    /** {@code length} bytes at {@code address}: {@code data[from, from+dataLength)} then zeros. */
    record Piece(String what, long address, long length, byte[] data, int from, int dataLength) { }

    private final List<Piece> pieces = new ArrayList<>();
    private final String imageName;

    LoadPlan(String imageName) {
        this.imageName = imageName;
    }

    void bytes(String what, long address, byte[] data) {
        pieces.add(new Piece(what, address, data.length, data, 0, data.length));
    }

    void copy(String what, long address, long length, byte[] data, int from, int dataLength) {
        pieces.add(new Piece(what, address, length, data, from, dataLength));
    }

    /** Checks every piece against RAM and against the others. */
    void check(GuestMemory mem) throws LoadException {
        for (Piece p : pieces) {
            if (p.address < 0 || p.length < 0 || p.address + p.length > mem.ramSize() || p.address + p.length < p.address) {
                throw new LoadException(String.format("%s: %s at [%#x, %#x) does not fit in guest RAM (%d MiB)",
                        imageName, p.what, p.address, p.address + p.length, mem.ramSize() >> 20));
            }
        }
        for (int i = 0; i < pieces.size(); i++) {
            for (int j = i + 1; j < pieces.size(); j++) {
                Piece a = pieces.get(i), b = pieces.get(j);
                if (a.length > 0 && b.length > 0 && a.address < b.address + b.length && b.address < a.address + a.length) {
                    throw new LoadException(String.format("%s: %s at [%#x, %#x) overlaps %s at [%#x, %#x)",
                            imageName, a.what, a.address, a.address + a.length, b.what, b.address, b.address + b.length));
                }
            }
        }
    }

    /** Writes every piece (call after {@link #check}). */
    void apply(GuestMemory mem) {
        for (Piece p : pieces) {
            if (p.dataLength > 0) mem.load(p.address, p.data, p.from, p.dataLength);
            if (p.length > p.dataLength) mem.fill(p.address + p.dataLength, p.length - p.dataLength, (byte) 0);
        }
    }
}
