package lhv.platform.devices.cmos;

import lhv.platform.io.PortBus;
import lhv.platform.io.PortDevice;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.function.LongSupplier;

/**
 * The CMOS RAM and real-time clock (Motorola MC146818A register model) behind the index port 0x70
 * and data port 0x71. Bit 7 of the index port is the PC's NMI-disable bit.
 *
 * <p>Context: guest execution. The clock is deterministic: it starts at a fixed instant
 * ({@link #EPOCH} unless the machine gives another) and advances with the machine's virtual time,
 * so two runs of the same guest read the same dates.
 *
 * <p>Registers: time and date 0x00-0x09 in BCD or binary (status B bit 2) and 24- or 12-hour format
 * (status B bit 1), alarms 0x01/0x03/0x05 stored, status A (divider and rate, UIP never set because
 * an update is instantaneous), B (stored; SET freezes nothing since time is virtual), C (flags,
 * zero: no periodic/alarm/update interrupts yet), D (VRT: battery good), century 0x32, and the
 * memory-size bytes the BIOS keeps there, consistent with RAM as QEMU's pc machine fills them:
 * 0x15/0x16 base memory in KiB, 0x17/0x18 and 0x30/0x31 KiB above 1 MiB (at most 65535),
 * 0x34/0x35 64-KiB units above 16 MiB (at most 65535), 0x5B-0x5D 64-KiB units above 4 GiB,
 * 0x5F CPU count minus one. Writing a time register moves the clock.
 */
public final class Cmos implements PortDevice {
    public static final int INDEX_PORT = 0x70, DATA_PORT = 0x71;
    public static final int SECONDS = 0x00, SECONDS_ALARM = 0x01, MINUTES = 0x02, MINUTES_ALARM = 0x03,
            HOURS = 0x04, HOURS_ALARM = 0x05, DAY_OF_WEEK = 0x06, DAY_OF_MONTH = 0x07, MONTH = 0x08,
            YEAR = 0x09, STATUS_A = 0x0A, STATUS_B = 0x0B, STATUS_C = 0x0C, STATUS_D = 0x0D, CENTURY = 0x32;
    public static final int NMI_DISABLE = 0x80;
    public static final int B_24HOUR = 0x02, B_BINARY = 0x04;
    /** Start of guest time: 2025-01-01 00:00:00 UTC. */
    public static final LocalDateTime EPOCH = LocalDateTime.of(2025, 1, 1, 0, 0, 0);

    private final byte[] ram = new byte[128];
    private final LongSupplier nanos;
    private final LocalDateTime start;
    private long offsetSeconds;
    private int index;
    private boolean nmiDisabled;

    public Cmos(long ramSize, int cpus, LongSupplier nanos) {
        this(ramSize, cpus, nanos, EPOCH);
    }

    public Cmos(long ramSize, int cpus, LongSupplier nanos, LocalDateTime start) {
        this.nanos = nanos;
        this.start = start;
        ram[STATUS_A] = 0x26;      // 32.768 kHz time base, 1024 Hz periodic rate (BIOS default)
        ram[STATUS_B] = B_24HOUR;  // 24-hour, BCD, no interrupts enabled
        ram[STATUS_D] = (byte) 0x80;
        long kib = 1024;
        int base = (int) Math.min(ramSize / kib, 640);
        set16(0x15, base);
        int ext = (int) Math.min(ramSize > (1L << 20) ? (ramSize - (1L << 20)) / kib : 0, 65535);
        set16(0x17, ext);
        set16(0x30, ext);
        int above16 = (int) Math.min(ramSize > (16L << 20) ? (ramSize - (16L << 20)) / (64 * kib) : 0, 65535);
        set16(0x34, above16);
        long above4g = ramSize > (4L << 30) ? (ramSize - (4L << 30)) / (64 * kib) : 0;
        ram[0x5B] = (byte) above4g;
        ram[0x5C] = (byte) (above4g >>> 8);
        ram[0x5D] = (byte) (above4g >>> 16);
        ram[0x5F] = (byte) (cpus - 1);
    }

    private void set16(int reg, int v) {
        ram[reg] = (byte) v;
        ram[reg + 1] = (byte) (v >>> 8);
    }

    public void attach(PortBus bus) {
        bus.register(INDEX_PORT, 2, PortBus.BYTE, this);
    }

    @Override
    public int in(int port, int size) {
        if (port == INDEX_PORT) return 0xFF; // the index register is write-only
        return read(index);
    }

    @Override
    public void out(int port, int size, int value) {
        if (port == INDEX_PORT) {
            index = value & 0x7F;
            nmiDisabled = (value & NMI_DISABLE) != 0;
            return;
        }
        write(index, value & 0xFF);
    }

    /** True while the guest keeps NMIs masked through port 0x70 bit 7. */
    public boolean nmiDisabled() {
        return nmiDisabled;
    }

    private LocalDateTime now() {
        return start.plusSeconds(nanos.getAsLong() / 1_000_000_000L + offsetSeconds);
    }

    /** Reads CMOS register {@code reg} (0..127). */
    public int read(int reg) {
        switch (reg) {
            case SECONDS: return encode(now().getSecond());
            case MINUTES: return encode(now().getMinute());
            case HOURS: return encodeHour(now().getHour());
            case DAY_OF_WEEK: return encode(now().getDayOfWeek().getValue() % 7 + 1); // 1 = Sunday
            case DAY_OF_MONTH: return encode(now().getDayOfMonth());
            case MONTH: return encode(now().getMonthValue());
            case YEAR: return encode(now().getYear() % 100);
            case CENTURY: return encode(now().getYear() / 100);
            case STATUS_C: {
                int v = ram[STATUS_C] & 0xFF;
                ram[STATUS_C] = 0; // reading C clears the interrupt flags
                return v;
            }
            default: return ram[reg] & 0xFF;
        }
    }

    /** Writes CMOS register {@code reg}; time and date registers move the clock. */
    public void write(int reg, int value) {
        switch (reg) {
            case SECONDS -> moveTo(now().withSecond(clamp(decode(value), 0, 59)));
            case MINUTES -> moveTo(now().withMinute(clamp(decode(value), 0, 59)));
            case HOURS -> moveTo(now().withHour(clamp(decodeHour(value), 0, 23)));
            case DAY_OF_MONTH -> moveTo(now().withDayOfMonth(clamp(decode(value), 1, now().toLocalDate().lengthOfMonth())));
            case MONTH -> moveTo(now().withMonth(clamp(decode(value), 1, 12)));
            case YEAR -> moveTo(now().withYear(now().getYear() / 100 * 100 + clamp(decode(value), 0, 99)));
            case CENTURY -> moveTo(now().withYear(clamp(decode(value), 19, 99) * 100 + now().getYear() % 100));
            case DAY_OF_WEEK -> ram[reg] = (byte) value; // derived from the date; the write is kept nowhere else
            case STATUS_A -> ram[reg] = (byte) (value & 0x7F); // UIP is read-only
            case STATUS_C, STATUS_D -> { } // read-only
            default -> ram[reg] = (byte) value;
        }
    }

    private void moveTo(LocalDateTime t) {
        long elapsed = nanos.getAsLong() / 1_000_000_000L;
        offsetSeconds = ChronoUnit.SECONDS.between(start.plusSeconds(elapsed), t);
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    private boolean binary() {
        return (ram[STATUS_B] & B_BINARY) != 0;
    }

    private int encode(int v) {
        return binary() ? v : ((v / 10) << 4) | (v % 10);
    }

    private int decode(int v) {
        return binary() ? v : ((v >>> 4) & 0xF) * 10 + (v & 0xF);
    }

    /** Hours in 12-hour mode carry PM in bit 7; hour 0 reads as 12 AM. */
    private int encodeHour(int h) {
        if ((ram[STATUS_B] & B_24HOUR) != 0) return encode(h);
        int h12 = h % 12 == 0 ? 12 : h % 12;
        return encode(h12) | (h >= 12 ? 0x80 : 0);
    }

    private int decodeHour(int v) {
        if ((ram[STATUS_B] & B_24HOUR) != 0) return decode(v);
        int h = decode(v & 0x7F) % 12;
        return (v & 0x80) != 0 ? h + 12 : h;
    }

    /** Seconds since 1970 of the guest clock now (for tests and diagnostics). */
    public long epochSecond() {
        return now().toEpochSecond(ZoneOffset.UTC);
    }
}
