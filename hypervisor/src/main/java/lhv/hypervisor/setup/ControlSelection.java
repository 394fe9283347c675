package lhv.hypervisor.setup;

import lhv.hypervisor.config.ConfigError;
import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.config.VmConfig.Named;
import lhv.hypervisor.config.VmConfig.SeedMistake;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.controls.ControlBit;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.controls.PrimaryProcessorControl;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns the control names of a configuration into the five control words written to the VMCS:
 * each desired bit is looked up by its SDM name, then combined with the capability MSRs as SDM A.2
 * and 25.6 prescribe — every must-be-1 bit (allowed-0 setting = 1) is set, and a desired bit whose
 * allowed-1 setting is 0 is an error naming the control. The TRUE_ capability MSRs are used when
 * IA32_VMX_BASIC[55] is set (SDM A.3.1).
 *
 * <p>The seed's own formula, {@code (desired | allowed1) & (allowed0 | allowed1)} on the non-TRUE
 * MSRs, is available as the seed mistake "control-formula": it sets every allowed-1 bit.
 *
 * <p>Context: Java host, after the config is loaded and before any VMX instruction runs, so that an
 * unknown or unsupported control is one config error with its file position.
 */
public final class ControlSelection {

    /** The five control words, ready for VMWRITE. */
    public record Controls(int pin, int primary, int secondary, int exit, int entry) {
        public int of(ControlWord w) {
            return switch (w) {
                case PIN_BASED -> pin;
                case PRIMARY_PROCESSOR_BASED -> primary;
                case SECONDARY_PROCESSOR_BASED -> secondary;
                case EXIT -> exit;
                case ENTRY -> entry;
            };
        }
    }

    private ControlSelection() { }

    /** Resolves and combines; throws ConfigError (with the name's position) for unknown or unsupported controls. */
    public static Controls select(VmConfig config, VmxCapabilities caps) {
        VmConfig.Controls c = config.controls();
        int pin = desired(ControlWord.PIN_BASED, c.pin(), "controls.pin");
        int primary = desired(ControlWord.PRIMARY_PROCESSOR_BASED, c.primary(), "controls.primary");
        int secondary = desired(ControlWord.SECONDARY_PROCESSOR_BASED, c.secondary(), "controls.secondary");
        int exit = desired(ControlWord.EXIT, c.exit(), "controls.exit");
        int entry = desired(ControlWord.ENTRY, c.entry(), "controls.entry");

        // What the rest of the configuration needs, and the 64-bit guest and host (seed, SDM 25.7.1/25.8.1).
        if (secondary != 0) primary |= PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS.mask();
        // The hypervisor always provides both bitmaps, as the seed does; without "use MSR bitmaps"
        // every RDMSR/WRMSR would exit (SDM 26.1.3), so an empty trap list means "none exits".
        primary |= PrimaryProcessorControl.USE_IO_BITMAPS.mask();
        if ((caps.mayBeOne(ControlWord.PRIMARY_PROCESSOR_BASED) & PrimaryProcessorControl.USE_MSR_BITMAPS.mask()) != 0) {
            primary |= PrimaryProcessorControl.USE_MSR_BITMAPS.mask();
        }
        if (config.preemptionTimer() >= 0) {
            pin |= PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER.mask();
            // Save the remaining count at each exit so the value is a budget for the whole run,
            // not per entry (SDM 25.7.1, 27.5.2); only where the processor offers that control.
            if ((caps.mayBeOne(ControlWord.EXIT) & ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE.mask()) != 0) {
                exit |= ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE.mask();
            }
        }
        exit |= ExitControl.HOST_ADDRESS_SPACE_SIZE.mask();
        entry |= EntryControl.IA32E_MODE_GUEST.mask();

        if (config.seedMistakes().contains(SeedMistake.CONTROL_FORMULA)) {
            return new Controls(seedFormula(caps, ControlWord.PIN_BASED, pin),
                    seedFormula(caps, ControlWord.PRIMARY_PROCESSOR_BASED, primary),
                    seedFormula(caps, ControlWord.SECONDARY_PROCESSOR_BASED, secondary),
                    seedFormula(caps, ControlWord.EXIT, exit),
                    seedFormula(caps, ControlWord.ENTRY, entry));
        }
        checkAllowed(caps, ControlWord.PIN_BASED, pin, c.pin());
        checkAllowed(caps, ControlWord.PRIMARY_PROCESSOR_BASED, primary, c.primary());
        if (secondary != 0 && (caps.mayBeOne(ControlWord.PRIMARY_PROCESSOR_BASED) & PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS.mask()) == 0) {
            throw new ConfigError(c.secondary().getFirst().position(), "secondary controls need 'activate secondary controls', "
                    + "which this processor does not allow (IA32_VMX_PROCBASED_CTLS bit 63 = 0, SDM A.3.2)");
        }
        checkAllowed(caps, ControlWord.SECONDARY_PROCESSOR_BASED, secondary, c.secondary());
        checkAllowed(caps, ControlWord.EXIT, exit, c.exit());
        checkAllowed(caps, ControlWord.ENTRY, entry, c.entry());
        return new Controls(adjust(caps, ControlWord.PIN_BASED, pin),
                adjust(caps, ControlWord.PRIMARY_PROCESSOR_BASED, primary),
                adjust(caps, ControlWord.SECONDARY_PROCESSOR_BASED, secondary),
                adjust(caps, ControlWord.EXIT, exit),
                adjust(caps, ControlWord.ENTRY, entry));
    }

    /** SDM A.2: set the must-be-1 bits, keep the desired ones (already known to be allowed). */
    static int adjust(VmxCapabilities caps, ControlWord word, int desired) {
        return (desired | caps.mustBeOne(word)) & caps.mayBeOne(word);
    }

    /** The seed's formula on the MSR it reads (never the TRUE_ one): every allowed-1 bit ends up set. */
    static int seedFormula(VmxCapabilities caps, ControlWord word, int desired) {
        long msr = switch (word) {
            case PIN_BASED -> caps.pinBased;
            case PRIMARY_PROCESSOR_BASED -> caps.procBased;
            case SECONDARY_PROCESSOR_BASED -> caps.procBased2;
            case EXIT -> caps.exit;
            case ENTRY -> caps.entry;
        };
        int allowed0 = (int) msr, allowed1 = (int) (msr >>> 32);
        return (desired | allowed1) & (allowed0 | allowed1);
    }

    private static void checkAllowed(VmxCapabilities caps, ControlWord word, int value, List<Named> names) {
        int refused = value & ~caps.mayBeOne(word);
        if (refused == 0) return;
        int bit = Integer.numberOfTrailingZeros(refused);
        ControlBit b = word.bit(bit);
        String name = b != null ? b.sdmName() : "bit " + bit;
        VmConfig.Named where = null;
        for (Named n : names) if (b != null && resolve(word, n.name()) == b) where = n;
        int capMsr = caps.hasTrueControls() && word.trueCapabilityMsr >= 0 ? word.trueCapabilityMsr : word.capabilityMsr;
        throw new ConfigError(where == null ? VmConfigPositions.of(names) : where.position(),
                "control '" + name + "' (" + word.sdmName + " bit " + bit + ") is not allowed by this processor: "
                        + lhv.hypervisor.config.MsrNames.name(capMsr) + " allowed-1 bit " + (32 + bit) + " is 0 (SDM A.3)");
    }

    private static int desired(ControlWord word, List<Named> names, String where) {
        int bits = 0;
        for (Named n : names) {
            ControlBit b = resolve(word, n.name());
            if (b == null) {
                List<String> known = new ArrayList<>();
                for (ControlBit k : word.bits()) known.add(k.sdmName());
                throw new ConfigError(n.position(), "unknown control '" + n.name() + "' in " + where
                        + " (the " + word.sdmName + " are: " + String.join(", ", known) + ")");
            }
            bits |= b.mask();
        }
        return bits;
    }

    /** The control of {@code word} called {@code name}: its SDM name or enum name, ignoring case and punctuation. */
    public static ControlBit resolve(ControlWord word, String name) {
        String key = normalize(name);
        for (ControlBit b : word.bits()) {
            if (normalize(b.sdmName()).equals(key) || normalize(((Enum<?>) b).name()).equals(key)) return b;
        }
        return null;
    }

    private static String normalize(String s) {
        StringBuilder out = new StringBuilder();
        for (char ch : s.toUpperCase(Locale.ROOT).toCharArray()) if (Character.isLetterOrDigit(ch)) out.append(ch);
        return out.toString();
    }

    /** Position to report when no single name is to blame. */
    private static final class VmConfigPositions {
        static lhv.hypervisor.config.Position of(List<Named> names) {
            return names.isEmpty() ? lhv.hypervisor.config.Position.NONE : names.getFirst().position();
        }
    }
}
