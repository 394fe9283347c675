package lhv.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Builds the {@code hv} commands' picocli models in code (picocli's programmatic API) rather than
 * from annotations, and reads the parsed values back out of them.
 *
 * <p>Why: reading annotations by reflection makes the JDK generate a proxy class per annotation
 * type at run time, which the AOT cache cannot keep; with picocli's annotation processing that was
 * about 60-80 ms of CPU on every start, a sixth of a short {@code hv run} (README, start-up time).
 * The usage texts are those the annotations gave (the cli tests compare them with recorded copies).
 *
 * <p>Context: Java host, the user's command line.
 */
final class CommandModel {
    private CommandModel() {
    }

    /**
     * A command run by {@code userObject} (a Runnable or Callable) with picocli's standard
     * {@code -h, --help} and {@code -V, --version} options, worded as picocli's own mixin words them.
     */
    static CommandSpec command(Object userObject, String name, String... description) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(userObject).name(name);
        spec.usageMessage().description(description);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                .description("Show this help message and exit.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print version information and exit.").build());
        return spec;
    }

    /** An option with a value of {@code type} shown as {@code label}. */
    static OptionSpec.Builder option(String label, Class<?> type, String description, String... names) {
        return OptionSpec.builder(names).paramLabel(label).type(type).description(description);
    }

    /** An option without a value: true when given. */
    static OptionSpec flag(String description, String... names) {
        return OptionSpec.builder(names).type(boolean.class).description(description).build();
    }

    /** The positional parameter at {@code index}; required when {@code arity} asks for at least one value. */
    static PositionalParamSpec positional(int index, String arity, String label, Class<?> type, String description) {
        PositionalParamSpec.Builder b = PositionalParamSpec.builder().index(String.valueOf(index)).arity(arity).paramLabel(label)
                .type(type).description(description);
        // picocli derives this from the arity only for annotated fields
        return b.required(b.arity().min() > 0).build();
    }

    /** The parsed value of option {@code name} (its default when not given; null without one). */
    @SuppressWarnings("unchecked")
    static <T> T value(CommandSpec spec, String name) {
        return (T) spec.findOption(name).getValue();
    }

    /** True when the flag {@code name} was given. */
    static boolean given(CommandSpec spec, String name) {
        return Boolean.TRUE.equals(spec.findOption(name).getValue());
    }

    /** The parsed value of the positional parameter at {@code index} (null when not given). */
    @SuppressWarnings("unchecked")
    static <T> T positionalValue(CommandSpec spec, int index) {
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (p.index().min() == index) return (T) p.getValue();
        }
        throw new IllegalArgumentException("no positional parameter " + index);
    }
}
