package lhv.platform.devices.fwcfg;

import lhv.platform.io.PortBus;
import lhv.platform.io.PortDevice;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * QEMU's firmware configuration interface (docs/specs/fw_cfg.rst), the legacy port-I/O variant of
 * the pc machine: a 16-bit selector register at 0x510 and a byte-wide data register at 0x511 that
 * streams the selected item (QEMU decodes the two ports as one window, see {@link #attach}). Bare-metal test kernels read it to learn the CPU count and RAM size.
 *
 * <p>Context: guest execution.
 *
 * <p>Items served: signature "QEMU", the feature ID (bit 0: traditional interface; no DMA), UUID (all
 * zeros), RAM size, CPU count and maximum CPU count, "nographic", boot menu (off) and an empty file
 * directory. Every other selector reads as zeros, as QEMU does for items it does not have. Writes
 * to the data register are ignored (QEMU 2.4 and later).
 */
public final class FwCfg implements PortDevice {
    public static final int SELECTOR_PORT = 0x510, DATA_PORT = 0x511;

    // Well-known selector keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h).
    public static final int SIGNATURE = 0x00, ID = 0x01, UUID = 0x02, RAM_SIZE = 0x03, NOGRAPHIC = 0x04,
            NB_CPUS = 0x05, MACHINE_ID = 0x06, BOOT_MENU = 0x0E, MAX_CPUS = 0x0F, FILE_DIR = 0x19;
    /** Selector bits that are not part of the key: bit 14 (write channel), bit 15 (architecture-local table). */
    public static final int WRITE_CHANNEL = 0x4000, ARCH_LOCAL = 0x8000, ENTRY_MASK = 0x3FFF;
    /** ID bit 0: the traditional (port) interface is available. */
    public static final int ID_TRADITIONAL = 1;

    private final Map<Integer, byte[]> items = new HashMap<>();
    private int selector;
    private int offset;

    public FwCfg(long ramSize, int cpus) {
        items.put(SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
        items.put(ID, le(ID_TRADITIONAL, 4));
        items.put(UUID, new byte[16]);
        items.put(RAM_SIZE, le(ramSize, 8));
        items.put(NOGRAPHIC, le(1, 2));
        items.put(NB_CPUS, le(cpus, 2));
        items.put(MAX_CPUS, le(cpus, 2));
        items.put(BOOT_MENU, le(0, 2));
        items.put(FILE_DIR, new byte[4]); // big-endian count of files: none
    }

    private static byte[] le(long v, int n) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
        return java.util.Arrays.copyOf(b.array(), n);
    }

    /**
     * Claims 0x510-0x511 as one window, decoded the way QEMU's x86 port variant decodes it: a 16-bit
     * write selects an item; byte reads at either port stream the selected item; byte writes are
     * data writes (ignored); a 16-bit read is not a valid access and reads as all ones.
     */
    public void attach(PortBus bus) {
        bus.register(SELECTOR_PORT, 2, PortBus.BYTE | PortBus.WORD, this);
    }

    @Override
    public int in(int port, int size) {
        if (size != 1) return -1;
        byte[] item = (selector & ARCH_LOCAL) != 0 ? null : items.get(selector & ENTRY_MASK);
        if (item == null || offset >= item.length) return 0; // past the end or no such item: zeros
        return item[offset++] & 0xFF;
    }

    @Override
    public void out(int port, int size, int value) {
        if (size == 2 && port == SELECTOR_PORT) {
            selector = value & 0xFFFF;
            offset = 0;
        }
        // Byte writes are data-register writes, which QEMU ignores since 2.4.
    }
}
