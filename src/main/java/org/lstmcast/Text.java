package org.lstmcast;

/** Words around counts in messages, so that a count of one reads "1 step" and not "1 steps". */
public final class Text {
    private Text() {
    }

    /** {@code n} and the noun, in the plural unless {@code n} is 1: "1 step", "3 steps", "2 series", "0 windows". */
    public static String plural(long n, String noun) {
        return n + " " + (n == 1 ? noun : pluralOf(noun));
    }

    /** As {@link #plural(long, String)} with an irregular plural given. */
    public static String plural(long n, String singular, String plural) {
        return n + " " + (n == 1 ? singular : plural);
    }

    /** The plural of a noun, or of the last word of a phrase ("validation forecast" → "validation forecasts"). */
    static String pluralOf(String noun) {
        if (noun.endsWith("series") || noun.endsWith("data")) {
            return noun;
        }
        if (noun.endsWith("s") || noun.endsWith("x") || noun.endsWith("ch") && !noun.endsWith("epoch") || noun.endsWith("sh")) {
            return noun + "es";
        }
        if (noun.length() > 1 && noun.endsWith("y") && "aeiou".indexOf(noun.charAt(noun.length() - 2)) < 0) {
            return noun.substring(0, noun.length() - 1) + "ies";
        }
        return noun + "s";
    }

    /**
     * The possessive of a quoted name: {@code 'visitors''s} reads badly, so a name ending in s takes a bare apostrophe,
     * as English does ({@code visitors'}), others 's ({@code price's}).
     */
    public static String possessive(String name) {
        return name.endsWith("s") || name.endsWith("S") ? name + "'" : name + "'s";
    }
}
