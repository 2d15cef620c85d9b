package org.lstmcast.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Range checks on parsed options, each failure one usage error that names the option, the rule and the value, as
 * {@code --port must be between 0 and 65535, got -5}.
 */
final class Checks {
    private Checks() {
    }

    static void between(CommandSpec spec, String option, long value, long min, long max) {
        if (value < min || value > max) {
            fail(spec, option, "must be between " + min + " and " + max, value);
        }
    }

    static void between(CommandSpec spec, String option, double value, double min, double max) {
        if (!(value >= min && value <= max)) {
            fail(spec, option, "must be between " + number(min) + " and " + number(max), value);
        }
    }

    static void atLeast(CommandSpec spec, String option, long value, long min) {
        if (value < min) {
            fail(spec, option, "must be at least " + min, value);
        }
    }

    static void atLeast(CommandSpec spec, String option, double value, double min) {
        if (!(value >= min)) {
            fail(spec, option, "must be at least " + number(min), value);
        }
    }

    static void positive(CommandSpec spec, String option, double value) {
        if (!(value > 0)) {
            fail(spec, option, "must be greater than 0", value);
        }
    }

    /** Every element of a list option lies in {@code [min, max]}; the message names the first that does not. */
    static void eachBetween(CommandSpec spec, String option, Iterable<Integer> values, int min, int max) {
        for (int v : values) {
            if (v < min || v > max) {
                throw new CommandLine.ParameterException(spec.commandLine(), option + " values must be between " + min
                        + " and " + max + ", got " + v);
            }
        }
    }

    private static void fail(CommandSpec spec, String option, String rule, Object value) {
        throw new CommandLine.ParameterException(spec.commandLine(), option + " " + rule + ", got " + typed(spec, option, value));
    }

    /** The value as the user wrote it (so {@code 1e-3} is not echoed as {@code 0.001}), else as held. */
    private static String typed(CommandSpec spec, String option, Object value) {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        CommandLine.Model.OptionSpec matched = parsed == null ? null : parsed.matchedOption(option);
        if (matched != null && !matched.stringValues().isEmpty()) {
            return matched.stringValues().get(matched.stringValues().size() - 1);
        }
        return value instanceof Double d ? number(d) : String.valueOf(value);
    }

    private static String number(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
